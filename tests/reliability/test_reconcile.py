"""The reconciliation library finds each kind of discrepancy a controller would (no services needed)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import duckdb
from qbc_plugin_kit.version_order import version_text

from .books import Book, Doc
from .landed import powerbi_book, salesforce_book, sql_book
from .reconcile import reconcile, trial_balance

D = Decimal
STREAMS = ("invoices", "customers")


def _source() -> Book:
    book = Book()
    book.stream("invoices").update({
        "1": Doc("1", "2", total=D("100.00"), balance=D("40.00"), party="7", lines=(D("30.00"), D("70.00"))),
        "2": Doc("2", "0", total=D("50.00"), balance=D("50.00"), party="8", lines=(D("50.00"),)),
        "3": Doc("3", "", deleted=True),
    })
    book.stream("customers").update({"7": Doc("7", "1", active=True), "8": Doc("8", "3", active=False)})
    return book


def _copy(book: Book) -> Book:
    copy = Book()
    for stream, docs in book.docs.items():
        copy.stream(stream).update(docs)
    return copy


def test_what_landed_exactly_as_the_source_holds_it_reconciles() -> None:
    result = reconcile(_source(), _copy(_source()), STREAMS)
    assert result.ok, result.explain()
    assert result.figures["invoices total"] == "150.00"
    assert result.figures["invoices balance"] == "90.00"


def test_a_missing_invoice_is_lost_and_its_money_is_missing_from_ar() -> None:
    landed = _copy(_source())
    del landed.stream("invoices")["2"]
    result = reconcile(_source(), landed, STREAMS)
    assert result.lost == 1
    assert any("open AR of customer 8: 0 landed, QuickBooks says 50.00" in f for f in result.findings)


def test_an_older_version_is_stale_even_when_its_money_matches() -> None:
    landed = _copy(_source())
    landed.stream("customers")["7"] = Doc("7", "0", active=True)
    result = reconcile(_source(), landed, STREAMS)
    assert result.stale == 1 and result.money_differences == 0


def test_a_deleted_invoice_left_live_is_reported() -> None:
    landed = _copy(_source())
    landed.stream("invoices")["3"] = Doc("3", "4", total=D("1.00"), balance=D("0"), party="7", lines=(D("1.00"),))
    result = reconcile(_source(), landed, STREAMS)
    assert result.unflagged_deletions == 1
    assert any(f.startswith("invoices total: 151.00 landed") for f in result.findings)


def test_a_cent_off_on_one_line_is_a_money_difference() -> None:
    landed = _copy(_source())
    landed.stream("invoices")["1"] = Doc("1", "2", total=D("100.00"), balance=D("40.00"), party="7",
                                         lines=(D("30.01"), D("70.00")))
    result = reconcile(_source(), landed, STREAMS)
    assert result.money_differences == 2  # the document's lines, and the book's line total


def _posted(book: Book) -> Book:
    """The source with its invoices posted: AR account 4, income accounts 79 and 80."""
    for doc_id, doc in list(book.stream("invoices").items()):
        if not doc.deleted:
            book.stream("invoices")[doc_id] = replace(doc, control="4",
                                                      postings=tuple(("79" if i else "80", a) for i, a in enumerate(doc.lines)))
    return book


def test_a_line_landed_on_another_account_is_off_the_trial_balance_though_every_total_matches() -> None:
    source = _posted(_source())
    assert reconcile(source, _copy(source), STREAMS).ok
    landed = _copy(source)
    invoice = landed.stream("invoices")["1"]
    landed.stream("invoices")["1"] = replace(invoice, postings=(("80", D("30.00")), ("80", D("70.00"))))
    result = reconcile(source, landed, STREAMS)
    assert result.money_differences == 2
    assert sorted(result.findings) == [
        "trial balance of account 79: 0 landed, QuickBooks says -70.00",
        "trial balance of account 80: -150.00 landed, QuickBooks says -80.00",
    ]
    assert reconcile(source, landed, STREAMS, trial_balance=False).ok


def test_sql_rows_held_twice_are_duplicates_and_flagged_lines_do_not_count() -> None:
    con = duckdb.connect()
    con.execute("create schema quickbooks")
    con.execute("create table quickbooks.invoices (id varchar, edition varchar, sync_token integer, edit_sequence varchar, "
                "_sdc_deleted_at timestamp, voided boolean, total_amount decimal(38,10), balance decimal(38,10), "
                "customer_id varchar, ar_account_id varchar)")
    con.execute("create table quickbooks.invoice_lines (invoice_id varchar, line_id varchar, edition varchar, "
                "amount decimal(38,10), account_id varchar, item_id varchar, detail_type varchar, "
                "_sdc_deleted_at timestamp)")
    con.execute("insert into quickbooks.invoices values ('1','qbo',2,null,null,false,100,40,'7','4'), "
                "('1','qbo',2,null,null,false,100,40,'7','4')")
    con.execute("insert into quickbooks.invoice_lines values ('1','1','qbo',30,'79',null,'SalesItemLineDetail',null), "
                "('1','2','qbo',70,null,'5','SalesItemLineDetail',null), ('1','3','qbo',5,'79',null,null,now()), "
                "('1','4','qbo',100,null,null,'SubTotalLineDetail',null)")
    book = sql_book(lambda sql: con.execute(sql).fetchall(), lambda s: f"quickbooks.{s}", "qbo", ("invoices",))
    assert book.duplicates["invoices"] == {"1": 1}
    assert book.stream("invoices")["1"].lines == (D("30.00"), D("70.00"), D("100.00"))
    # The subtotal line posts nothing; a line without an account posts to its item's.
    assert trial_balance(book, ["invoices"]) == {"4": D("100.00"), "79": D("-30.00"), "item 5": D("-70.00")}


def test_power_bi_documents_are_their_newest_version_with_that_versions_lines() -> None:
    old, new = "2026-01-01T00:00:00.000000|1|0", "2026-01-02T00:00:00.000000|2|0"
    tables = {
        "invoices": [
            {"id": "1", "edition": "qbo", "sync_token": 1, "_sdc_version": old, "total_amount": D("80"), "balance": D("80"),
             "customer_id": "7"},
            {"id": "1", "edition": "qbo", "sync_token": 2, "_sdc_version": new, "total_amount": D("100"),
             "balance": D("40"), "customer_id": "7"},
        ],
        "invoice_lines": [
            {"invoice_id": "1", "line_id": "1", "edition": "qbo", "_sdc_version": old, "amount": D("80")},
            {"invoice_id": "1", "line_id": "1", "edition": "qbo", "_sdc_version": new, "amount": D("30")},
            {"invoice_id": "1", "line_id": "2", "edition": "qbo", "_sdc_version": new, "amount": D("70")},
        ],
    }
    book = powerbi_book(lambda table: tables.get(table, []), "qbo", ("invoices",))
    invoice = book.stream("invoices")["1"]
    assert (invoice.version, invoice.total, invoice.lines) == ("2", D("100"), (D("30.00"), D("70.00")))
    assert book.duplicates["invoices"] == {}


def test_salesforce_versions_read_back_as_sync_tokens_and_lines_follow_their_opportunity() -> None:
    version = version_text({"updated_at": "2026-01-02T00:00:00+00:00", "sync_token": 12})
    records = {
        "Account": {"001A": {"Id": "001A", "QuickBooks_Id__c": "qbo:9130:customer:7", "Active__c": True,
                             "QuickBooks_Version__c": version_text({"updated_at": "2026-01-01T00:00:00+00:00",
                                                                    "sync_token": 3})}},
        "Opportunity": {"006A": {"Id": "006A", "QuickBooks_Id__c": "qbo:9130:invoice:1", "AccountId": "001A",
                                 "Amount": D("100"), "QuickBooks_Balance__c": D("40"), "StageName": "Closed Won",
                                 "QuickBooks_Version__c": version}},
        "OrderItem": {  # target-salesforce's default line_detail: order
            "802A": {"QuickBooks_Id__c": "qbo:9130:invoice:1:line:1", "QuickBooks_Amount__c": D("30"),
                     "Quantity": D("1"), "UnitPrice": D("30")},
            "802B": {"QuickBooks_Id__c": "qbo:9130:invoice:1:line:2", "QuickBooks_Amount__c": D("70"),
                     "Quantity": D("2"), "UnitPrice": D("35")},
            "802C": {"QuickBooks_Id__c": "qbo:9130:invoice:1:line:3", "QuickBooks_Amount__c": D("5"),
                     "QuickBooks_Deleted_At__c": "2026-01-02T00:00:00+00:00"},
        },
    }
    book = salesforce_book(records, "qbo", "9130", ("invoices", "customers"))
    invoice = book.stream("invoices")["1"]
    assert (invoice.version, invoice.party, invoice.lines, invoice.voided) == ("12", "7", (D("30.00"), D("70.00")), False)
    assert book.stream("customers")["7"].version == "3"
