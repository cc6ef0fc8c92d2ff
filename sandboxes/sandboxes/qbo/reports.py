"""Intuit report JSON (Header / Columns / Rows) computed from the realm's postings and objects.

Amounts are summed as integer cents in SQL and printed as decimal strings, the way Intuit's report
ColData carries them. Accrual basis; aging uses each document's current Balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import QBOFault
from .ledger import cents, to_home
from .store import RealmStore

REPORTS = ("ProfitAndLoss", "BalanceSheet", "AgedPayables", "AgedReceivables", "GeneralLedger")
PL_SECTIONS = (
    ("Income", "Income", ("Income",)),
    ("Cost of Goods Sold", "COGS", ("Cost of Goods Sold",)),
    ("Expenses", "Expenses", ("Expense",)),
    ("Other Income", "OtherIncome", ("Other Income",)),
    ("Other Expenses", "OtherExpenses", ("Other Expense",)),
)
CREDIT_NORMAL = {"Liability", "Equity", "Revenue"}


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    account_type: str
    classification: str


def open_home_cents(home_balance: Any, balance: Any, unapplied: Any, rate: Any) -> int:
    """What a document still owes in home-currency cents, rounded the way the ledger posted it."""
    if home_balance is not None:
        return cents(Decimal(str(home_balance)))
    if balance is not None:
        return cents(Decimal(str(balance)))
    return cents(to_home(Decimal(str(unapplied)), Decimal(str(rate or 1))))


def money_text(amount_cents: int) -> str:
    return format((Decimal(amount_cents) / 100).quantize(Decimal("0.01")), "f")


def data_row(cells: list[dict[str, str]]) -> dict[str, Any]:
    return {"ColData": cells, "type": "Data"}


def section(title: str | None, rows: list[dict[str, Any]], summary: list[dict[str, str]] | None, group: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if title is not None:
        out["Header"] = {"ColData": [{"value": title}] + [{"value": ""}] * (len(summary or [1, 1]) - 1)}
    if rows:
        out["Rows"] = {"Row": rows}
    if summary is not None:
        out["Summary"] = {"ColData": summary}
    out["type"] = "Section"
    out["group"] = group
    return out


def column(title: str, col_type: str, key: str) -> dict[str, Any]:
    return {"ColTitle": title, "ColType": col_type, "MetaData": [{"Name": "ColKey", "Value": key}]}


class ReportBuilder:
    def __init__(self, store: RealmStore, today: date, server_time: str) -> None:
        self.store = store
        self.today = today
        self.time = server_time

    def accounts(self) -> dict[int, AccountInfo]:
        rows = self.store.execute(
            "SELECT id, json_extract(payload, '$.Name'), json_extract(payload, '$.AccountType'), "
            "json_extract(payload, '$.Classification') FROM objects WHERE entity = 'Account' AND deleted = 0"
        )
        return {r[0]: AccountInfo(r[0], r[1], r[2], r[3]) for r in rows}

    def header(self, name: str, params: Mapping[str, str], **periods: str) -> dict[str, Any]:
        header: dict[str, Any] = {
            "Time": self.time, "ReportName": name,
            "ReportBasis": params.get("accounting_method", "Accrual"),
            **periods,
            "Currency": "USD",
            "Option": [{"Name": "NoReportData", "Value": "false"}],
        }
        return header

    def date_param(self, params: Mapping[str, str], key: str, default: date) -> date:
        text = params.get(key)
        if not text:
            return default
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise QBOFault(400, "2020", "Invalid date", f"{key}={text} is not a date (YYYY-MM-DD)") from None

    def build(self, name: str, params: Mapping[str, str]) -> dict[str, Any]:
        method = params.get("accounting_method", "Accrual")
        if method not in ("Accrual", "Cash"):
            raise QBOFault(400, "2050", "Invalid report parameter", f"accounting_method={method}")
        builder = {
            "ProfitAndLoss": self.profit_and_loss, "BalanceSheet": self.balance_sheet,
            "AgedReceivables": self.aged_receivables, "AgedPayables": self.aged_payables,
            "GeneralLedger": self.general_ledger,
        }[name]
        return builder(params)

    # P&L -------------------------------------------------------------------------------------
    def sums(self, start: date | None, end: date) -> dict[int, int]:
        sql = "SELECT account_id, sum(cents) FROM postings WHERE txn_date <= ?"
        args: list[Any] = [end.isoformat()]
        if start is not None:
            sql += " AND txn_date >= ?"
            args.append(start.isoformat())
        return dict(self.store.execute(sql + " GROUP BY account_id", args))

    def profit_and_loss(self, params: Mapping[str, str]) -> dict[str, Any]:
        end = self.date_param(params, "end_date", self.today)
        start = self.date_param(params, "start_date", date(end.year, 1, 1))
        accounts = self.accounts()
        sums = self.sums(start, end)
        totals: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for title, group, types in PL_SECTIONS:
            data = []
            total = 0
            for acct in sorted(accounts.values(), key=lambda a: a.name):
                if acct.account_type not in types or acct.id not in sums:
                    continue
                value = -sums[acct.id] if acct.classification in CREDIT_NORMAL else sums[acct.id]
                total += value
                data.append(data_row([{"value": acct.name, "id": str(acct.id)}, {"value": money_text(value)}]))
            totals[group] = total
            rows.append(section(title, data, [{"value": f"Total {title}"}, {"value": money_text(total)}], group))
            if group == "COGS":
                gross = totals["Income"] - totals["COGS"]
                rows.append(section(None, [], [{"value": "Gross Profit"}, {"value": money_text(gross)}], "GrossProfit"))
            if group == "Expenses":
                noi = totals["Income"] - totals["COGS"] - totals["Expenses"]
                rows.append(section(None, [], [{"value": "Net Operating Income"}, {"value": money_text(noi)}], "NetOperatingIncome"))
        net_other = totals["OtherIncome"] - totals["OtherExpenses"]
        rows.append(section(None, [], [{"value": "Net Other Income"}, {"value": money_text(net_other)}], "NetOtherIncome"))
        net = totals["Income"] - totals["COGS"] - totals["Expenses"] + net_other
        rows.append(section(None, [], [{"value": "Net Income"}, {"value": money_text(net)}], "NetIncome"))
        return {
            "Header": self.header("ProfitAndLoss", params, StartPeriod=start.isoformat(), EndPeriod=end.isoformat(), SummarizeColumnsBy="Total"),
            "Columns": {"Column": [column("", "Account", "account"), column("Total", "Money", "total")]},
            "Rows": {"Row": rows},
        }

    # balance sheet ---------------------------------------------------------------------------
    def balance_sheet(self, params: Mapping[str, str]) -> dict[str, Any]:
        end = self.date_param(params, "end_date", self.today)
        start = self.date_param(params, "start_date", date(end.year, 1, 1))
        accounts = self.accounts()
        to_date = self.sums(None, end)
        year_start = date(end.year, 1, 1)
        ytd = self.sums(year_start, end)

        def pl_total(sums: dict[int, int]) -> int:
            # Net income is credit-normal: income minus expenses = -(sum of P&L postings).
            return -sum(v for k, v in sums.items() if k in accounts and accounts[k].classification in ("Revenue", "Expense"))

        net_income = pl_total(ytd)
        retained_extra = pl_total(to_date) - net_income

        def group_rows(classification: str) -> tuple[list[dict[str, Any]], int]:
            by_type: dict[str, list[tuple[AccountInfo, int]]] = defaultdict(list)
            for acct in accounts.values():
                if acct.classification != classification or acct.id not in to_date:
                    continue
                value = to_date[acct.id] if classification == "Asset" else -to_date[acct.id]
                by_type[acct.account_type].append((acct, value))
            out, grand = [], 0
            for acct_type in sorted(by_type):
                data, total = [], 0
                for acct, value in sorted(by_type[acct_type], key=lambda p: p[0].name):
                    if classification == "Equity" and acct.name == "Retained Earnings":
                        value += retained_extra
                    total += value
                    data.append(data_row([{"value": acct.name, "id": str(acct.id)}, {"value": money_text(value)}]))
                grand += total
                out.append(section(acct_type, data, [{"value": f"Total {acct_type}"}, {"value": money_text(total)}], acct_type.replace(" ", "")))
            return out, grand

        assets, total_assets = group_rows("Asset")
        liabilities, total_liabilities = group_rows("Liability")
        equity, total_equity = group_rows("Equity")
        if retained_extra and not any(a.name == "Retained Earnings" and a.id in to_date for a in accounts.values()):
            equity.append(data_row([{"value": "Retained Earnings"}, {"value": money_text(retained_extra)}]))
            total_equity += retained_extra
        equity.append(data_row([{"value": "Net Income"}, {"value": money_text(net_income)}]))
        total_equity += net_income
        rows = [
            section("ASSETS", assets, [{"value": "TOTAL ASSETS"}, {"value": money_text(total_assets)}], "TotalAssets"),
            section("LIABILITIES AND EQUITY", [
                section("Liabilities", liabilities, [{"value": "Total Liabilities"}, {"value": money_text(total_liabilities)}], "Liabilities"),
                section("Equity", equity, [{"value": "Total Equity"}, {"value": money_text(total_equity)}], "Equity"),
            ], [{"value": "TOTAL LIABILITIES AND EQUITY"}, {"value": money_text(total_liabilities + total_equity)}], "TotalLiabilitiesAndEquity"),
        ]
        return {
            "Header": self.header("BalanceSheet", params, StartPeriod=start.isoformat(), EndPeriod=end.isoformat(), SummarizeColumnsBy="Total"),
            "Columns": {"Column": [column("", "Account", "account"), column("Total", "Money", "total")]},
            "Rows": {"Row": rows},
        }

    # aging -----------------------------------------------------------------------------------
    def aging(self, params: Mapping[str, str], name: str, party_key: str, docs: tuple[tuple[str, int, str], ...]) -> dict[str, Any]:
        report_date = self.date_param(params, "report_date", self.today)
        period = int(params.get("aging_period", "30"))
        periods = int(params.get("num_periods", "4"))
        titles = ["Current"] + [f"{i * period + 1} - {(i + 1) * period}" for i in range(periods - 1)] + [f"{(periods - 1) * period + 1} and over"]
        buckets: dict[tuple[str, str], list[int]] = {}
        for entity, sign, due_key in docs:
            rows = self.store.execute(
                # party_key/due_key are fixed names from the two callers below, never request input.
                f"SELECT json_extract(payload, '$.{party_key}.value'), json_extract(payload, '$.{party_key}.name'), "  # noqa: S608
                f"json_extract(payload, '$.{due_key}'), json_extract(payload, '$.TxnDate'), "
                "json_extract(payload, '$.HomeBalance'), json_extract(payload, '$.Balance'), "
                "json_extract(payload, '$.UnappliedAmt'), json_extract(payload, '$.ExchangeRate') "
                "FROM objects WHERE entity = ? AND deleted = 0 "
                "AND coalesce(json_extract(payload, '$.Balance'), json_extract(payload, '$.UnappliedAmt')) > 0 "
                "AND json_extract(payload, '$.TxnDate') <= ?",
                (entity, report_date.isoformat()),
            )
            for party_id, party_name, due, txn_date, home_balance, balance, unapplied, rate in rows:
                due_date = date.fromisoformat(due or txn_date)
                overdue = (report_date - due_date).days
                index = 0 if overdue <= 0 else min(periods, (overdue - 1) // period + 1)
                cells = buckets.setdefault((party_name or str(party_id), str(party_id)), [0] * (periods + 1))
                cells[index] += sign * open_home_cents(home_balance, balance, unapplied, rate)
        rows_out = []
        grand = [0] * (periods + 1)
        for (party_name, party_id), cells in sorted(buckets.items()):
            grand = [g + c for g, c in zip(grand, cells, strict=True)]
            rows_out.append(data_row([{"value": party_name, "id": party_id}] + [{"value": money_text(c)} for c in cells] + [{"value": money_text(sum(cells))}]))
        summary = [{"value": "TOTAL"}] + [{"value": money_text(g)} for g in grand] + [{"value": money_text(sum(grand))}]
        columns = [column("", "Customer" if party_key == "CustomerRef" else "Vendor", "name")]
        columns += [column(t, "Money", f"bucket_{i}") for i, t in enumerate(titles)]
        columns.append(column("Total", "Money", "total"))
        return {
            "Header": self.header(name, params, StartPeriod=report_date.isoformat(), EndPeriod=report_date.isoformat(), ReportBasis="Accrual"),
            "Columns": {"Column": columns},
            "Rows": {"Row": [*rows_out, {"Summary": {"ColData": summary}, "type": "Section", "group": "GrandTotal"}]},
        }

    def aged_receivables(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self.aging(params, "AgedReceivables", "CustomerRef",
                          (("Invoice", 1, "DueDate"), ("CreditMemo", -1, "TxnDate"), ("Payment", -1, "TxnDate")))

    def aged_payables(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self.aging(params, "AgedPayables", "VendorRef", (("Bill", 1, "DueDate"), ("VendorCredit", -1, "TxnDate")))

    # general ledger --------------------------------------------------------------------------
    def general_ledger(self, params: Mapping[str, str]) -> dict[str, Any]:
        end = self.date_param(params, "end_date", self.today)
        start = self.date_param(params, "start_date", date(end.year, end.month, 1))
        accounts = self.accounts()
        opening = self.sums(None, date.fromordinal(start.toordinal() - 1))
        rows = self.store.execute(
            "SELECT account_id, txn_date, entity, txn_id, doc_number, name, memo, cents FROM postings "
            "WHERE txn_date >= ? AND txn_date <= ? ORDER BY account_id, txn_date, entity, txn_id",
            (start.isoformat(), end.isoformat()),
        )
        by_account: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            by_account[row[0]].append(row)
        sections = []
        for account_id in sorted(by_account, key=lambda a: accounts[a].name if a in accounts else str(a)):
            acct = accounts.get(account_id)
            if acct is None:
                continue
            sign = -1 if acct.classification in CREDIT_NORMAL else 1
            balance = sign * opening.get(account_id, 0) if acct.classification in ("Asset", "Liability", "Equity") else 0
            data = [data_row([{"value": "Beginning Balance"}] + [{"value": ""}] * 4 + [{"value": ""}, {"value": money_text(balance)}])]
            total = 0
            for _, txn_date, entity, txn_id, doc, name, memo, posted in by_account[account_id]:
                value = sign * posted
                total += value
                balance += value
                data.append(data_row([
                    {"value": txn_date}, {"value": entity, "id": str(txn_id)}, {"value": doc or ""},
                    {"value": name or ""}, {"value": memo or ""}, {"value": money_text(value)}, {"value": money_text(balance)},
                ]))
            summary = [{"value": f"Total for {acct.name}"}] + [{"value": ""}] * 4 + [{"value": money_text(total)}, {"value": ""}]
            header = [{"value": acct.name, "id": str(acct.id)}] + [{"value": ""}] * 6
            sections.append({"Header": {"ColData": header}, "Rows": {"Row": data}, "Summary": {"ColData": summary}, "type": "Section"})
        columns = [column("Date", "tx_date", "tx_date"), column("Transaction Type", "txn_type", "txn_type"),
                   column("Num", "doc_num", "doc_num"), column("Name", "name", "name"), column("Memo/Description", "memo", "memo"),
                   column("Amount", "subt_nat_amount", "subt_nat_amount"), column("Balance", "rbal_nat_amount", "rbal_nat_amount")]
        return {
            "Header": self.header("GeneralLedger", params, StartPeriod=start.isoformat(), EndPeriod=end.isoformat()),
            "Columns": {"Column": columns},
            "Rows": {"Row": sections},
        }
