"""Query endpoint: grammar, paging, inactive filtering, limits, minorversion floor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.errors import QBOFault
from sandboxes.qbo.query_grammar import parse_query

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QBOSandbox]:
    path: Path = tmp_path_factory.mktemp("qbo-query")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=11, transactions=600)], data_dir=path) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: QBOSandbox) -> Iterator[SandboxClient]:
    c = SandboxClient(sandbox)
    yield c
    c.close()


def test_parser_reads_full_grammar() -> None:
    q = parse_query(
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2026-10-01T09:15:02-07:00' "
        "AND CustomerRef IN ('1', '2') AND DocNumber LIKE '%10%' ORDERBY MetaData.LastUpdatedTime DESC, Id "
        "STARTPOSITION 11 MAXRESULTS 50"
    )
    assert q.entity == "Invoice"
    assert [(c.field, c.op) for c in q.where] == [
        ("MetaData.LastUpdatedTime", ">="), ("CustomerRef", "in"), ("DocNumber", "like")]
    assert q.order == [("MetaData.LastUpdatedTime", True), ("Id", False)]
    assert (q.start_position, q.max_results) == (11, 50)


@pytest.mark.parametrize("text", [
    "select * from Invoice where Id = '1' or Id = '2'",
    "select * from Invoice where",
    "select * Invoice",
    "select * from Invoice maxresults ten",
    "select * from Invoice where Id = '1",
    "",
])
def test_malformed_query_is_a_parser_fault(client: SandboxClient, text: str) -> None:
    response = client.query(text)
    assert response.status_code == 400
    fault = response.json()["Fault"]
    assert fault["type"] == "ValidationFault"
    error = fault["Error"][0]
    assert error["code"] == "4000"
    assert error["Message"] == "Error parsing query"
    assert error["Detail"].startswith("QueryParserError:")
    assert "time" in response.json()


def test_entity_property_and_keyword_case_do_not_matter(client: SandboxClient) -> None:
    # Intuit's query docs write Metadata.LastUpdatedTime; the element is MetaData. Both work there.
    canonical = client.query_json(
        "select * from Invoice where MetaData.LastUpdatedTime >= '2020-01-01T00:00:00Z' "
        "orderby MetaData.LastUpdatedTime startposition 1 maxresults 20")["QueryResponse"]
    lenient = client.query_json(
        "SELECT * FROM invoice WHERE Metadata.LastUpdatedTime >= '2020-01-01T00:00:00Z' "
        "ORDER BY metadata.lastupdatedtime ASC STARTPOSITION 1 MAXRESULTS 20")["QueryResponse"]
    assert [o["Id"] for o in lenient["Invoice"]] == [o["Id"] for o in canonical["Invoice"]]
    assert len(canonical["Invoice"]) == 20


def test_unknown_entity_is_a_parser_fault(client: SandboxClient) -> None:
    response = client.query("select * from Invoices")
    assert response.status_code == 400
    assert "Invalid entity: Invoices" in response.json()["Fault"]["Error"][0]["Detail"]


def test_property_names_match_in_any_case(client: SandboxClient) -> None:
    body = client.query_json("select * from Customer where displayname like '%a%' and ACTIVE = true maxresults 5")
    assert body["QueryResponse"]["Customer"]


def test_unknown_property_is_a_validation_fault(client: SandboxClient) -> None:
    response = client.query("select * from Invoice where Colour = 'red'")
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert (error["code"], error["Message"]) == ("4001", "Invalid query")


def test_maxresults_over_1000_is_refused(client: SandboxClient) -> None:
    response = client.query("select * from Invoice maxresults 1001")
    assert response.status_code == 400
    assert "Max allowed value is 1000" in response.json()["Fault"]["Error"][0]["Detail"]


def test_default_page_is_100_and_startposition_is_one_based(client: SandboxClient) -> None:
    first = client.query_json("select * from Bill")["QueryResponse"]
    assert first["maxResults"] == 100 and first["startPosition"] == 1
    assert first["Bill"][0]["Id"] == "1"
    second = client.query_json("select * from Bill startposition 2 maxresults 3")["QueryResponse"]
    assert [b["Id"] for b in second["Bill"]] == ["2", "3", "4"]


def test_paging_by_last_updated_time_is_complete_and_stable(client: SandboxClient, sandbox: QBOSandbox) -> None:
    total = sandbox.realm().count("Invoice")
    seen: list[str] = []
    position = 1
    while True:
        page = client.query_json(
            "select * from Invoice where MetaData.LastUpdatedTime >= '2000-01-01' "
            f"orderby MetaData.LastUpdatedTime startposition {position} maxresults 37"
        )["QueryResponse"]
        batch = page.get("Invoice", [])
        seen.extend(i["Id"] for i in batch)
        if len(batch) < 37:
            break
        position += 37
    assert len(seen) == total == len(set(seen))


def test_last_updated_filter_compares_instants_across_offsets(client: SandboxClient) -> None:
    rows = client.query_json("select * from Invoice orderby MetaData.LastUpdatedTime maxresults 1000")["QueryResponse"]["Invoice"]
    stamps = [datetime.fromisoformat(r["MetaData"]["LastUpdatedTime"]) for r in rows]
    assert {s.utcoffset() for s in stamps} == {timedelta(hours=-7), timedelta(hours=-8)}
    pivot = stamps[len(stamps) // 2]
    expected = sum(1 for s in stamps if s >= pivot)
    as_utc = pivot.astimezone(UTC).isoformat()
    count = client.query_json(
        f"select count(*) from Invoice where MetaData.LastUpdatedTime >= '{as_utc}'"
    )["QueryResponse"]["totalCount"]
    assert count == expected


def test_inactive_list_records_only_when_asked(client: SandboxClient, sandbox: QBOSandbox) -> None:
    default = client.query_json("select count(*) from Customer")["QueryResponse"]["totalCount"]
    everything = client.query_json("select count(*) from Customer where Active in (true, false)")["QueryResponse"]["totalCount"]
    inactive = client.query_json("select * from Customer where Active = false")["QueryResponse"]["Customer"]
    assert everything == sandbox.realm().count("Customer")
    assert inactive and all(c["Active"] is False for c in inactive)
    assert default + len(inactive) == everything


def test_in_and_like_filters(client: SandboxClient) -> None:
    rows = client.query_json("select * from Invoice where Id in ('3', '5', '8')")["QueryResponse"]["Invoice"]
    assert [r["Id"] for r in rows] == ["3", "5", "8"]
    like = client.query_json("select * from Customer where DisplayName like '%#1%' and Active in (true, false) maxresults 1000")
    names = [c["DisplayName"] for c in like["QueryResponse"]["Customer"]]
    assert names and all("#1" in n for n in names)


def test_numeric_comparison_with_string_literal(client: SandboxClient) -> None:
    rows = client.query_json("select * from Invoice where Balance > '0.0' maxresults 1000")["QueryResponse"]["Invoice"]
    assert rows and all(Decimal(str(r["Balance"])) > 0 for r in rows)


def test_minorversion_below_floor_is_served_as_75(client: SandboxClient, sandbox: QBOSandbox) -> None:
    before = sandbox.stats().minorversions[75]
    response = client.get("query", {"query": "select * from Term", "minorversion": "4"})
    assert response.status_code == 200
    assert sandbox.stats().minorversions[75] == before + 1


def test_money_is_exact_decimal_text(client: SandboxClient) -> None:
    response = client.query("select * from Invoice maxresults 20")
    assert '"TotalAmt":' in response.text
    import json
    parsed = json.loads(response.text, parse_float=Decimal)
    for invoice in parsed["QueryResponse"]["Invoice"]:
        total = invoice["TotalAmt"]
        assert isinstance(total, Decimal) and total == total.quantize(Decimal("0.01"))
        detail = [line["Amount"] for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        assert sum(detail) == total


def test_read_by_id_and_missing_id(client: SandboxClient) -> None:
    ok = client.get("invoice/2")
    assert ok.status_code == 200 and ok.json()["Invoice"]["Id"] == "2"
    missing = client.get("invoice/999999")
    assert missing.status_code == 400
    assert missing.json()["Fault"]["Error"][0]["code"] == "610"
    info = client.get(f"companyinfo/{REALM}").json()["CompanyInfo"]
    assert info["CompanyName"]


def test_parser_fault_carries_query_position() -> None:
    with pytest.raises(QBOFault) as caught:
        parse_query("select * from Invoice where Id = '1' or Id = '2'")
    assert "column 38" in caught.value.detail


def test_query_can_be_posted_as_text_body(client: SandboxClient, sandbox: QBOSandbox) -> None:
    response = client.session.post(
        f"{sandbox.api_url(REALM)}/query", params={"minorversion": "75"}, data="select count(*) from Term",
        headers={"Authorization": f"Bearer {client.access_token}", "Accept": "application/json",
                 "Content-Type": "application/text"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["QueryResponse"]["totalCount"] == 4


def test_star_with_named_properties_answers_every_property(client: SandboxClient) -> None:
    # python-quickbooks asks `SELECT *, Sku FROM Item`; Intuit answers it like `select *`.
    plain = client.query_json("select * from Item maxresults 3")["QueryResponse"]["Item"]
    starred = client.query_json("SELECT *, Sku FROM Item MAXRESULTS 3")["QueryResponse"]["Item"]
    assert starred == plain
    assert client.query("select *, Colour from Item").status_code == 400
