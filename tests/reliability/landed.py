"""What landed, read back from each destination into a :class:`Book`, as each target documents it.

* SQL targets (DuckDB, PostgreSQL, Databricks): one row per key, deletions flagged with
  ``_sdc_deleted_at``; the lines of a document are the unflagged ``*_lines`` rows.
* Power BI: list tables hold one row per key; document tables append a row per version, the newest
  ``_sdc_version`` is the document (a tombstone when flagged deleted) and its lines are the line
  rows of that same version.
* Salesforce: Accounts (customers, vendors; ``Active__c``), Opportunities (invoices; ``Closed Lost``
  when deleted or voided) and their lines (subtotal lines skipped): OrderItems by default
  (``QuickBooks_Amount__c``, the line's amount), or the custom line object, by external id
  ``{edition}:{company}:{entity}:{id}``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from .books import (
    CONTROL_ACCOUNT,
    HEADER_PARTY,
    LINES_OF,
    LIST_STREAMS,
    SUBTOTAL,
    Book,
    Doc,
    cents,
    posting_account,
)

Query = Callable[[str], Sequence[Sequence[Any]]]


def _version(edition: str, sync_token: Any, edit_sequence: Any) -> str:
    return str(sync_token if edition == "qbo" else edit_sequence)


def sql_book(query: Query, table: Callable[[str], str], edition: str, streams: Iterable[str]) -> Book:
    """``table(stream)`` gives the qualified table name; ``query`` runs SQL and returns rows."""
    book = Book()
    for stream in streams:
        docs, seen = book.stream(stream), Counter[str]()
        where = f"where edition = '{edition}'"
        if stream in LIST_STREAMS:
            rows = query(f"select id, sync_token, edit_sequence, _sdc_deleted_at, active from {table(stream)} {where}")
            for doc_id, token, sequence, deleted_at, active in rows:
                seen[str(doc_id)] += 1
                docs[str(doc_id)] = Doc(id=str(doc_id), version=_version(edition, token, sequence),
                                        deleted=deleted_at is not None, active=active)
        else:
            party, control = HEADER_PARTY[stream], CONTROL_ACCOUNT[stream]
            rows = query(f"select id, sync_token, edit_sequence, _sdc_deleted_at, voided, total_amount, balance, "
                         f"{party}, {control} from {table(stream)} {where}")
            lines_table, key = LINES_OF[stream]
            line_rows = query(f"select {key}, line_id, amount, account_id, item_id, detail_type "
                              f"from {table(lines_table)} {where} and _sdc_deleted_at is null")
            lines: dict[str, list[Decimal]] = defaultdict(list)
            postings: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
            seen_lines = Counter[str]()
            for header_id, line_id, amount, account_id, item_id, detail_type in line_rows:
                lines[str(header_id)].append(cents(amount))
                if detail_type != SUBTOTAL:
                    postings[str(header_id)].append((posting_account(account_id, item_id), cents(amount)))
                seen_lines[f"{header_id}/{line_id}"] += 1
            book.duplicates[lines_table] = {k: n - 1 for k, n in seen_lines.items() if n > 1}
            for doc_id, token, sequence, deleted_at, voided, total, balance, party_id, control_id in rows:
                seen[str(doc_id)] += 1
                docs[str(doc_id)] = Doc(
                    id=str(doc_id), version=_version(edition, token, sequence), deleted=deleted_at is not None,
                    voided=bool(voided), total=total, balance=balance, party=party_id,
                    lines=tuple(sorted(lines.get(str(doc_id), ()))), control=control_id,
                    postings=tuple(sorted(postings.get(str(doc_id), ()))))
        book.duplicates[stream] = {k: n - 1 for k, n in seen.items() if n > 1}
    return book


def powerbi_book(rows: Callable[[str], list[dict[str, Any]]], edition: str, streams: Iterable[str]) -> Book:
    """``rows(table)`` gives every row Power BI holds for a table of the dataset."""
    book = Book()
    for stream in streams:
        docs = book.stream(stream)
        held = [r for r in rows(stream) if r.get("edition") == edition]
        if stream in LIST_STREAMS:
            seen = Counter(str(r["id"]) for r in held)
            book.duplicates[stream] = {k: n - 1 for k, n in seen.items() if n > 1}
            for r in held:
                docs[str(r["id"])] = Doc(id=str(r["id"]), version=_version(edition, r.get("sync_token"), r.get("edit_sequence")),
                                         deleted=r.get("_sdc_deleted_at") is not None, active=r.get("active"))
            continue
        # A version pushed twice is a duplicate; versions themselves are the documented history.
        seen = Counter(f"{r['id']}@{r['_sdc_version']}" for r in held)
        book.duplicates[stream] = {k: n - 1 for k, n in seen.items() if n > 1}
        newest: dict[str, dict[str, Any]] = {}
        for r in held:
            current = newest.get(str(r["id"]))
            if current is None or str(r["_sdc_version"]) > str(current["_sdc_version"]):
                newest[str(r["id"])] = r
        lines_table, key = LINES_OF[stream]
        line_rows = [r for r in rows(lines_table) if r.get("edition") == edition]
        line_seen = Counter(f"{r[key]}/{r['line_id']}@{r['_sdc_version']}" for r in line_rows)
        book.duplicates[lines_table] = {k: n - 1 for k, n in line_seen.items() if n > 1}
        lines: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for r in line_rows:
            if r.get("_sdc_deleted_at") is None:
                lines[(str(r[key]), str(r["_sdc_version"]))][str(r["line_id"])] = r
        party, control = HEADER_PARTY[stream], CONTROL_ACCOUNT[stream]
        for doc_id, r in newest.items():
            held_lines = lines.get((doc_id, str(r["_sdc_version"])), {}).values()
            docs[doc_id] = Doc(
                id=doc_id, version=_version(edition, r.get("sync_token"), r.get("edit_sequence")),
                deleted=r.get("_sdc_deleted_at") is not None, voided=bool(r.get("voided")),
                total=r.get("total_amount"), balance=r.get("balance"), party=r.get(party),
                lines=tuple(sorted(cents(line.get("amount")) for line in held_lines)), control=r.get(control),
                postings=tuple(sorted((posting_account(line.get("account_id"), line.get("item_id")),
                                       cents(line.get("amount")))
                                      for line in held_lines if line.get("detail_type") != SUBTOTAL)))
    return book


SALESFORCE_OBJECTS = {"customers": ("Account", "customer"), "vendors": ("Account", "vendor"),
                      "invoices": ("Opportunity", "invoice")}
# Where target-salesforce keeps a line's amount (README "Mapping"): an OrderItem's Quantity x
# UnitPrice may be one unit at the amount, so the line's own amount field is read.
SALESFORCE_LINE_AMOUNT = {"OrderItem": "QuickBooks_Amount__c", "QuickBooks_Invoice_Line__c": "Amount__c"}


def salesforce_book(records: dict[str, dict[str, dict[str, Any]]], edition: str, company: str,
                    streams: Iterable[str], *, line_object: str = "OrderItem",
                    ext: str = "QuickBooks_Id__c") -> Book:
    """``records`` is the org's records by sObject, then by Salesforce Id."""
    book = Book()
    prefix = f"{edition}:{company}:"
    accounts = {r[ext]: r for r in records.get("Account", {}).values() if str(r.get(ext, "")).startswith(prefix)}
    account_party = {r["Id"]: ext_id.rsplit(":", 1)[1] for ext_id, r in accounts.items()}
    line_amounts: dict[str, list[Decimal]] = defaultdict(list)
    line_seen = Counter[str]()
    for r in records.get(line_object, {}).values():
        ext_id = str(r.get(ext, ""))
        if ext_id.startswith(prefix + "invoice:") and r.get("QuickBooks_Deleted_At__c") is None:
            invoice_id = ext_id[len(prefix + "invoice:"):].split(":line:")[0]
            line_amounts[invoice_id].append(cents(r.get(SALESFORCE_LINE_AMOUNT[line_object])))
            line_seen[ext_id] += 1
    for stream in streams:
        sobject, entity = SALESFORCE_OBJECTS[stream]
        docs, seen = book.stream(stream), Counter[str]()
        for r in records.get(sobject, {}).values():
            ext_id = str(r.get(ext, ""))
            if not ext_id.startswith(f"{prefix}{entity}:"):
                continue
            doc_id = ext_id.rsplit(":", 1)[1]
            seen[doc_id] += 1
            version = _salesforce_version(edition, str(r.get("QuickBooks_Version__c") or ""))
            deleted = r.get("QuickBooks_Deleted_At__c") is not None
            if sobject == "Account":
                docs[doc_id] = Doc(id=doc_id, version=version, deleted=deleted, active=r.get("Active__c"))
            else:
                docs[doc_id] = Doc(
                    id=doc_id, version=version, deleted=deleted, total=r.get("Amount"),
                    voided=r.get("StageName") == "Closed Lost" and not deleted,
                    balance=r.get("QuickBooks_Balance__c"), party=account_party.get(str(r.get("AccountId"))),
                    lines=tuple(sorted(line_amounts.get(doc_id, ()))))
        book.duplicates[stream] = {k: n - 1 for k, n in seen.items() if n > 1}
    book.duplicates["invoice_lines"] = {k: n - 1 for k, n in line_seen.items() if n > 1}
    return book


def _salesforce_version(edition: str, version_text: str) -> str:
    """Back from the kit's sortable version text
    (``updated_at|<deleted>|1<sync_token:020d>|<edit_sequence>``, qbc_plugin_kit.version_order)."""
    parts = version_text.split("|")
    if len(parts) != 4:
        return version_text
    token, sequence = parts[2], parts[3]
    if edition == "qbo":
        return str(int(token[1:])) if token.startswith("1") else ""
    if sequence.startswith("1"):  # all digits: "1" + 4-digit length + the digits
        return sequence[5:]
    return sequence[1:]
