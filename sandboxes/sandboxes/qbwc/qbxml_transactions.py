"""``TransactionQueryRq``: one summary ``TransactionRet`` per transaction the company holds.

QuickBooks answers it across every transaction type with the TransactionFilter group
(qbxml130.xsd): TxnID or RefNumber lists, modified and transaction date ranges, an entity filter and
TransactionTypeFilter. Filters this sandbox does not evaluate (account, item, class, posting and
paid status, currency, a detail level other than SummaryOnly, date macros) answer 530 Warn, as the
other queries do, so a caller sees the result was not narrowed. Amounts are the transaction's total
as a positive number.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lxml import etree

from .company_clock import format_local
from .company_kinds import FAMILIES
from .company_session import CompanySession, Iterator
from .company_store import StoredObject
from .qbxml_queries import date_range_sql
from .qbxml_render import fill
from .qbxml_statuses import RequestFailed, Status

if TYPE_CHECKING:
    from .company import QuickBooksCompany

TXN_KINDS = tuple(kind for family in FAMILIES.values() if not family.is_list for kind in family.kinds)
_ENTITY_KEYS = ("CustomerRef", "VendorRef", "PayeeEntityRef", "EntityRef")
_ACCOUNT_KEYS = ("ARAccountRef", "APAccountRef", "BankAccountRef", "CreditCardAccountRef", "AccountRef",
                 "DepositToAccountRef")
_UNEVALUATED = ("TransactionAccountFilter", "TransactionItemFilter", "TransactionClassFilter",
                "TransactionPostingStatusFilter", "TransactionPaidStatusFilter", "CurrencyFilter")


def amount_of(obj: StoredObject) -> str | None:
    data = obj.data
    for key in ("TotalAmount", "AmountDue", "Amount"):
        if key in data:
            return str(data[key])
    if "Subtotal" in data:
        return str(Decimal(str(data["Subtotal"])) + Decimal(str(data.get("SalesTaxTotal") or 0)))
    debits = data.get("JournalDebitLine")
    if debits:
        lines = debits if isinstance(debits, list) else [debits]
        return str(sum((Decimal(str(line.get("Amount") or 0)) for line in lines), Decimal(0)))
    return None


def render_transaction(obj: StoredObject, company: QuickBooksCompany,
                       include: frozenset[str] | None) -> etree._Element:
    data = obj.data
    fields: dict[str, Any] = {
        "TxnType": obj.kind, "TxnID": obj.qb_id,
        "TimeCreated": format_local(obj.created, company.tz), "TimeModified": format_local(obj.modified, company.tz),
        "EntityRef": next((data[k] for k in _ENTITY_KEYS if k in data), None),
        "AccountRef": next((data[k] for k in _ACCOUNT_KEYS if k in data), None),
        "TxnDate": obj.txn_date, "RefNumber": data.get("RefNumber"), "Amount": amount_of(obj),
        "Memo": data.get("Memo"),
    }
    if include:
        fields = {k: v for k, v in fields.items() if k in include}
    ret = etree.Element("TransactionRet")
    fill(ret, "TransactionRet", {k: v for k, v in fields.items() if v is not None})
    return ret


class TransactionQuery:
    def __init__(self, company: QuickBooksCompany) -> None:
        self.company = company

    def answer(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        include = frozenset(e.text or "" for e in request.findall("IncludeRetElement")) or None
        max_returned = int(request.findtext("MaxReturned") or 0) or None
        mode = request.get("iterator")
        if mode in ("Continue", "Stop"):
            iterator = session.iterators.get(request.get("iteratorID") or "") if session.open else None
            if iterator is None or iterator.request_type != "TransactionQueryRq":
                raise RequestFailed(Status.of(3391, request.get("iteratorID") or ""))
            if mode == "Stop":
                del session.iterators[iterator.iterator_id]
                response.set("iteratorRemainingCount", "0")
                response.set("iteratorID", iterator.iterator_id)
                return Status.of(0)
            return self._page(iterator, session, response, max_returned, include)
        warnings: list[Status] = []
        where, params = self._filter(request, warnings)
        if mode == "Start":
            iterator = Iterator("{" + str(uuid.uuid4()) + "}", "TransactionQueryRq", self.company.store.seqs(where, params))
            session.iterators[iterator.iterator_id] = iterator
            status = self._page(iterator, session, response, max_returned, include)
        else:
            objects = self.company.store.select(where, params, limit=max_returned)
            for obj in objects:
                response.append(render_transaction(obj, self.company, include))
            status = Status.of(0) if objects else Status.of(1)
        return warnings[0] if warnings and status.code == 0 else status

    def _page(self, iterator: Iterator, session: CompanySession, response: etree._Element,
              max_returned: int | None, include: frozenset[str] | None) -> Status:
        size = max_returned or len(iterator.seqs)
        page = iterator.seqs[iterator.position:iterator.position + size]
        iterator.position += len(page)
        remaining = len(iterator.seqs) - iterator.position
        objects = [o for o in self.company.store.fetch_seqs(page) if o.deleted is None]
        for obj in objects:
            response.append(render_transaction(obj, self.company, include))
        response.set("retCount", str(len(objects)))
        response.set("iteratorRemainingCount", str(remaining))
        response.set("iteratorID", iterator.iterator_id)
        if remaining == 0:
            session.iterators.pop(iterator.iterator_id, None)
        return Status.of(0) if objects else Status.of(1)

    def _filter(self, request: etree._Element, warnings: list[Status]) -> tuple[str, list[Any]]:
        kinds = list(TXN_KINDS)
        type_filter = [e.text or "" for e in request.findall("TransactionTypeFilter/TxnTypeFilter")]
        if type_filter and "All" not in type_filter:
            kinds = [k for k in kinds if k in type_filter]
        clauses = [f"deleted IS NULL AND kind IN ({','.join('?' * len(kinds)) or 'NULL'})"]
        params: list[Any] = list(kinds)
        for tag, column in (("TxnID", "qb_id"), ("RefNumber", "name")):
            values = [e.text or "" for e in request.findall(tag)]
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        tz = self.company.tz
        for filter_tag, low, high, column in (
                ("TransactionModifiedDateRangeFilter", "FromModifiedDate", "ToModifiedDate", "modified"),
                ("TransactionDateRangeFilter", "FromTxnDate", "ToTxnDate", "txn_date")):
            element = request.find(filter_tag)
            if element is None:
                continue
            if element.find("DateMacro") is not None:
                warnings.append(Status.of(530, "DateMacro"))
            if column == "txn_date":
                for tag, op in ((low, ">="), (high, "<=")):
                    value = element.findtext(tag)
                    if value:
                        clauses.append(f"txn_date {op} ?")
                        params.append(value)
            else:
                found_clauses, found_params = date_range_sql(element.find(low), element.find(high), column, tz)
                clauses.extend(found_clauses)
                params.extend(found_params)
        entity = request.find("TransactionEntityFilter")
        if entity is not None:
            ids = [e.text or "" for e in entity if e.tag in ("ListID", "ListIDWithChildren")]
            names = [e.text or "" for e in entity if e.tag in ("FullName", "FullNameWithChildren")]
            if names:
                marks = ",".join("?" * len(names))
                ids += [o.qb_id for o in self.company.store.select(
                    f"family IN ('Customer','Vendor','Employee') AND name COLLATE NOCASE IN ({marks})", names)]
            if entity.find("EntityTypeFilter") is not None:
                warnings.append(Status.of(530, "EntityTypeFilter"))
            if ids or names:
                clauses.append(f"entity_id IN ({','.join('?' * len(ids)) or 'NULL'})")
                params.extend(ids)
        detail = request.findtext("TransactionDetailLevelFilter")
        if detail and detail != "SummaryOnly":
            warnings.append(Status.of(530, "TransactionDetailLevelFilter"))
        for name in _UNEVALUATED:
            if request.find(name) is not None:
                warnings.append(Status.of(530, name))
        return " AND ".join(clauses), params
