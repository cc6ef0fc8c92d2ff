"""QuickBooks records (docs/record-model.md) -> Salesforce sObject payloads. No I/O.

* ``customers`` / ``vendors`` -> ``Account`` (``Type`` Customer / Vendor);
* ``invoices`` -> ``Opportunity`` linked to the customer's Account;
* ``invoice_lines`` -> ``OpportunityLineItem`` (when a pricebook entry is configured) or the
  custom object ``QuickBooks_Invoice_Line__c`` (default name, configurable).

External ids are ``{edition}:{company_id}:{entity}:{id}`` so customers and vendors with the
same QuickBooks id, or two companies, never collide in one Account table.
A deletion never removes a Salesforce record: the Account is marked inactive, the Opportunity
moves to the "deleted" stage, and every record gets ``QuickBooks_Deleted_At__c``.

Values are sent as they came: a value Salesforce cannot hold (a text longer than its field, a
date outside the years 1700-4000) sets its record aside rather than being cut or moved. Only
the labels this module composes (an Opportunity's or a line's Name) are shortened to fit.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qbc_plugin_kit.failures import RecordRefused
from qbc_plugin_kit.record_model import LINE_HEADERS, SOURCE_COLUMN
from qbc_plugin_kit.validation import decimal_fits
from qbc_plugin_kit.version_order import DELETED_AT, version_text

AUDIT_FIELDS = {
    "_sdc_extracted_at": "QuickBooks_Extracted_At__c",
    "_sdc_received_at": "QuickBooks_Received_At__c",
    "_sdc_batched_at": "QuickBooks_Batched_At__c",
    "_sdc_deleted_at": "QuickBooks_Deleted_At__c",
    "_sdc_source": "QuickBooks_Source__c",  # record_model.SOURCE_COLUMN
}
ACCOUNT_STREAMS = {"customers": ("customer", "Customer"), "vendors": ("vendor", "Vendor")}
LINE_STREAM = "invoice_lines"
HEADER_STREAM, HEADER_COLUMN = LINE_HEADERS[LINE_STREAM]
# Salesforce stores dates and date/times from 1700-01-01 to 4000-12-31 only.
FIRST_DATE, LAST_DATE = dt.date(1700, 1, 1), dt.date(4000, 12, 31)
DATE_FIELDS = ("CloseDate", "QuickBooks_Due_Date__c",
               *(name for column, name in AUDIT_FIELDS.items() if column != SOURCE_COLUMN))


@dataclass(frozen=True)
class MappingSettings:
    account_external_id_field: str = "QuickBooks_Id__c"
    opportunity_external_id_field: str = "QuickBooks_Id__c"
    line_external_id_field: str = "QuickBooks_Id__c"
    version_field: str = "QuickBooks_Version__c"
    account_active_field: str = "Active__c"
    opportunity_stage: str = "Closed Won"
    deleted_opportunity_stage: str = "Closed Lost"
    line_item_object: str = "QuickBooks_Invoice_Line__c"
    line_item_parent_field: str = "Opportunity__c"
    pricebook_entry_id: str | None = None

    @property
    def line_object(self) -> str:
        return "OpportunityLineItem" if self.pricebook_entry_id else self.line_item_object


@dataclass(frozen=True)
class Write:
    """One record to upsert: the sObject, its external-id field and value, its version, the
    payload, and fields Salesforce accepts only on create (dropped when the record exists)."""

    sobject: str
    external_field: str
    external_id: str
    version: str
    payload: dict[str, Any]
    deleted: bool
    create_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderDeletion:
    """An invoice deleted in this run: its lines are flagged with the same deletion."""

    deleted_at: Any
    version: str


NUMBER_TYPES = ("currency", "double", "percent", "int")


def unfit_number(payload: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why a number in ``payload`` cannot be stored exactly in the field the org describes, or
    None. Salesforce rounds a value with more decimals than the field's scale without saying so,
    and refuses one with more integer digits than it holds: both are set aside here instead."""
    for name, value in payload.items():
        spec = fields.get(name)
        if spec is None or spec.get("type") not in NUMBER_TYPES or value is None or isinstance(value, bool):
            continue
        precision, scale = spec.get("precision"), spec.get("scale")
        if not isinstance(precision, int) or not isinstance(scale, int) or precision <= 0:
            continue  # the org did not describe a size: nothing to check against
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return f"field {name}: {value!r} is not a number"
        if not decimal_fits(number, precision, scale):
            return (f"field {name}: {value} cannot be stored exactly in a {spec.get('type')} field of "
                    f"precision {precision} and scale {scale} (Salesforce would round or refuse it)")
    return None


def external_id(record: Mapping[str, Any], entity: str, id_field: str = "id") -> str:
    return f"{record.get('edition') or 'qb'}:{record.get('company_id')}:{entity}:{record.get(id_field)}"


def _date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _label(value: str, length: int) -> str:
    """A Name this module composes, shortened to its field (the parts are stored elsewhere)."""
    return value[:length]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _audit(record: Mapping[str, Any], settings: MappingSettings, version: str) -> dict[str, Any]:
    payload = {field: record.get(column) for column, field in AUDIT_FIELDS.items()}
    payload[settings.version_field] = version
    return payload


def _checked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload, or RecordRefused naming a date Salesforce cannot store."""
    for name in DATE_FIELDS:
        value = payload.get(name)
        if value in (None, ""):
            continue
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise RecordRefused(f"field {name}: {value!r} is not a date") from None
        if not FIRST_DATE <= day <= LAST_DATE:
            raise RecordRefused(f"field {name}: {value} is outside the dates Salesforce stores "
                                f"({FIRST_DATE} to {LAST_DATE})")
    return payload


def account_write(stream: str, record: Mapping[str, Any], settings: MappingSettings) -> Write:
    entity, account_type = ACCOUNT_STREAMS[stream]
    ext = external_id(record, entity)
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    payload: dict[str, Any] = {settings.account_active_field: False if deleted else record.get("active") is not False}
    payload.update(_audit(record, settings, version))
    if not deleted:
        address = record.get("billing_address") or {}
        street = "\n".join(str(p) for p in (address.get("line1"), address.get("line2")) if p)
        name = (record.get("display_name") or record.get("company_name")
                or " ".join(p for p in (record.get("given_name"), record.get("family_name")) if p) or ext)
        payload.update({
            "Name": _text(name),
            "Type": account_type,
            "Phone": _text(record.get("phone")),
            "QuickBooks_Email__c": _text(record.get("email")),
            "BillingStreet": street or None,
            "BillingCity": _text(address.get("city")),
            "BillingState": _text(address.get("region")),
            "BillingPostalCode": _text(address.get("postal_code")),
            "BillingCountry": _text(address.get("country")),
            "QuickBooks_Balance__c": record.get("balance"),
        })
        if stream == "vendors":
            payload["AccountNumber"] = _text(record.get("account_number"))
    return Write("Account", settings.account_external_id_field, ext, version, _checked(payload), deleted)


def opportunity_write(record: Mapping[str, Any], settings: MappingSettings) -> Write:
    ext = external_id(record, "invoice")
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    lost = deleted or bool(record.get("voided"))
    payload: dict[str, Any] = {"StageName": settings.deleted_opportunity_stage if lost else settings.opportunity_stage}
    payload.update(_audit(record, settings, version))
    if not deleted:
        close_date = _date(record.get("txn_date")) or _date(record.get("updated_at"))
        payload.update({
            "Name": _label(f"Invoice {record.get('doc_number') or record.get('id')}", 120),
            "CloseDate": close_date,
            "Amount": record.get("total_amount"),
            "QuickBooks_Balance__c": record.get("balance"),
            "QuickBooks_Doc_Number__c": _text(record.get("doc_number")),
            "QuickBooks_Due_Date__c": _date(record.get("due_date")),
            "Description": record.get("private_note"),
        })
        if record.get("customer_id"):
            customer_ext = external_id(record, "customer", "customer_id")
            payload["Account"] = {settings.account_external_id_field: customer_ext}
    return Write("Opportunity", settings.opportunity_external_id_field, ext, version, _checked(payload), deleted)


def is_summary_line(record: Mapping[str, Any]) -> bool:
    # Subtotal lines repeat the amounts of the lines above them; as line items they would
    # double the Opportunity's total.
    return "subtotal" in str(record.get("detail_type") or "").lower()


def header_external_id(line: Mapping[str, Any]) -> str:
    return external_id(line, "invoice", HEADER_COLUMN)


def line_write(record: Mapping[str, Any], settings: MappingSettings,
               header_deleted: HeaderDeletion | None = None) -> Write:
    """The line's write; a line whose invoice was deleted in this run is written deleted with
    it (never a live line under a deleted invoice)."""
    invoice_ext = header_external_id(record)
    ext = f"{invoice_ext}:line:{record.get('line_id')}"
    if header_deleted is not None and not record.get(DELETED_AT):
        record = {**record, DELETED_AT: header_deleted.deleted_at}
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    if header_deleted is not None:
        version = max(version, header_deleted.version)
    payload = _audit(record, settings, version)
    parent_ref = {settings.opportunity_external_id_field: invoice_ext}
    if settings.pricebook_entry_id:
        if not deleted:
            quantity = record.get("quantity") or 1
            unit_price = record.get("unit_price")
            if unit_price is None and record.get("amount") is not None:
                unit_price = record["amount"] / quantity
            payload.update({"Opportunity": parent_ref, "PricebookEntryId": settings.pricebook_entry_id,
                            "Quantity": quantity, "UnitPrice": unit_price,
                            "Description": _text(record.get("description"))})
        return Write("OpportunityLineItem", settings.line_external_id_field, ext, version, _checked(payload),
                     deleted, create_only=("Opportunity", "PricebookEntryId"))
    if not deleted:
        relationship = settings.line_item_parent_field.removesuffix("__c") + "__r"
        payload.update({
            "Name": _label(f"{record.get('doc_number') or record.get(HEADER_COLUMN)} "
                           f"#{record.get('line_num') or record.get('line_id')}", 80),
            relationship: parent_ref,
            "Line_Number__c": record.get("line_num"),
            "Description__c": _text(record.get("description")),
            "Amount__c": record.get("amount"),
            "Quantity__c": record.get("quantity"),
            "Unit_Price__c": record.get("unit_price"),
            "Item_Name__c": _text(record.get("item_name")),
            "QuickBooks_Item_Id__c": _text(record.get("item_id")),
        })
    return Write(settings.line_item_object, settings.line_external_id_field, ext, version, _checked(payload),
                 deleted)


def tombstone(sobject: str, external_field: str, external_id_value: str, deleted_at: Any, version: str,
              settings: MappingSettings) -> Write:
    """A write that flags an existing line deleted because its invoice was deleted."""
    payload = {AUDIT_FIELDS[DELETED_AT]: deleted_at, settings.version_field: version}
    return Write(sobject, external_field, external_id_value, version, payload, True)
