"""A small described Salesforce org: Account, Opportunity, OpportunityLineItem, Order, OrderItem,
Product2, Pricebook2, PricebookEntry and the custom objects ``QuickBooks_Invoice_Line__c`` and
``QuickBooks_Account__c`` (the chart of accounts), with the custom fields the QuickBooks
integration adds (``QuickBooks_Id__c`` external ids, version and audit fields).

Writes are checked the way the platform checks them: unknown fields (``INVALID_FIELD``),
types, lengths (``STRING_TOO_LONG``), numbers with more integer digits than the field's
precision minus its scale (``NUMBER_OUTSIDE_VALID_RANGE``), restricted picklists, required fields on create
(``REQUIRED_FIELD_MISSING``), create-only fields on update (``INVALID_FIELD_FOR_INSERT_UPDATE``)
and external-id relationship references (``Account: {"QuickBooks_Id__c": ...}``); an OrderItem's
PricebookEntry must be in its Order's price book (``FIELD_INTEGRITY_EXCEPTION``), a product has one
entry per price book (``DUPLICATE_VALUE``).
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import re
import threading
from dataclasses import dataclass, field
from typing import Any

ID_PREFIX = {"Account": "001", "Opportunity": "006", "OpportunityLineItem": "00k", "Pricebook2": "01s",
             "PricebookEntry": "01u", "Product2": "01t", "Order": "801", "OrderItem": "802",
             "QuickBooks_Invoice_Line__c": "a0B", "QuickBooks_Account__c": "a0C"}


NUMBER_TYPES = ("currency", "double", "percent")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # id, string, textarea, boolean, currency, double, date, datetime, picklist, reference, phone
    length: int = 255
    external_id: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    required_on_create: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default_on_create: Any = None
    # Numbers: total digits and digits after the point, as describe reports them. Standard
    # currency fields (Opportunity.Amount, UnitPrice) are 18 and 2; a custom Currency(16, 2)
    # or Number(16, 2) field describes as 18 and 2 too (precision = length + decimal places).
    precision: int = 18
    scale: int = 2

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "length": self.length if self.type in ("string", "textarea", "phone", "picklist") else 0,
            "externalId": self.external_id, "unique": self.external_id, "nillable": self.nillable,
            "createable": self.createable, "updateable": self.updateable,
            "defaultedOnCreate": self.default_on_create is not None,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "picklistValues": [{"value": v, "label": v, "active": True, "defaultValue": False} for v in self.picklist],
            "restrictedPicklist": self.restricted,
            "label": self.name.replace("__c", "").replace("_", " "),
            "precision": self.precision if self.type in NUMBER_TYPES else 0,
            "scale": self.scale if self.type in NUMBER_TYPES else 0,
        }


def _quickbooks_fields(version: bool = True) -> list[Field]:
    fields = [
        Field("QuickBooks_Id__c", "string", 255, external_id=True),
        Field("QuickBooks_Source__c", "string", 80),
        Field("QuickBooks_Extracted_At__c", "datetime"),
        Field("QuickBooks_Received_At__c", "datetime"),
        Field("QuickBooks_Batched_At__c", "datetime"),
        Field("QuickBooks_Deleted_At__c", "datetime"),
    ]
    if version:
        fields.append(Field("QuickBooks_Version__c", "string", 120))
    return fields


STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")


def _system_fields() -> list[Field]:
    return [Field("Id", "id", 18, nillable=False, createable=False, updateable=False),
            Field("CreatedDate", "datetime", createable=False, updateable=False),
            Field("LastModifiedDate", "datetime", createable=False, updateable=False)]


SCHEMA: dict[str, list[Field]] = {
    "Account": [*_system_fields(),
        Field("Name", "string", 255, nillable=False, required_on_create=True),
        Field("Type", "picklist", 255, picklist=("Prospect", "Customer", "Vendor", "Partner", "Other")),
        Field("AccountNumber", "string", 40),
        Field("Phone", "phone", 40),
        Field("Description", "textarea", 32000),
        Field("BillingStreet", "textarea", 255),
        Field("BillingCity", "string", 40),
        Field("BillingState", "string", 80),
        Field("BillingPostalCode", "string", 20),
        Field("BillingCountry", "string", 80),
        Field("CurrencyIsoCode", "picklist", 3, picklist=("USD", "EUR", "GBP", "CAD", "AUD")),
        Field("ParentId", "reference", 18, reference_to="Account", relationship_name="Parent"),
        Field("Active__c", "boolean", nillable=False, default_on_create=True),
        Field("QuickBooks_Balance__c", "currency"),
        Field("QuickBooks_Email__c", "string", 80),
        Field("QuickBooks_Full_Name__c", "string", 255),
        Field("QuickBooks_Classification__c", "picklist", 255, picklist=("Customer", "Vendor", "Both")),
        Field("QuickBooks_Terms_Id__c", "string", 80),
        Field("QuickBooks_Terms__c", "string", 80),
        Field("QuickBooks_Aging_Current__c", "currency"),
        Field("QuickBooks_Aging_1_30__c", "currency"),
        Field("QuickBooks_Aging_31_60__c", "currency"),
        Field("QuickBooks_Aging_61_90__c", "currency"),
        Field("QuickBooks_Aging_Over_90__c", "currency"),
        Field("QuickBooks_Aging_As_Of__c", "date"),
        Field("QuickBooks_Open_Documents__c", "double", scale=0),
        Field("QuickBooks_Paid_Documents__c", "double", scale=0),
        Field("QuickBooks_Last_Payment_Date__c", "date"),
    *_quickbooks_fields()],
    "Opportunity": [*_system_fields(),
        Field("Name", "string", 120, nillable=False, required_on_create=True),
        Field("AccountId", "reference", 18, reference_to="Account", relationship_name="Account"),
        Field("StageName", "picklist", 255, nillable=False, required_on_create=True, picklist=STAGES, restricted=True),
        Field("CloseDate", "date", nillable=False, required_on_create=True),
        Field("Amount", "currency"),
        Field("Description", "textarea", 32000),
        Field("Type", "picklist", 255, picklist=("Existing Customer - Upgrade", "New Customer", "QuickBooks Invoice",
                                                 "QuickBooks Bill")),
        Field("Pricebook2Id", "reference", 18, reference_to="Pricebook2", relationship_name="Pricebook2"),
        Field("QuickBooks_Doc_Number__c", "string", 40),
        Field("QuickBooks_Balance__c", "currency"),
        Field("QuickBooks_Due_Date__c", "date"),
        Field("CurrencyIsoCode", "picklist", 3, picklist=("USD", "EUR", "GBP", "CAD", "AUD")),
    *_quickbooks_fields()],
    "OpportunityLineItem": [*_system_fields(),
        Field("OpportunityId", "reference", 18, nillable=False, required_on_create=True, updateable=False,
              reference_to="Opportunity", relationship_name="Opportunity"),
        Field("PricebookEntryId", "reference", 18, required_on_create=True, updateable=False,
              reference_to="PricebookEntry", relationship_name="PricebookEntry"),
        Field("Quantity", "double", nillable=False, required_on_create=True),
        Field("UnitPrice", "currency"),
        Field("TotalPrice", "currency"),
        Field("Description", "string", 255),
        Field("ServiceDate", "date"),
    *_quickbooks_fields()],
    "QuickBooks_Invoice_Line__c": [*_system_fields(),
        Field("Name", "string", 80),
        Field("Opportunity__c", "reference", 18, nillable=False, required_on_create=True,
              reference_to="Opportunity", relationship_name="Opportunity__r"),
        Field("Line_Number__c", "double", scale=0),
        Field("Description__c", "textarea", 4000),
        Field("Amount__c", "currency"),
        Field("Quantity__c", "double"),
        Field("Unit_Price__c", "currency"),
        Field("Item_Name__c", "string", 255),
        Field("QuickBooks_Item_Id__c", "string", 255),
    *_quickbooks_fields()],
    "QuickBooks_Account__c": [*_system_fields(),
        Field("Name", "string", 80, required_on_create=True),
        Field("Full_Name__c", "string", 255),
        Field("Account_Number__c", "string", 40),
        Field("Account_Type__c", "string", 80),
        Field("Account_Sub_Type__c", "string", 80),
        Field("Classification__c", "string", 40),
        Field("Description__c", "textarea", 4000),
        Field("Current_Balance__c", "currency"),
        Field("Parent_QuickBooks_Id__c", "string", 255),
        Field("Active__c", "boolean", nillable=False, default_on_create=True),
    *_quickbooks_fields()],
    "Product2": [*_system_fields(),
        Field("Name", "string", 255, nillable=False, required_on_create=True),
        Field("ProductCode", "string", 255),
        Field("StockKeepingUnit", "string", 180),
        Field("Family", "picklist", 255),
        Field("Description", "textarea", 4000),
        Field("IsActive", "boolean", nillable=False, default_on_create=False),
    *_quickbooks_fields()],
    "Pricebook2": [*_system_fields(),
        Field("Name", "string", 255, required_on_create=True), Field("IsStandard", "boolean", createable=False),
        Field("IsActive", "boolean"),
    ],
    "PricebookEntry": [*_system_fields(),
        Field("Pricebook2Id", "reference", 18, nillable=False, required_on_create=True, updateable=False,
              reference_to="Pricebook2", relationship_name="Pricebook2"),
        Field("Product2Id", "reference", 18, nillable=False, required_on_create=True, updateable=False,
              reference_to="Product2", relationship_name="Product2"),
        Field("UnitPrice", "currency", nillable=False, required_on_create=True),
        Field("IsActive", "boolean", nillable=False, default_on_create=False),
        Field("UseStandardPrice", "boolean", nillable=False, default_on_create=False),
    *_quickbooks_fields()],
    "Order": [*_system_fields(),
        Field("AccountId", "reference", 18, required_on_create=True, reference_to="Account", relationship_name="Account"),
        Field("OpportunityId", "reference", 18, reference_to="Opportunity", relationship_name="Opportunity"),
        Field("Pricebook2Id", "reference", 18, reference_to="Pricebook2", relationship_name="Pricebook2"),
        Field("EffectiveDate", "date", nillable=False, required_on_create=True),
        Field("Status", "picklist", 40, nillable=False, required_on_create=True, picklist=("Draft", "Activated"),
              restricted=True),
        Field("Type", "picklist", 255, picklist=("QuickBooks Invoice", "QuickBooks Bill")),
        Field("Description", "textarea", 32000),
        Field("QuickBooks_Doc_Number__c", "string", 40),
        Field("QuickBooks_Total__c", "currency"),
    *_quickbooks_fields()],
    "OrderItem": [*_system_fields(),
        Field("OrderId", "reference", 18, nillable=False, required_on_create=True, updateable=False,
              reference_to="Order", relationship_name="Order"),
        Field("PricebookEntryId", "reference", 18, nillable=False, required_on_create=True, updateable=False,
              reference_to="PricebookEntry", relationship_name="PricebookEntry"),
        Field("Product2Id", "reference", 18, createable=False, updateable=False, reference_to="Product2",
              relationship_name="Product2"),
        Field("Quantity", "double", nillable=False, required_on_create=True),
        Field("UnitPrice", "currency", nillable=False, required_on_create=True),
        Field("TotalPrice", "currency", createable=False, updateable=False),
        Field("Description", "string", 255),
        Field("QuickBooks_Amount__c", "currency"),
        Field("QuickBooks_Line_Number__c", "double", scale=0),
        Field("QuickBooks_Description__c", "textarea", 4000),
        Field("QuickBooks_Account_Name__c", "string", 255),
    *_quickbooks_fields()],
}


class SalesforceError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []

    def body(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


@dataclass
class UpsertResult:
    id: str | None
    created: bool
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.errors

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "success": self.success, "errors": self.errors, "created": self.created}


class Org:
    """Records of every described sObject, with upsert, query and describe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self._counter = 0
        standard = self._insert("Pricebook2", {"Name": "Standard Price Book", "IsStandard": True, "IsActive": True})
        self.standard_pricebook_id = standard
        self.pricebook_entry_id = self._insert("PricebookEntry", {
            "Pricebook2Id": standard, "UnitPrice": decimal.Decimal("0"), "IsActive": True})

    def describe(self, sobject: str) -> dict[str, Any]:
        fields = self._fields(sobject)
        return {"name": sobject, "label": sobject, "custom": sobject.endswith("__c"), "createable": True,
                "updateable": True, "queryable": True, "fields": [f.describe() for f in fields.values()]}

    def _fields(self, sobject: str) -> dict[str, Field]:
        if sobject not in SCHEMA:
            raise SalesforceError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{sobject}' is not supported.")
        return {f.name: f for f in SCHEMA[sobject]}

    def _new_id(self, sobject: str) -> str:
        self._counter += 1
        return f"{ID_PREFIX[sobject]}{self._counter:012d}AAA"[:18]

    def _insert(self, sobject: str, values: dict[str, Any]) -> str:
        record_id = self._new_id(sobject)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        self.records[sobject][record_id] = {"Id": record_id, "CreatedDate": now, "LastModifiedDate": now, **values}
        return record_id

    # --- writes -----------------------------------------------------------------------------

    def upsert(self, sobject: str, external_field: str, record: dict[str, Any],
               external_value: Any = None) -> UpsertResult:
        with self._lock:
            try:
                return self._upsert(sobject, external_field, dict(record), external_value)
            except SalesforceError as exc:
                return UpsertResult(None, False, [{"statusCode": exc.code, "message": exc.message, "fields": exc.fields}])

    def _upsert(self, sobject: str, external_field: str, record: dict[str, Any], external_value: Any) -> UpsertResult:
        fields = self._fields(sobject)
        ext = fields.get(external_field)
        if ext is None or not (ext.external_id or ext.name == "Id"):
            raise SalesforceError(400, "INVALID_FIELD", f"Field {external_field} is not an external id field of {sobject}")
        record.pop("attributes", None)
        if external_value is None:
            external_value = record.get(external_field)
        if external_value in (None, ""):
            raise SalesforceError(400, "MISSING_ARGUMENT", f"{external_field} not specified", [external_field])
        values = self._resolve(sobject, fields, record)
        values[external_field] = external_value
        existing_id = next((rid for rid, r in self.records[sobject].items()
                            if r.get(external_field) == external_value), None)
        self._integrity(sobject, values, existing_id)
        if existing_id is None:
            for name, spec in fields.items():
                if spec.required_on_create and values.get(name) in (None, ""):
                    raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name])
                if spec.default_on_create is not None and name not in values:
                    values[name] = spec.default_on_create
            new_id = self._insert(sobject, values)
            return UpsertResult(new_id, True)
        # Fields neither createable nor updateable here are the platform's own (TotalPrice).
        bad = [n for n in values if n != external_field and not fields[n].updateable and fields[n].createable]
        if bad:
            raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                  f"Unable to create/update fields: {', '.join(bad)}. Please check the security "
                                  "settings of this field and verify that it is read/write for your profile or permission set.", bad)
        stored = self.records[sobject][existing_id]
        stored.update(values)
        stored["LastModifiedDate"] = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        return UpsertResult(existing_id, False)

    def _integrity(self, sobject: str, values: dict[str, Any], existing_id: str | None) -> None:
        """The platform's cross-record rules for the price book objects."""
        if sobject == "PricebookEntry" and existing_id is None:
            pair = (values.get("Pricebook2Id"), values.get("Product2Id"))
            if any((r.get("Pricebook2Id"), r.get("Product2Id")) == pair for r in self.records[sobject].values()):
                raise SalesforceError(400, "DUPLICATE_VALUE", "This price definition already exists in this price book",
                                      [])
        if sobject == "OrderItem" and existing_id is None:
            order = self.records["Order"].get(str(values.get("OrderId")))
            entry = self.records["PricebookEntry"].get(str(values.get("PricebookEntryId")))
            if order is None or entry is None or order.get("Pricebook2Id") != entry.get("Pricebook2Id"):
                raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION",
                                      "field integrity exception: PricebookEntryId (pricebook entry is in a different "
                                      "pricebook than the one assigned to the order, or Order has no pricebook "
                                      "assigned)", ["PricebookEntryId"])
            values["Product2Id"] = entry.get("Product2Id")
        if sobject == "OrderItem":
            stored = self.records["OrderItem"].get(existing_id or "", {})
            quantity = values.get("Quantity", stored.get("Quantity"))
            price = values.get("UnitPrice", stored.get("UnitPrice"))
            if quantity is not None and price is not None:
                values["TotalPrice"] = decimal.Decimal(str(quantity)) * decimal.Decimal(str(price))

    def _resolve(self, sobject: str, fields: dict[str, Field], record: dict[str, Any]) -> dict[str, Any]:
        by_relationship = {f.relationship_name: f for f in fields.values() if f.relationship_name}
        values: dict[str, Any] = {}
        for name, value in record.items():
            if name in by_relationship and isinstance(value, dict):
                spec = by_relationship[name]
                values[spec.name] = self._reference(spec, value)
                continue
            spec_or_none = fields.get(name)
            if spec_or_none is None:
                raise SalesforceError(400, "INVALID_FIELD",
                                      f"No such column '{name}' on sobject of type {sobject}", [name])
            spec = spec_or_none
            if not spec.createable and not spec.updateable:
                raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                      f"Unable to create/update fields: {name}.", [name])
            values[name] = _check_value(spec, value)
        return values

    def _reference(self, spec: Field, value: dict[str, Any]) -> str:
        target = spec.reference_to or ""
        value = {k: v for k, v in value.items() if k != "attributes"}
        if len(value) != 1:
            raise SalesforceError(400, "INVALID_FIELD", f"Invalid foreign key reference for {spec.relationship_name}", [spec.name])
        ((key_field, key_value),) = value.items()
        target_fields = self._fields(target)
        if key_field not in target_fields or not (target_fields[key_field].external_id or key_field == "Id"):
            raise SalesforceError(400, "INVALID_FIELD",
                                  f"{key_field} is not an external id field of {target}", [spec.name])
        for rid, r in self.records[target].items():
            if r.get(key_field) == key_value:
                return rid
        raise SalesforceError(400, "INVALID_FIELD",
                              f"Foreign key external ID: {key_value} not found for field {key_field} in entity {target}",
                              [spec.name])

    # --- reads ------------------------------------------------------------------------------

    def query(self, soql: str) -> list[dict[str, Any]]:
        select = _parse_soql(soql)
        with self._lock:
            fields = self._fields(select.sobject)
            for name in [*select.fields, *(c.field for c in select.conditions)]:
                if name not in fields:
                    raise SalesforceError(400, "INVALID_FIELD",
                                          f"No such column '{name}' on entity '{select.sobject}'.")
            rows = [r for r in self.records[select.sobject].values()
                    if all(c.matches(r.get(c.field)) for c in select.conditions)]
            result = []
            for r in rows:
                out: dict[str, Any] = {"attributes": {"type": select.sobject,
                                                      "url": f"/services/data/v62.0/sobjects/{select.sobject}/{r['Id']}"}}
                out.update({name: r.get(name) for name in select.fields})
                result.append(out)
            if select.limit is not None:
                result = result[: select.limit]
            return result

    def snapshot(self, sobject: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.records[sobject])

    def restore(self, sobject: str, snapshot: dict[str, dict[str, Any]]) -> None:
        with self._lock:
            self.records[sobject] = snapshot

    def find(self, sobject: str, external_field: str, value: Any) -> dict[str, Any] | None:
        with self._lock:
            for r in self.records[sobject].values():
                if r.get(external_field) == value:
                    return dict(r)
        return None


def _check_value(spec: Field, value: Any) -> Any:
    if value is None:
        if not spec.nillable:
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{spec.name}]", [spec.name])
        return None
    kind = spec.type
    bad = SalesforceError(400, "JSON_PARSER_ERROR" if kind != "picklist" else "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"Cannot deserialize instance of {kind} from value {str(value)[:40]!r} for field {spec.name}", [spec.name])
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad
    if kind in ("currency", "double", "percent"):
        if isinstance(value, bool):
            raise bad
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise bad from None
        if not number.is_finite():
            raise bad
        # The integer part must fit in precision - scale digits. Decimals beyond the scale are
        # kept as sent: the API stores them and only the UI shows the value rounded to the
        # scale (Salesforce Help, "Number Field Stores More Decimal Places Than Defined When
        # Set via API or Apex", article 000387302).
        if not number.is_zero() and number.adjusted() >= spec.precision - spec.scale:
            raise SalesforceError(400, "NUMBER_OUTSIDE_VALID_RANGE",
                                  f"{spec.name}: value outside of valid range on numeric field: {value}",
                                  [spec.name])
        return number
    if kind == "date":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            raise bad from None
        return str(value)
    if kind == "datetime":
        try:
            dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise bad from None
        return str(value)
    if kind == "reference":
        if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Za-z]{15,18}", value):
            raise SalesforceError(400, "MALFORMED_ID", f"{spec.name}: id value of incorrect type: {value}", [spec.name])
        return value
    text = str(value)
    if kind == "picklist" and spec.restricted and text not in spec.picklist:
        raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{spec.name}: bad value for restricted picklist field: {text}", [spec.name])
    if len(text) > spec.length:
        raise SalesforceError(400, "STRING_TOO_LONG",
                              f"{spec.name}: data value too large: {text[:40]}... (max length={spec.length})", [spec.name])
    return text


@dataclass
class Condition:
    field: str
    op: str
    values: list[Any]

    def matches(self, value: Any) -> bool:
        if self.op == "IN":
            return value in self.values
        if self.op == "=":
            return value == self.values[0]
        if self.op == "!=":
            return value != self.values[0]
        if self.op in (">", "<"):
            # SOQL: a null never compares greater or less than anything.
            if value is None or self.values[0] is None:
                return False
            left, right = decimal.Decimal(str(value)), decimal.Decimal(str(self.values[0]))
            return left > right if self.op == ">" else left < right
        if self.op == "LIKE":
            pattern = re.escape(str(self.values[0])).replace("%", ".*").replace("_", ".")
            return value is not None and re.fullmatch(pattern, str(value), re.IGNORECASE) is not None
        return False


@dataclass
class Select:
    fields: list[str]
    sobject: str
    conditions: list[Condition]
    limit: int | None


_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
                     r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.IGNORECASE | re.DOTALL)
_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*(?:(?P<in>IN)\s*\((?P<list>.*)\)|(?P<op>!=|=|>|<|LIKE)\s*(?P<value>.+?))\s*$",
                        re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'|(true|false|null)|(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _parse_literals(text: str) -> list[Any]:
    values: list[Any] = []
    for quoted, keyword, number in _LITERAL.findall(text):
        if keyword:
            values.append({"true": True, "false": False, "null": None}[keyword.lower()])
        elif number:
            values.append(decimal.Decimal(number))
        else:
            values.append(re.sub(r"\\(.)", r"\1", quoted))
    return values


def _parse_soql(soql: str) -> Select:
    match = _SELECT.match(soql)
    if not match:
        raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token in query: {soql[:80]}")
    fields = [f.strip() for f in match.group("fields").split(",")]
    conditions: list[Condition] = []
    if match.group("where"):
        for part in re.split(r"\s+AND\s+", match.group("where"), flags=re.IGNORECASE):
            cond = _CONDITION.match(part)
            if not cond:
                raise SalesforceError(400, "MALFORMED_QUERY", f"unsupported condition: {part[:80]}")
            if cond.group("in"):
                conditions.append(Condition(cond.group("field"), "IN", _parse_literals(cond.group("list"))))
            else:
                conditions.append(Condition(cond.group("field"), cond.group("op").upper(),
                                            _parse_literals(cond.group("value"))))
    limit = int(match.group("limit")) if match.group("limit") else None
    return Select(fields, match.group("obj"), conditions, limit)
