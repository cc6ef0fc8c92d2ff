"""The Salesforce sandbox: client-credentials OAuth, described objects, upserts by external id,
sObject Collections, Bulk API 2.0, SOQL look-ups, sessions and limits."""

from __future__ import annotations

import requests
from sandboxes.loopback_http import loopback_session
from sandboxes.salesforce import SalesforceSandbox, fixtures

V = "/services/data/v62.0"

salesforce_sandbox = fixtures.salesforce_sandbox


def _http(sandbox: SalesforceSandbox) -> requests.Session:
    return loopback_session(sandbox.ca_file)


def _login(sandbox: SalesforceSandbox) -> requests.Session:
    http = _http(sandbox)
    body = http.post(f"{sandbox.url}/services/oauth2/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret}).json()
    assert body["instance_url"] == sandbox.url
    http.headers["Authorization"] = f"Bearer {body['access_token']}"
    return http


def _account(ext: str, **fields: object) -> dict[str, object]:
    return {"attributes": {"type": "Account"}, "QuickBooks_Id__c": ext, "Name": f"Account {ext}", **fields}


def test_token_endpoint_refuses_wrong_client_secret(salesforce_sandbox):
    response = _http(salesforce_sandbox).post(f"{salesforce_sandbox.url}/services/oauth2/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": salesforce_sandbox.client_id, "client_secret": "x"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_expired_session_answers_invalid_session_id(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    salesforce_sandbox.expire_sessions()
    response = http.get(f"{salesforce_sandbox.url}{V}/sobjects/Account/describe", timeout=10)
    assert response.status_code == 401 and response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_describe_lists_the_external_id_field(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    fields = {f["name"]: f for f in http.get(f"{salesforce_sandbox.url}{V}/sobjects/Account/describe",
                                              timeout=10).json()["fields"]}
    assert fields["QuickBooks_Id__c"]["externalId"] is True and fields["Name"]["nillable"] is False


def test_collection_upsert_creates_then_updates_and_reports_per_record_errors(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Account/QuickBooks_Id__c"
    first = http.patch(url, json={"allOrNone": False, "records": [_account("a"), _account("b", Bogus__c=1)]},
                       timeout=10).json()
    assert first[0]["success"] and first[0]["created"]
    assert first[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    second = http.patch(url, json={"allOrNone": False, "records": [_account("a", Phone="555")]}, timeout=10).json()
    assert second[0]["success"] and not second[0]["created"]
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "a")["Phone"] == "555"


def test_all_or_none_rolls_back_the_whole_request(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Account/QuickBooks_Id__c"
    results = http.patch(url, json={"allOrNone": True, "records": [_account("a"), _account("b", Name=None)]},
                         timeout=10).json()
    assert not any(r["success"] for r in results)
    assert salesforce_sandbox.org.records["Account"] == {}


def test_more_than_200_records_in_a_collection_is_refused(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Account/QuickBooks_Id__c"
    response = http.patch(url, json={"records": [_account(str(i)) for i in range(201)]}, timeout=10)
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_restricted_picklist_and_missing_parent_reference_are_rejected(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Opportunity/QuickBooks_Id__c"
    opp = {"attributes": {"type": "Opportunity"}, "QuickBooks_Id__c": "o", "Name": "Inv", "CloseDate": "2026-11-01"}
    results = http.patch(url, timeout=10, json={"records": [
        {**opp, "StageName": "Paid"},
        {**opp, "QuickBooks_Id__c": "o2", "StageName": "Closed Won", "Account": {"QuickBooks_Id__c": "nobody"}}]}).json()
    assert results[0]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "Foreign key external ID: nobody not found" in results[1]["errors"][0]["message"]


def test_soql_in_and_like_filters(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Account/QuickBooks_Id__c"
    http.patch(url, json={"records": [_account("x:1"), _account("x:2"), _account("y:1")]}, timeout=10)
    def ids(q: str) -> list[str]:
        body = http.get(f"{salesforce_sandbox.url}{V}/query", params={"q": q}, timeout=10).json()
        return sorted(r["QuickBooks_Id__c"] for r in body["records"])
    assert ids("SELECT Id, QuickBooks_Id__c FROM Account WHERE QuickBooks_Id__c IN ('x:1', 'y:1')") == ["x:1", "y:1"]
    assert ids("SELECT Id, QuickBooks_Id__c FROM Account WHERE QuickBooks_Id__c LIKE 'x:%'") == ["x:1", "x:2"]
    bad = http.get(f"{salesforce_sandbox.url}{V}/query", params={"q": "SELECT Nope FROM Account"}, timeout=10)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_bulk_ingest_job_upserts_csv_and_reports_failures(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    base = f"{salesforce_sandbox.url}{V}/jobs/ingest"
    job = http.post(base, json={"object": "Account", "operation": "upsert", "externalIdFieldName": "QuickBooks_Id__c",
                                "contentType": "CSV", "lineEnding": "LF"}, timeout=10).json()
    csv_body = "QuickBooks_Id__c,Name,Active__c\nk1,Ada,true\nk2,,false\n"
    upload = http.put(f"{base}/{job['id']}/batches", data=csv_body, headers={"Content-Type": "text/csv"}, timeout=10)
    assert upload.status_code == 201
    done = http.patch(f"{base}/{job['id']}", json={"state": "UploadComplete"}, timeout=10).json()
    assert done["state"] == "JobComplete" and done["numberRecordsFailed"] == 1
    failed = http.get(f"{base}/{job['id']}/failedResults/", timeout=10).text
    assert "REQUIRED_FIELD_MISSING" in failed and "k2" in failed
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "k1")["Active__c"] is True


def test_spent_daily_allowance_answers_request_limit_exceeded(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    salesforce_sandbox.daily_api_requests = 1
    url = f"{salesforce_sandbox.url}{V}/sobjects/Account/describe"
    first, second = http.get(url, timeout=10), http.get(url, timeout=10)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/1"
    assert second.status_code == 403 and second.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def _upsert(http: requests.Session, sandbox: SalesforceSandbox, sobject: str, *records: dict[str, object]):
    url = f"{sandbox.url}{V}/composite/sobjects/{sobject}/QuickBooks_Id__c"
    body = {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in records]}
    return http.patch(url, json=body, timeout=10).json()


def test_an_order_item_must_use_an_entry_of_its_orders_price_book(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    org = salesforce_sandbox.org
    standard = org.standard_pricebook_id
    custom = org._insert("Pricebook2", {"Name": "Wholesale", "IsStandard": False, "IsActive": True})
    _upsert(http, salesforce_sandbox, "Account", {"QuickBooks_Id__c": "a", "Name": "A"})
    _upsert(http, salesforce_sandbox, "Product2", {"QuickBooks_Id__c": "p", "Name": "P", "IsActive": True})
    entry = {"QuickBooks_Id__c": "e", "Product2": {"QuickBooks_Id__c": "p"}, "Pricebook2Id": standard,
             "UnitPrice": 5, "IsActive": True}
    assert _upsert(http, salesforce_sandbox, "PricebookEntry", entry)[0]["success"]
    duplicate = _upsert(http, salesforce_sandbox, "PricebookEntry", {**entry, "QuickBooks_Id__c": "e2"})
    assert duplicate[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    for ext, book in (("o1", standard), ("o2", custom)):
        _upsert(http, salesforce_sandbox, "Order", {"QuickBooks_Id__c": ext, "Account": {"QuickBooks_Id__c": "a"},
                                                    "EffectiveDate": "2026-11-01", "Status": "Draft",
                                                    "Pricebook2Id": book})
    item = {"PricebookEntry": {"QuickBooks_Id__c": "e"}, "Quantity": 3, "UnitPrice": "33.33"}
    good, bad = _upsert(http, salesforce_sandbox, "OrderItem",
                        {**item, "QuickBooks_Id__c": "i1", "Order": {"QuickBooks_Id__c": "o1"}},
                        {**item, "QuickBooks_Id__c": "i2", "Order": {"QuickBooks_Id__c": "o2"}})
    assert good["success"] and bad["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    stored = org.find("OrderItem", "QuickBooks_Id__c", "i1")
    assert str(stored["TotalPrice"]) == "99.99" and stored["Product2Id"] == org.find("Product2", "QuickBooks_Id__c", "p")["Id"]
    moved = _upsert(http, salesforce_sandbox, "OrderItem", {"QuickBooks_Id__c": "i1", "Order": {"QuickBooks_Id__c": "o2"}})
    assert moved[0]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_throttled_requests_answer_429_then_the_org_answers_again(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    salesforce_sandbox.throttle(1)
    url = f"{salesforce_sandbox.url}{V}/sobjects/Account/describe"
    first, second = http.get(url, timeout=10), http.get(url, timeout=10)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert second.status_code == 200 and salesforce_sandbox.throttled_answers == 1


def test_soql_compares_numbers_and_skips_nulls(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    _upsert(http, salesforce_sandbox, "Account", {"QuickBooks_Id__c": "a", "Name": "A", "QuickBooks_Balance__c": 5},
            {"QuickBooks_Id__c": "b", "Name": "B", "QuickBooks_Balance__c": 0}, {"QuickBooks_Id__c": "c", "Name": "C"})
    soql = "SELECT QuickBooks_Id__c FROM Account WHERE QuickBooks_Balance__c > 0"
    rows = http.get(f"{salesforce_sandbox.url}{V}/query", params={"q": soql}, timeout=10).json()["records"]
    assert [r["QuickBooks_Id__c"] for r in rows] == ["a"]
    soql = "SELECT QuickBooks_Id__c FROM Account WHERE QuickBooks_Id__c != 'a'"
    rows = http.get(f"{salesforce_sandbox.url}{V}/query", params={"q": soql}, timeout=10).json()["records"]
    assert sorted(r["QuickBooks_Id__c"] for r in rows) == ["b", "c"]


def test_describe_gives_number_fields_their_precision_and_scale(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    fields = {f["name"]: f for f in http.get(f"{salesforce_sandbox.url}{V}/sobjects/Opportunity/describe",
                                              timeout=10).json()["fields"]}
    assert (fields["Amount"]["precision"], fields["Amount"]["scale"]) == (18, 2)
    assert (fields["Name"]["precision"], fields["Name"]["scale"]) == (0, 0)


def test_a_number_with_more_integer_digits_than_its_field_holds_is_refused(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    results = _upsert(http, salesforce_sandbox, "Account",
                      _account("big", QuickBooks_Balance__c=10**16), _account("fits", QuickBooks_Balance__c=10**16 - 1))
    assert results[0]["errors"][0]["statusCode"] == "NUMBER_OUTSIDE_VALID_RANGE"
    assert results[1]["success"]


def test_decimals_beyond_the_scale_are_stored_as_sent_through_the_api(salesforce_sandbox):
    # Salesforce Help 000387302: the API keeps them; only the UI shows the value rounded.
    http = _login(salesforce_sandbox)
    url = f"{salesforce_sandbox.url}{V}/composite/sobjects/Account/QuickBooks_Id__c"
    body = '{"allOrNone": false, "records": [{"attributes": {"type": "Account"}, "QuickBooks_Id__c": "x", ' \
           '"Name": "X", "QuickBooks_Balance__c": 12345.67891}]}'
    assert http.patch(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).json()[0]["success"]
    assert str(salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "x")["QuickBooks_Balance__c"]) == "12345.67891"


def test_limits_answer_the_daily_api_requests_left(salesforce_sandbox):
    http = _login(salesforce_sandbox)
    salesforce_sandbox.daily_api_requests = 100
    salesforce_sandbox.api_requests_used = 40
    daily = http.get(f"{salesforce_sandbox.url}{V}/limits", timeout=10).json()["DailyApiRequests"]
    assert daily == {"Max": 100, "Remaining": 59}  # the request for /limits counts too
