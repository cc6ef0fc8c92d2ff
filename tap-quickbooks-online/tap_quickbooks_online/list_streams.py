"""List (name) entities. Inactive records are always requested and emitted with active=false."""

from __future__ import annotations

import typing as t

from tap_quickbooks_online.entity_stream import EntityStream
from tap_quickbooks_online.records import (
    Obj,
    address,
    boolean,
    common_columns,
    date,
    integer,
    money,
    nested,
    ref_id,
    ref_name,
    text,
)


class ListStream(EntityStream):
    has_active = True

    def own_columns(self, obj: Obj) -> Obj:
        raise NotImplementedError

    def map_object(self, obj: Obj, company_id: str) -> Obj:
        row = common_columns(obj, company_id)
        row.update(self.own_columns(obj))
        return row


def _active(obj: Obj) -> bool | None:
    # Intuit omits Active on some entities when true.
    value = obj.get("Active")
    return True if value is None else boolean(value)


def _contact(obj: Obj) -> Obj:
    return {
        "display_name": text(obj.get("DisplayName")),
        "given_name": text(obj.get("GivenName")),
        "family_name": text(obj.get("FamilyName")),
        "email": text(nested(obj, "PrimaryEmailAddr", "Address")),
        "phone": text(nested(obj, "PrimaryPhone", "FreeFormNumber")),
    }


class AccountsStream(ListStream):
    name = "accounts"
    entity = "Account"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "fully_qualified_name": text(obj.get("FullyQualifiedName")),
            "account_number": text(obj.get("AcctNum")),
            "account_type": text(obj.get("AccountType")),
            "account_sub_type": text(obj.get("AccountSubType")),
            "classification": text(obj.get("Classification")),
            "parent_id": ref_id(obj, "ParentRef"),
            "description": text(obj.get("Description")),
            "currency": ref_id(obj, "CurrencyRef"),
            "current_balance": money(obj.get("CurrentBalance")),
            "active": _active(obj),
        }


class CustomersStream(ListStream):
    name = "customers"
    entity = "Customer"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            **_contact(obj),
            "fully_qualified_name": text(obj.get("FullyQualifiedName")) or text(obj.get("DisplayName")),
            "company_name": text(obj.get("CompanyName")),
            "parent_id": ref_id(obj, "ParentRef"),
            "terms_id": ref_id(obj, "SalesTermRef"),
            # Intuit sends the ref's name only sometimes: null then (the terms stream names it).
            "terms_name": ref_name(obj, "SalesTermRef"),
            "currency": ref_id(obj, "CurrencyRef"),
            "balance": money(obj.get("Balance")),
            "billing_address": address(obj.get("BillAddr")),
            "active": _active(obj),
        }


class VendorsStream(ListStream):
    name = "vendors"
    entity = "Vendor"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            **_contact(obj),
            # Vendors have no hierarchy in practice: Intuit often omits the name, which is then
            # the display name.
            "fully_qualified_name": text(obj.get("FullyQualifiedName")) or text(obj.get("DisplayName")),
            "company_name": text(obj.get("CompanyName")),
            "parent_id": ref_id(obj, "ParentRef"),
            "account_number": text(obj.get("AcctNum")),
            "currency": ref_id(obj, "CurrencyRef"),
            "balance": money(obj.get("Balance")),
            "billing_address": address(obj.get("BillAddr")),
            "vendor_1099": boolean(obj.get("Vendor1099")),
            "terms_id": ref_id(obj, "TermRef"),
            "terms_name": ref_name(obj, "TermRef"),
            "active": _active(obj),
        }


class EmployeesStream(ListStream):
    name = "employees"
    entity = "Employee"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            **_contact(obj),
            "hired_date": date(obj.get("HiredDate")),
            "released_date": date(obj.get("ReleasedDate")),
            "active": _active(obj),
        }


class ItemsStream(ListStream):
    name = "items"
    entity = "Item"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "fully_qualified_name": text(obj.get("FullyQualifiedName")),
            "sku": text(obj.get("Sku")),
            "item_type": text(obj.get("Type")),
            "description": text(obj.get("Description")),
            "unit_price": money(obj.get("UnitPrice")),
            "purchase_cost": money(obj.get("PurchaseCost")),
            "income_account_id": ref_id(obj, "IncomeAccountRef"),
            "expense_account_id": ref_id(obj, "ExpenseAccountRef"),
            "asset_account_id": ref_id(obj, "AssetAccountRef"),
            "quantity_on_hand": money(obj.get("QtyOnHand")),
            "active": _active(obj),
        }


class _HierarchyStream(ListStream):
    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "fully_qualified_name": text(obj.get("FullyQualifiedName")),
            "parent_id": ref_id(obj, "ParentRef"),
            "active": _active(obj),
        }


class ClassesStream(_HierarchyStream):
    name = "classes"
    entity = "Class"


class DepartmentsStream(_HierarchyStream):
    name = "departments"
    entity = "Department"


class CustomerTypesStream(ListStream):
    name = "customer_types"
    entity = "CustomerType"

    def own_columns(self, obj: Obj) -> Obj:
        return {"name": text(obj.get("Name")), "active": _active(obj)}


class PaymentMethodsStream(ListStream):
    name = "payment_methods"
    entity = "PaymentMethod"

    def own_columns(self, obj: Obj) -> Obj:
        return {"name": text(obj.get("Name")), "payment_type": text(obj.get("Type")), "active": _active(obj)}


class TermsStream(ListStream):
    name = "terms"
    entity = "Term"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "type": text(obj.get("Type")),
            "due_days": integer(obj.get("DueDays")),
            "discount_percent": money(obj.get("DiscountPercent")),
            "discount_days": integer(obj.get("DiscountDays")),
            "active": _active(obj),
        }


class TaxCodesStream(ListStream):
    name = "tax_codes"
    entity = "TaxCode"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "description": text(obj.get("Description")),
            "taxable": boolean(obj.get("Taxable")),
            "tax_group": boolean(obj.get("TaxGroup")),
            "active": _active(obj),
        }


class TaxRatesStream(ListStream):
    name = "tax_rates"
    entity = "TaxRate"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "name": text(obj.get("Name")),
            "description": text(obj.get("Description")),
            "rate_value": money(obj.get("RateValue")),
            "agency_id": ref_id(obj, "AgencyRef"),
            "special_tax_type": text(obj.get("SpecialTaxType")),
            "active": _active(obj),
        }


class CompanyCurrenciesStream(ListStream):
    name = "company_currencies"
    entity = "CompanyCurrency"

    def own_columns(self, obj: Obj) -> Obj:
        return {"code": text(obj.get("Code")), "name": text(obj.get("Name")), "active": _active(obj)}


class BudgetsStream(ListStream):
    name = "budgets"
    entity = "Budget"

    def own_columns(self, obj: Obj) -> Obj:
        details = [
            {
                "budget_date": date(d.get("BudgetDate")),
                "amount": money(d.get("Amount")),
                "account_id": ref_id(d, "AccountRef"),
                "customer_id": ref_id(d, "CustomerRef"),
                "class_id": ref_id(d, "ClassRef"),
                "department_id": ref_id(d, "DepartmentRef"),
            }
            for d in obj.get("BudgetDetail") or []
        ]
        return {
            "name": text(obj.get("Name")),
            "budget_type": text(obj.get("BudgetType")),
            "entry_type": text(obj.get("BudgetEntryType")),
            "start_date": date(obj.get("StartDate")),
            "end_date": date(obj.get("EndDate")),
            "active": _active(obj),
            "details": details,
        }


class _NoActiveStream(ListStream):
    has_active = False


class TaxAgenciesStream(_NoActiveStream):
    name = "tax_agencies"
    entity = "TaxAgency"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "display_name": text(obj.get("DisplayName")),
            "tax_registration_number": text(obj.get("TaxRegistrationNumber")),
            "tax_tracked_on_purchases": boolean(obj.get("TaxTrackedOnPurchases")),
            "tax_tracked_on_sales": boolean(obj.get("TaxTrackedOnSales")),
        }


class AttachablesStream(_NoActiveStream):
    name = "attachables"
    entity = "Attachable"

    def own_columns(self, obj: Obj) -> Obj:
        refs = [
            {"entity_type": text(nested(r, "EntityRef", "type")), "entity_id": text(nested(r, "EntityRef", "value"))}
            for r in obj.get("AttachableRef") or []
        ]
        return {
            "file_name": text(obj.get("FileName")),
            "note": text(obj.get("Note")),
            "category": text(obj.get("Category")),
            "content_type": text(obj.get("ContentType")),
            "size": money(obj.get("Size")),
            "entity_refs": refs,
        }


class CompanyInfoStream(_NoActiveStream):
    name = "company_info"
    entity = "CompanyInfo"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "company_name": text(obj.get("CompanyName")),
            "legal_name": text(obj.get("LegalName")),
            "country": text(obj.get("Country")),
            "email": text(nested(obj, "Email", "Address")),
            "phone": text(nested(obj, "PrimaryPhone", "FreeFormNumber")),
            "fiscal_year_start_month": text(obj.get("FiscalYearStartMonth")),
            "company_start_date": date(obj.get("CompanyStartDate")),
            "address": address(obj.get("CompanyAddr")),
        }


class PreferencesStream(_NoActiveStream):
    name = "preferences"
    entity = "Preferences"

    def own_columns(self, obj: Obj) -> Obj:
        settings = {k: v for k, v in obj.items() if k not in ("Id", "SyncToken", "MetaData", "domain", "sparse")}
        return {
            "home_currency": ref_id(obj.get("CurrencyPrefs"), "HomeCurrency"),
            "multi_currency_enabled": boolean(nested(obj, "CurrencyPrefs", "MultiCurrencyEnabled")),
            "fiscal_year_start_month": text(nested(obj, "AccountingInfoPrefs", "FiscalYearStartMonth")),
            "book_close_date": date(nested(obj, "AccountingInfoPrefs", "BookCloseDate")),
            "tracking_classes": boolean(nested(obj, "AccountingInfoPrefs", "ClassTrackingPerTxn")),
            "tracking_departments": boolean(nested(obj, "AccountingInfoPrefs", "TrackDepartments")),
            "settings": t.cast(Obj, settings),
        }


LIST_STREAMS: list[type[ListStream]] = [
    AccountsStream,
    CustomersStream,
    VendorsStream,
    EmployeesStream,
    ItemsStream,
    ClassesStream,
    DepartmentsStream,
    CustomerTypesStream,
    PaymentMethodsStream,
    TermsStream,
    TaxAgenciesStream,
    TaxCodesStream,
    TaxRatesStream,
    CompanyCurrenciesStream,
    BudgetsStream,
    AttachablesStream,
    CompanyInfoStream,
    PreferencesStream,
]
