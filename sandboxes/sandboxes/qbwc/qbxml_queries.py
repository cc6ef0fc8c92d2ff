"""Query requests: list and transaction queries, their filters, iterators, deleted-object queries."""

from __future__ import annotations

import re
import uuid
from datetime import timezone
from typing import TYPE_CHECKING, Any

from lxml import etree

from .company_clock import parse_filter_datetime
from .company_kinds import FAMILIES, LIST_DEL_TYPES, QUERY_REQUESTS, TXN_DEL_TYPES, Family
from .company_session import CompanySession, Iterator
from .qbxml_render import render_deleted, render_object
from .qbxml_statuses import RequestFailed, Status

if TYPE_CHECKING:
    from .company import QuickBooksCompany

QB_ID = re.compile(r"^[0-9A-F]{1,16}-\d{1,12}$")

# Filters the sandbox does not evaluate: answered like QuickBooks answers an unsupported
# field (530, Warn) so a caller sees the result was not narrowed.
# OwnerID and IncludeLinkedTxns are accepted silently: this company has no custom fields and
# records no links, so an answer without DataExtRet/LinkedTxn is the true one.
_UNSUPPORTED_FILTERS = ("TotalBalanceFilter", "CurrencyFilter", "ClassFilter", "AccountFilter")


class QueryAnswerer:
    def __init__(self, company: QuickBooksCompany) -> None:
        self.company = company

    def query(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        tag = str(request.tag)
        family_name, kinds = QUERY_REQUESTS[tag]
        family = FAMILIES[family_name]
        include_lines = request.findtext("IncludeLineItems") == "true"
        include = frozenset(e.text or "" for e in request.findall("IncludeRetElement")) or None
        max_returned = int(request.findtext("MaxReturned") or 0) or None
        mode = request.get("iterator")
        warnings: list[Status] = []

        if mode in ("Continue", "Stop"):
            iterator_id = request.get("iteratorID") or ""
            iterator = session.iterators.get(iterator_id) if session.open else None
            if iterator is None or iterator.request_type != tag:
                raise RequestFailed(Status.of(3391, iterator_id))
            if mode == "Stop":
                del session.iterators[iterator_id]
                response.set("iteratorRemainingCount", "0")
                response.set("iteratorID", iterator_id)
                return Status.of(0)
            return self._iterator_page(iterator, session, response, max_returned, include_lines, include)

        where, params, missing = self._query_filter(request, family, kinds, warnings)
        if mode == "Start":
            seqs = self.company.store.seqs(where, params)
            iterator = Iterator("{" + str(uuid.uuid4()) + "}", tag, seqs)
            session.iterators[iterator.iterator_id] = iterator
            status = self._iterator_page(iterator, session, response, max_returned, include_lines, include)
        else:
            objects = self.company.store.select(where, params, limit=max_returned)
            for obj in objects:
                response.append(render_object(obj, self.company.tz, include_lines=include_lines,
                                              include_elements=include))
            status = Status.of(0) if objects else Status.of(1)
        if missing:
            return Status.of(500, missing[0])
        return warnings[0] if warnings and status.code == 0 else status

    def _iterator_page(self, iterator: Iterator, session: CompanySession, response: etree._Element,
                       max_returned: int | None, include_lines: bool,
                       include: frozenset[str] | None) -> Status:
        size = max_returned or len(iterator.seqs)
        page = iterator.seqs[iterator.position:iterator.position + size]
        iterator.position += len(page)
        remaining = len(iterator.seqs) - iterator.position
        # Objects deleted since the iterator started are skipped, as QuickBooks does.
        objects = [o for o in self.company.store.fetch_seqs(page) if o.deleted is None]
        for obj in objects:
            response.append(render_object(obj, self.company.tz, include_lines=include_lines,
                                          include_elements=include))
        response.set("retCount", str(len(objects)))
        response.set("iteratorRemainingCount", str(remaining))
        response.set("iteratorID", iterator.iterator_id)
        if remaining == 0:
            session.iterators.pop(iterator.iterator_id, None)
        return Status.of(0) if objects else Status.of(1)

    def _query_filter(self, request: etree._Element, family: Family, kinds: tuple[str, ...],
                      warnings: list[Status]) -> tuple[str, list[Any], list[str]]:
        # Kinds are unique across families, so they alone pick the rows (EntityQueryRq spans three).
        clauses = [f"deleted IS NULL AND kind IN ({','.join('?' * len(kinds))})"]
        params: list[Any] = [*kinds]
        missing: list[str] = []
        tz = self.company.tz

        def date_range(low: etree._Element | None, high: etree._Element | None, column: str) -> None:
            found_clauses, found_params = date_range_sql(low, high, column, tz)
            clauses.extend(found_clauses)
            params.extend(found_params)

        ids = [e.text or "" for e in request.findall(family.id_element)]
        names_el = "FullName" if family.is_list else "RefNumber"
        names = [e.text or "" for e in request.findall(names_el)]
        exact_names = [e.text or "" for e in request.findall("RefNumberCaseSensitive")]
        if ids:
            for value in ids:
                if not QB_ID.match(value):
                    raise RequestFailed(Status.of(3000, value, "list id" if family.is_list else "txn id"))
            clauses.append(f"qb_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
            found = {o.qb_id for o in self.company.store.select(" AND ".join(clauses), params)}
            missing = [v for v in ids if v not in found]
        elif names or exact_names:
            wanted = names or exact_names
            collate = " COLLATE NOCASE" if names else ""
            clauses.append(f"name{collate} IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
            found_names = {(o.name or "").lower() if names else o.name
                           for o in self.company.store.select(" AND ".join(clauses), params)}
            missing = [v for v in wanted if (v.lower() if names else v) not in found_names]
        elif family.is_list:
            status = request.findtext("ActiveStatus") or "ActiveOnly"
            if status != "All":
                clauses.append("is_active=?")
                params.append(1 if status == "ActiveOnly" else 0)
            date_range(request.find("FromModifiedDate"), request.find("ToModifiedDate"), "modified")
            self._name_filters(request, clauses, params, "NameFilter", "NameRangeFilter", "Name",
                               "FromName", "ToName")
            account_type = request.findtext("AccountType")
            if account_type:
                clauses.append("json_extract(data, '$.AccountType')=?")
                params.append(account_type)
        else:
            modified = request.find("ModifiedDateRangeFilter")
            if modified is not None:
                date_range(modified.find("FromModifiedDate"), modified.find("ToModifiedDate"), "modified")
            txn_dates = request.find("TxnDateRangeFilter")
            if txn_dates is not None:
                if txn_dates.find("DateMacro") is not None:
                    warnings.append(Status.of(530, "DateMacro"))
                for name, op in (("FromTxnDate", ">="), ("ToTxnDate", "<=")):
                    value = txn_dates.findtext(name)
                    if value:
                        clauses.append(f"txn_date {op} ?")
                        params.append(value)
            entity = request.find("EntityFilter")
            if entity is not None:
                entity_ids = [e.text or "" for e in entity if e.tag in ("ListID", "ListIDWithChildren")]
                entity_names = [e.text or "" for e in entity if e.tag in ("FullName", "FullNameWithChildren")]
                if entity_names:
                    marks = ",".join("?" * len(entity_names))
                    entity_ids += [o.qb_id for o in self.company.store.select(
                        f"family IN ('Customer','Vendor','Employee') AND name COLLATE NOCASE IN ({marks})",
                        entity_names)]
                clauses.append(f"entity_id IN ({','.join('?' * len(entity_ids)) or 'NULL'})")
                params.extend(entity_ids)
            self._name_filters(request, clauses, params, "RefNumberFilter", "RefNumberRangeFilter",
                               "RefNumber", "FromRefNumber", "ToRefNumber")
            paid = request.findtext("PaidStatus")
            if paid in ("PaidOnly", "NotPaidOnly") and family.supports_paid_status:
                clauses.append("json_extract(data, '$.IsPaid')=?")
                params.append(1 if paid == "PaidOnly" else 0)
        for name in _UNSUPPORTED_FILTERS:
            if request.find(name) is not None:
                warnings.append(Status.of(530, name))
        return " AND ".join(clauses), params, missing

    @staticmethod
    def _name_filters(request: etree._Element, clauses: list[str], params: list[Any], filter_tag: str,
                      range_tag: str, value_tag: str, from_tag: str, to_tag: str) -> None:
        match = request.find(filter_tag)
        if match is not None:
            criterion = match.findtext("MatchCriterion")
            value = (match.findtext(value_tag) or "").replace("%", r"\%").replace("_", r"\_")
            pattern = {"StartsWith": f"{value}%", "Contains": f"%{value}%", "EndsWith": f"%{value}"}[criterion or "Contains"]
            clauses.append(r"name LIKE ? ESCAPE '\'")
            params.append(pattern)
        name_range = request.find(range_tag)
        if name_range is not None:
            for tag, op in ((from_tag, ">="), (to_tag, "<=")):
                value = name_range.findtext(tag)
                if value:
                    clauses.append(f"name COLLATE NOCASE {op} ?")
                    params.append(value)

    def deleted_query(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        is_list = request.tag == "ListDeletedQueryRq"
        type_tag = "ListDelType" if is_list else "TxnDelType"
        known = LIST_DEL_TYPES if is_list else TXN_DEL_TYPES
        kinds = [e.text for e in request.findall(type_tag) if e.text in known]
        clauses = ["deleted IS NOT NULL", f"kind IN ({','.join('?' * len(kinds)) or 'NULL'})"]
        params: list[Any] = list(kinds)
        window = request.find("DeletedDateRangeFilter")
        if window is not None:
            found_clauses, found_params = date_range_sql(
                window.find("FromDeletedDate"), window.find("ToDeletedDate"), "deleted", self.company.tz)
            clauses.extend(found_clauses)
            params.extend(found_params)
        include = frozenset(e.text or "" for e in request.findall("IncludeRetElement"))
        rows = self.company.store.select(" AND ".join(clauses), params)
        for obj in sorted(rows, key=lambda o: (o.deleted or 0, o.seq)):
            ret = render_deleted(obj, self.company.tz)
            if include:
                for child in list(ret):
                    if child.tag not in include:
                        ret.remove(child)
            response.append(ret)
        return Status.of(0) if rows else Status.of(1)


def date_range_sql(low: etree._Element | None, high: etree._Element | None, column: str,
                tz: timezone) -> tuple[list[str], list[int]]:
    """SQL bounds for a From/To date pair: 3020 for a value that is no date, 3030 if From > To."""
    bounds: list[tuple[str, int]] = []
    for element, op, end in ((low, ">=", False), (high, "<=", True)):
        if element is None or not (element.text or "").strip():
            continue
        try:
            bounds.append((op, parse_filter_datetime(element.text or "", tz, end_of_day=end)))
        except ValueError:
            raise RequestFailed(Status.of(3020, element.text, element.tag)) from None
    if len(bounds) == 2 and bounds[0][1] > bounds[1][1]:
        raise RequestFailed(Status.of(3030))
    return [f"{column} {op} ?" for op, _ in bounds], [value for _, value in bounds]
