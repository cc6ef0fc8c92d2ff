"""Double-entry postings derived from a transaction's JSON, in home-currency cents.

Reports are sums over these postings, so P&L, balance sheet, aging and general ledger agree with
the objects the API serves, whether the generator or a control-API mutation wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .store import Posting

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ItemAccounts:
    income: int | None
    expense: int | None
    asset: int | None
    cost: Decimal


@dataclass
class LedgerContext:
    item_accounts: Callable[[int], ItemAccounts | None]
    ar_account: Callable[[str], int]
    ap_account: Callable[[str], int]
    undeposited_funds: int
    cogs: int
    inventory_asset: int


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def to_home(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def split_home(total: Decimal, parts: Sequence[Decimal], rate: Decimal) -> tuple[int, list[int]]:
    """Home cents of a total and its parts; the last part absorbs rounding so they balance."""
    home_total = cents(to_home(total, rate))
    homes = [cents(to_home(p, rate)) for p in parts]
    if homes:
        homes[-1] = home_total - sum(homes[:-1])
    return home_total, homes


def _ref(obj: dict[str, Any], key: str) -> int | None:
    ref = obj.get(key)
    if not ref or not str(ref.get("value", "")).isdigit():
        return None
    return int(ref["value"])


def _rate(obj: dict[str, Any]) -> Decimal:
    return Decimal(str(obj.get("ExchangeRate", 1)))


def _currency(obj: dict[str, Any]) -> str:
    return str((obj.get("CurrencyRef") or {}).get("value", "USD"))


def _name(obj: dict[str, Any]) -> str | None:
    for key in ("CustomerRef", "VendorRef", "EntityRef"):
        ref = obj.get(key)
        if ref:
            return str(ref.get("name") or ref.get("value"))
    return None


def _detail_lines(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        line for line in obj.get("Line", [])
        if line.get("DetailType") not in (None, "SubTotalLineDetail", "DescriptionOnly")
    ]


def postings_for(entity: str, obj: dict[str, Any], ctx: LedgerContext) -> list[Posting]:
    txn_id = int(obj["Id"])
    txn_date = str(obj.get("TxnDate", ""))
    doc = obj.get("DocNumber")
    name = _name(obj)
    memo = obj.get("PrivateNote")
    out: list[Posting] = []

    def post(account: int | None, amount_cents: int, line_memo: str | None = None) -> None:
        if account is not None and amount_cents:
            out.append((entity, txn_id, txn_date, account, amount_cents, name, doc, line_memo or memo))

    rate = _rate(obj)
    total = Decimal(str(obj.get("TotalAmt", obj.get("Amount", 0))))
    lines = _detail_lines(obj)
    amounts = [Decimal(str(line.get("Amount", 0))) for line in lines]
    if total == 0 and entity not in ("JournalEntry",):
        return out

    if entity in ("Invoice", "CreditMemo", "SalesReceipt", "RefundReceipt"):
        sign = 1 if entity in ("Invoice", "SalesReceipt") else -1
        home_total, homes = split_home(total, amounts, rate)
        if entity in ("Invoice", "CreditMemo"):
            debit_account = _ref(obj, "ARAccountRef") or ctx.ar_account(_currency(obj))
        else:
            debit_account = _ref(obj, "DepositToAccountRef") or ctx.undeposited_funds
        post(debit_account, sign * home_total)
        for line, home in zip(lines, homes, strict=True):
            detail = line.get("SalesItemLineDetail", {})
            item_id = _ref(detail, "ItemRef")
            accounts = ctx.item_accounts(item_id) if item_id else None
            post(accounts.income if accounts else None, -sign * home, line.get("Description"))
            if accounts and accounts.asset and entity in ("Invoice", "SalesReceipt"):
                cost = cents(accounts.cost * Decimal(str(detail.get("Qty", 1))))
                post(ctx.cogs, cost)
                post(accounts.asset, -cost)
    elif entity in ("Payment", "BillPayment", "Deposit", "Purchase", "Bill", "VendorCredit"):
        home_total, homes = split_home(total, amounts, rate)
        if entity == "Payment":
            post(_ref(obj, "DepositToAccountRef") or ctx.undeposited_funds, home_total)
            post(_ref(obj, "ARAccountRef") or ctx.ar_account(_currency(obj)), -home_total)
        elif entity == "BillPayment":
            pay = obj.get("CheckPayment") or {}
            source = _ref(pay, "BankAccountRef") or _ref(obj.get("CreditCardPayment") or {}, "CCAccountRef")
            post(_ref(obj, "APAccountRef") or ctx.ap_account(_currency(obj)), home_total)
            post(source, -home_total)
        elif entity == "Deposit":
            post(_ref(obj, "DepositToAccountRef"), home_total)
            for line, home in zip(lines, homes, strict=True):
                post(_ref(line.get("DepositLineDetail", {}), "AccountRef"), -home, line.get("Description"))
        else:
            sign = -1 if entity == "VendorCredit" else 1
            if entity == "Purchase":
                post(_ref(obj, "AccountRef"), -home_total)
            else:
                post(_ref(obj, "APAccountRef") or ctx.ap_account(_currency(obj)), -sign * home_total)
            for line, home in zip(lines, homes, strict=True):
                post(_expense_account(line, ctx), sign * home, line.get("Description"))
    elif entity == "JournalEntry":
        for line in lines:
            detail = line.get("JournalEntryLineDetail", {})
            amount = cents(to_home(Decimal(str(line.get("Amount", 0))), rate))
            sign = 1 if detail.get("PostingType") == "Debit" else -1
            post(_ref(detail, "AccountRef"), sign * amount, line.get("Description"))
    elif entity == "Transfer":
        amount = cents(total)
        post(_ref(obj, "FromAccountRef"), -amount)
        post(_ref(obj, "ToAccountRef"), amount)
    return out


def _expense_account(line: dict[str, Any], ctx: LedgerContext) -> int | None:
    if "AccountBasedExpenseLineDetail" in line:
        return _ref(line["AccountBasedExpenseLineDetail"], "AccountRef")
    detail = line.get("ItemBasedExpenseLineDetail", {})
    item_id = _ref(detail, "ItemRef")
    accounts = ctx.item_accounts(item_id) if item_id else None
    if accounts is None:
        return None
    return accounts.asset or accounts.expense
