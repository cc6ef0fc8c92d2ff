"""QuickBooks records (docs/record-model.md) -> Salesforce sObject payloads. No I/O.

* ``customers`` / ``vendors`` -> ``Account`` (``Type`` Customer / Vendor, the fully qualified
  name as Name, the parent Account of a sub-customer, terms, open balance);
* ``invoices`` and ``bills`` -> ``Opportunity`` (``Type`` "QuickBooks Invoice" / "QuickBooks Bill")
  linked to the customer's or vendor's Account, and by default an ``Order`` of the same document;
* ``invoice_lines`` / ``bill_lines`` -> ``OrderItem`` (default, ``line_detail: order``),
  ``OpportunityLineItem`` or the custom object ``QuickBooks_Invoice_Line__c``;
* ``items`` -> ``Product2`` (ProductCode = the QuickBooks item's full name) with its
  ``PricebookEntry`` in the standard price book;
* ``accounts`` (the chart of accounts) -> the custom object ``QuickBooks_Account__c``.

External ids are ``{edition}:{company_id}:{entity}:{id}`` so customers and vendors with the
same QuickBooks id, or two companies, never collide in one Account table.
A deletion never removes a Salesforce record: the Account is marked inactive, the Opportunity
moves to the "deleted" stage, and every record gets ``QuickBooks_Deleted_At__c``. A deletion of a
record Salesforce does not hold yet is written too (what the record carries, and on creation the
fields Salesforce requires, ``Write.create_defaults``): the stored deletion is what keeps an
older live version, arriving later, from bringing the record back.

Values are sent as they came: a value Salesforce cannot hold (a text longer than its field, a
date outside the years 1700-4000) sets its record aside rather than being cut or moved. Only
the labels this module composes (an Opportunity's or a line's Name) are shortened to fit.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
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
# header stream -> (entity in the external id, Opportunity Type, party column, party entity)
HEADER_STREAMS = {"invoices": ("invoice", "QuickBooks Invoice", "customer_id", "customer"),
                  "bills": ("bill", "QuickBooks Bill", "vendor_id", "vendor")}
LINE_STREAMS = {lines: LINE_HEADERS[lines] for lines in ("invoice_lines", "bill_lines")}
LINE_STREAM = "invoice_lines"
HEADER_STREAM, HEADER_COLUMN = LINE_HEADERS[LINE_STREAM]
CHART_STREAM, ITEM_STREAM, TERMS_STREAM = "accounts", "items", "terms"
# The terms' name on an Account: the record's own terms_name when it carries one (QuickBooks
# Desktop always does), else the terms stream's name of terms_id (QBO), else none.
TERMS_NAME, TERMS_FIELD = "terms_name", "QuickBooks_Terms__c"
LINE_DETAILS = ("order", "opportunity_line_item", "custom_object")
# The record model's words for a copy that went out (docs/record-model.md).
WENT_OUT, QUEUED, QUEUE_ONLY_OFF = "sent", "pending", "not_pending"
# Salesforce stores dates and date/times from 1700-01-01 to 4000-12-31 only.
FIRST_DATE, LAST_DATE = dt.date(1700, 1, 1), dt.date(4000, 12, 31)
DATE_FIELDS = ("CloseDate", "QuickBooks_Due_Date__c", "EffectiveDate",
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
    line_detail: str = "custom_object"
    chart_object: str = "QuickBooks_Account__c"
    product_external_id_field: str = "QuickBooks_Id__c"
    order_status: str = "Draft"
    sent_invoices_only: bool = False
    # Set by the loader once per run: the org's standard price book (Orders and entries use it).
    standard_pricebook_id: str | None = None
    # Set by the loader from the org's describe: (precision, scale) of OrderItem's Quantity and
    # UnitPrice, so a line's quantity and rate are used only where Salesforce holds them exactly.
    order_item_sizes: tuple[tuple[str, int, int], ...] = ()

    @property
    def line_object(self) -> str:
        return {"order": "OrderItem", "opportunity_line_item": "OpportunityLineItem"}.get(
            self.line_detail, self.line_item_object)


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
    # Sent only when the record is created: the fields Salesforce requires that a deletion
    # does not carry (a Name, a parent), never written over what Salesforce holds.
    create_defaults: dict[str, Any] = field(default_factory=dict)
    # False when Salesforce could not create the record from this write (an Order without its
    # Account): then it only updates a record Salesforce already holds.
    creatable: bool = True


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


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a deletion carries of the record: its non-empty values. A QuickBooks deletion
    brings only the id and the time (docs/record-model.md); its nulls must not blank what
    Salesforce holds. When the live version came in the same batch, it carries that too."""
    return {k: v for k, v in values.items() if v is not None and v != {}}


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
    address = record.get("billing_address") or {}
    street = "\n".join(str(p) for p in (address.get("line1"), address.get("line2")) if p)
    name = (record.get("fully_qualified_name") or record.get("display_name") or record.get("company_name")
            or " ".join(p for p in (record.get("given_name"), record.get("family_name")) if p) or None)
    values: dict[str, Any] = {
        "Name": _text(name),
        "Type": account_type,
        "QuickBooks_Classification__c": account_type,
        "QuickBooks_Full_Name__c": _text(record.get("fully_qualified_name")),
        "QuickBooks_Terms_Id__c": _text(record.get("terms_id")),
        "Phone": _text(record.get("phone")),
        "QuickBooks_Email__c": _text(record.get("email")),
        "BillingStreet": street or None,
        "BillingCity": _text(address.get("city")),
        "BillingState": _text(address.get("region")),
        "BillingPostalCode": _text(address.get("postal_code")),
        "BillingCountry": _text(address.get("country")),
        "QuickBooks_Balance__c": record.get("balance"),
    }
    if stream == "vendors":
        values["AccountNumber"] = _text(record.get("account_number"))
    if TERMS_NAME in record or not record.get("terms_id"):
        # Left out when the terms' name is not known: never a name of other terms.
        values[TERMS_FIELD] = _text(record.get(TERMS_NAME))
    if record.get("parent_id"):
        values["Parent"] = {settings.account_external_id_field: external_id(record, entity, "parent_id")}
    payload: dict[str, Any] = {settings.account_active_field: False if deleted else record.get("active") is not False}
    payload.update(_audit(record, settings, version))
    if not deleted:
        payload.update(values)
        payload["Name"] = payload["Name"] or ext
        return Write("Account", settings.account_external_id_field, ext, version, _checked(payload), deleted)
    payload.update(_known(values))
    return Write("Account", settings.account_external_id_field, ext, version, _checked(payload), deleted,
                 create_defaults={"Name": ext})


def opportunity_write(record: Mapping[str, Any], settings: MappingSettings, stream: str = HEADER_STREAM) -> Write:
    entity, kind, party_column, party_entity = HEADER_STREAMS[stream]
    ext = external_id(record, entity)
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    lost = deleted or bool(record.get("voided"))
    label = "Invoice" if entity == "invoice" else "Bill"
    values: dict[str, Any] = {
        "Name": _label(f"{label} {record['doc_number']}", 120) if record.get("doc_number") else None,
        "Type": kind,
        "CloseDate": _date(record.get("txn_date")),
        "Amount": record.get("total_amount"),
        "QuickBooks_Balance__c": record.get("balance"),
        "QuickBooks_Doc_Number__c": _text(record.get("doc_number")),
        "QuickBooks_Due_Date__c": _date(record.get("due_date")),
        "Description": record.get("private_note"),
    }
    if record.get(party_column):
        values["Account"] = {settings.account_external_id_field: external_id(record, party_entity, party_column)}
    payload: dict[str, Any] = {"StageName": settings.deleted_opportunity_stage if lost else settings.opportunity_stage}
    payload.update(_audit(record, settings, version))
    if not deleted:
        payload.update(values)
        payload["Name"] = payload["Name"] or _label(f"{label} {record.get('id')}", 120)
        payload["CloseDate"] = payload["CloseDate"] or _date(record.get("updated_at"))
        return Write("Opportunity", settings.opportunity_external_id_field, ext, version, _checked(payload), deleted)
    payload.update(_known(values))
    # Closed on the day QuickBooks deleted it: the pipeline's view of the deal ends there.
    payload["CloseDate"] = _date(record.get(DELETED_AT))
    return Write("Opportunity", settings.opportunity_external_id_field, ext, version, _checked(payload), deleted,
                 create_defaults={"Name": _label(f"{label} {record.get('id')}", 120)})


def order_write(record: Mapping[str, Any], settings: MappingSettings, stream: str = HEADER_STREAM) -> Write:
    """The document as an Order of its Account, in the standard price book, tied to its
    Opportunity: the parent of the OrderItems (``line_detail: order``)."""
    entity, kind, party_column, party_entity = HEADER_STREAMS[stream]
    ext = external_id(record, entity)
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    values: dict[str, Any] = {
        "Status": settings.order_status,
        "Type": kind,
        "EffectiveDate": _date(record.get("txn_date")),
        "Description": record.get("private_note"),
        "QuickBooks_Doc_Number__c": _text(record.get("doc_number")),
        "QuickBooks_Total__c": record.get("total_amount"),
        "Opportunity": {settings.opportunity_external_id_field: ext},
        "Pricebook2Id": settings.standard_pricebook_id,
    }
    if record.get(party_column):
        values["Account"] = {settings.account_external_id_field: external_id(record, party_entity, party_column)}
    payload = _audit(record, settings, version)
    if not deleted:
        payload.update(values)
        payload["EffectiveDate"] = payload["EffectiveDate"] or _date(record.get("updated_at"))
        return Write("Order", settings.opportunity_external_id_field, ext, version, _checked(payload), deleted,
                     create_only=("Pricebook2Id",))
    payload.update(_known(values))
    # An Order must name its Account: a deletion that does not carry the party only flags an
    # Order Salesforce already holds.
    return Write("Order", settings.opportunity_external_id_field, ext, version, _checked(payload), deleted,
                 create_only=("Pricebook2Id",), create_defaults={"EffectiveDate": _date(record.get(DELETED_AT))},
                 creatable="Account" in payload)


def went_out(record: Mapping[str, Any]) -> bool:
    """Was a copy of the invoice emailed or printed? QBO says so (``sent``); QuickBooks Desktop
    keeps only the queue, so there an invoice off both queues counts as sent."""
    statuses = (record.get("email_status"), record.get("print_status"))
    if WENT_OUT in statuses:
        return True
    return QUEUE_ONLY_OFF in statuses and QUEUED not in statuses


def chart_write(record: Mapping[str, Any], settings: MappingSettings) -> Write:
    """A chart-of-accounts entry as the custom object sales and support staff can read."""
    ext = external_id(record, "account")
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    full_name = record.get("fully_qualified_name") or record.get("name")
    values: dict[str, Any] = {
        "Name": _label(str(full_name), 80) if full_name else None,
        "Full_Name__c": _text(full_name),
        "Account_Number__c": _text(record.get("account_number")),
        "Account_Type__c": _text(record.get("account_type")),
        "Account_Sub_Type__c": _text(record.get("account_sub_type")),
        "Classification__c": _text(record.get("classification")),
        "Description__c": _text(record.get("description")),
        "Current_Balance__c": record.get("current_balance"),
        "Parent_QuickBooks_Id__c": external_id(record, "account", "parent_id") if record.get("parent_id") else None,
    }
    payload = _audit(record, settings, version)
    payload["Active__c"] = False if deleted else record.get("active") is not False
    if not deleted:
        payload.update(values)
        payload["Name"] = payload["Name"] or _label(ext, 80)
        payload["Full_Name__c"] = payload["Full_Name__c"] or ext
        return Write(settings.chart_object, settings.account_external_id_field, ext, version, _checked(payload),
                     deleted)
    payload.update(_known(values))
    return Write(settings.chart_object, settings.account_external_id_field, ext, version, _checked(payload), deleted,
                 create_defaults={"Name": _label(ext, 80)})


def item_external_id(record: Mapping[str, Any], id_field: str = "id") -> str:
    return external_id(record, "item", id_field)


def product_write(record: Mapping[str, Any], settings: MappingSettings) -> Write:
    """An item as a Product2 whose ProductCode is QuickBooks' item name (the code on documents)."""
    ext = item_external_id(record)
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    code = record.get("fully_qualified_name") or record.get("name")
    values: dict[str, Any] = {
        "Name": _text(record.get("name") or code),
        "ProductCode": _text(code),
        "StockKeepingUnit": _text(record.get("sku")),
        "Family": _text(record.get("item_type")),
        "Description": _text(record.get("description")),
    }
    payload = _audit(record, settings, version)
    payload["IsActive"] = False if deleted else record.get("active") is not False
    if not deleted:
        payload.update(values)
        payload["Name"] = payload["Name"] or ext
        return Write("Product2", settings.product_external_id_field, ext, version, _checked(payload), deleted)
    payload.update(_known(values))
    return Write("Product2", settings.product_external_id_field, ext, version, _checked(payload), deleted,
                 create_defaults={"Name": ext})


def price_write(record: Mapping[str, Any], settings: MappingSettings) -> Write:
    """The item's price in the standard price book (an OrderItem names a PricebookEntry)."""
    ext = item_external_id(record)
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    payload = _audit(record, settings, version)
    payload["IsActive"] = False if deleted else record.get("active") is not False
    parents = {"Product2": {settings.product_external_id_field: ext}, "Pricebook2Id": settings.standard_pricebook_id}
    if not deleted:
        payload.update({"UnitPrice": record.get("unit_price") if record.get("unit_price") is not None else 0,
                        **parents})
        return Write("PricebookEntry", settings.product_external_id_field, ext, version, _checked(payload), deleted,
                     create_only=("Product2", "Pricebook2Id"))
    payload.update(_known({"UnitPrice": record.get("unit_price"), **parents}))
    return Write("PricebookEntry", settings.product_external_id_field, ext, version, _checked(payload), deleted,
                 create_only=("Product2", "Pricebook2Id"), create_defaults={"UnitPrice": 0})


def unlisted_item(company: Mapping[str, Any]) -> dict[str, Any]:
    """The product of lines without a QuickBooks item (expense lines, account-based lines):
    an OrderItem must name a PricebookEntry."""
    return {"company_id": company.get("company_id"), "edition": company.get("edition"), "id": "none",
            "name": "QuickBooks line without an item", "fully_qualified_name": "(no item)",
            "item_type": "NoItem", "unit_price": 0, "active": True}


def is_summary_line(record: Mapping[str, Any]) -> bool:
    # Subtotal lines repeat the amounts of the lines above them; as line items they would
    # double the Opportunity's total.
    return "subtotal" in str(record.get("detail_type") or "").lower()


def header_external_id(line: Mapping[str, Any], stream: str = LINE_STREAM) -> str:
    header_stream, column = LINE_STREAMS[stream]
    return external_id(line, HEADER_STREAMS[header_stream][0], column)


def _order_quantities(record: Mapping[str, Any], sizes: tuple[tuple[str, int, int], ...] = ()) -> tuple[Any, Any]:
    """Quantity and unit price whose product is the line's amount to the cent: QuickBooks'
    own when they multiply out and Salesforce holds both exactly (``sizes``: the org's
    precision and scale of OrderItem Quantity and UnitPrice), else one unit at the amount (a
    rate rounded on the document, an expense line without quantity, a five-place QuickBooks
    Desktop quantity)."""
    amount, quantity, rate = record.get("amount"), record.get("quantity"), record.get("unit_price")
    if amount is None:
        return quantity or 1, rate or 0
    try:
        if quantity and rate is not None and (decimal.Decimal(str(quantity)) * decimal.Decimal(str(rate))
                                              == decimal.Decimal(str(amount))):
            held = {"Quantity": decimal.Decimal(str(quantity)), "UnitPrice": decimal.Decimal(str(rate))}
            if all(decimal_fits(held[name], precision, scale) for name, precision, scale in sizes if name in held):
                return quantity, rate
    except decimal.InvalidOperation:
        pass
    return 1, amount


def line_write(record: Mapping[str, Any], settings: MappingSettings,
               header_deleted: HeaderDeletion | None = None, stream: str = LINE_STREAM) -> Write:
    """The line's write; a line whose document was deleted in this run is written deleted with
    it (never a live line under a deleted document), with what the line carries."""
    header_column = LINE_STREAMS[stream][1]
    invoice_ext = header_external_id(record, stream)
    ext = f"{invoice_ext}:line:{record.get('line_id')}"
    if header_deleted is not None and not record.get(DELETED_AT):
        record = {**record, DELETED_AT: header_deleted.deleted_at}
    deleted = bool(record.get(DELETED_AT))
    version = version_text(record)
    if header_deleted is not None:
        version = max(version, header_deleted.version)
    payload = _audit(record, settings, version)
    parent_ref = {settings.opportunity_external_id_field: invoice_ext}
    has_amount = record.get("amount") is not None
    if settings.line_detail == "order":
        values: dict[str, Any] = {}
        if has_amount or not deleted:
            quantity, unit_price = _order_quantities(record, settings.order_item_sizes)
            item_ext = item_external_id(record, "item_id") if record.get("item_id") else \
                item_external_id(unlisted_item(record))
            values = {"Order": parent_ref,
                      "PricebookEntry": {settings.product_external_id_field: item_ext},
                      "Quantity": quantity, "UnitPrice": unit_price,
                      # Description holds 255 characters; the whole text is kept beside it.
                      "Description": _label(str(record.get("description")), 255)
                      if record.get("description") is not None else None,
                      "QuickBooks_Description__c": _text(record.get("description")),
                      "QuickBooks_Amount__c": record.get("amount"),
                      "QuickBooks_Line_Number__c": record.get("line_num"),
                      "QuickBooks_Account_Name__c": _text(record.get("account_name"))}
        payload.update(_known(values) if deleted else values)
        return Write("OrderItem", settings.line_external_id_field, ext, version, _checked(payload),
                     deleted, create_only=("Order", "PricebookEntry"), creatable=bool(values))
    if settings.line_detail == "opportunity_line_item":
        values = {}
        if has_amount or not deleted:
            quantity = record.get("quantity") or 1
            unit_price = record.get("unit_price")
            if unit_price is None and record.get("amount") is not None:
                unit_price = record["amount"] / quantity
            values = {"Opportunity": parent_ref, "PricebookEntryId": settings.pricebook_entry_id,
                      "Quantity": quantity, "UnitPrice": unit_price,
                      "Description": _text(record.get("description"))}
        payload.update(_known(values) if deleted else values)
        return Write("OpportunityLineItem", settings.line_external_id_field, ext, version, _checked(payload),
                     deleted, create_only=("Opportunity", "PricebookEntryId"), creatable=bool(values))
    relationship = settings.line_item_parent_field.removesuffix("__c") + "__r"
    name = _label(f"{record.get('doc_number') or record.get(header_column)} "
                  f"#{record.get('line_num') or record.get('line_id')}", 80)
    values = {
        "Name": name,
        relationship: parent_ref,
        "Line_Number__c": record.get("line_num"),
        "Description__c": _text(record.get("description")),
        "Amount__c": record.get("amount"),
        "Quantity__c": record.get("quantity"),
        "Unit_Price__c": record.get("unit_price"),
        "Item_Name__c": _text(record.get("item_name")),
        "QuickBooks_Item_Id__c": _text(record.get("item_id")),
    }
    if not deleted:
        payload.update(values)
        return Write(settings.line_item_object, settings.line_external_id_field, ext, version, _checked(payload),
                     deleted)
    if has_amount:
        payload.update(_known(values))
    return Write(settings.line_item_object, settings.line_external_id_field, ext, version, _checked(payload),
                 deleted, create_defaults={"Name": name, relationship: parent_ref})


def tombstone(sobject: str, external_field: str, external_id_value: str, deleted_at: Any, version: str,
              settings: MappingSettings) -> Write:
    """A write that flags an existing line deleted because its invoice was deleted."""
    payload = {AUDIT_FIELDS[DELETED_AT]: deleted_at, settings.version_field: version}
    return Write(sobject, external_field, external_id_value, version, payload, True)
