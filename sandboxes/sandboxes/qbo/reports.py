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

from . import report_params
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
        given = report_params.parse_date(params, key)
        if given is not None:
            return given
        macro = params.get("date_macro")
        if macro:
            # Explicit dates win over a macro; a macro fills the dates left out.
            start, end = report_params.date_macro(macro, self.today)
            return end if key in ("end_date", "report_date") else start
        return default

    def build(self, name: str, params: Mapping[str, str]) -> dict[str, Any]:
        report_params.check(name, params)
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

    def cash_sums(self, start: date, end: date) -> dict[int, int]:
        """Cash basis: an invoice's or bill's postings count when, and as far as, it is paid.

        Each payment line linked to an invoice (bill payment to a bill) brings the linked document's
        postings in at the payment's date, scaled by the share of the document it paid; every other
        transaction counts at its own date, as on accrual basis. (Credit memos and vendor credits
        count at their own dates here; QuickBooks spreads them over what they are applied to.)
        """
        sums: dict[int, int] = defaultdict(int)
        for account_id, amount in self.store.execute(
            "SELECT account_id, sum(cents) FROM postings WHERE entity NOT IN ('Invoice', 'Bill') "
            "AND txn_date >= ? AND txn_date <= ? GROUP BY account_id", (start.isoformat(), end.isoformat())):
            sums[account_id] += amount
        payments = self.store.execute(
            "SELECT json_extract(line.value, '$.Amount'), json_extract(link.value, '$.TxnType'), "
            "json_extract(link.value, '$.TxnId') FROM objects AS pay, json_each(pay.payload, '$.Line') AS line, "
            "json_each(line.value, '$.LinkedTxn') AS link WHERE pay.entity IN ('Payment', 'BillPayment') "
            "AND pay.deleted = 0 AND json_extract(pay.payload, '$.TxnDate') >= ? "
            "AND json_extract(pay.payload, '$.TxnDate') <= ?", (start.isoformat(), end.isoformat()))
        for paid, doc_type, doc_id in payments:
            if doc_type not in ("Invoice", "Bill") or not str(doc_id).isdigit():
                continue
            doc = self.store.get(doc_type, int(doc_id))
            total = Decimal(str(doc.get("TotalAmt") or 0)) if doc else Decimal(0)
            if not total:
                continue
            share = Decimal(str(paid)) / total
            for account_id, amount in self.store.execute(
                    "SELECT account_id, cents FROM postings WHERE entity = ? AND txn_id = ?", (doc_type, int(doc_id))):
                sums[account_id] += int((Decimal(amount) * share).to_integral_value())
        return dict(sums)

    def profit_and_loss(self, params: Mapping[str, str]) -> dict[str, Any]:
        end = self.date_param(params, "end_date", self.today)
        start = self.date_param(params, "start_date", date(end.year, 1, 1))
        by = params.get("summarize_column_by", "Total")
        spans = report_params.periods(start, end, by)
        accounts = self.accounts()
        # One sum per period, then the Total column over the whole range.
        totals_of = self.cash_sums if params.get("accounting_method") == "Cash" else self.sums
        period_sums = [totals_of(p.start, p.end) for p in spans] + [totals_of(start, end)]
        width = len(period_sums)

        def cells(values: list[int]) -> list[dict[str, str]]:
            return [{"value": money_text(v)} for v in values]

        totals: dict[str, list[int]] = {}
        rows: list[dict[str, Any]] = []

        def summary_row(title: str, group: str, values: list[int]) -> None:
            rows.append(section(None, [], [{"value": title}, *cells(values)], group))

        def minus(a: list[int], b: list[int]) -> list[int]:
            return [x - y for x, y in zip(a, b, strict=True)]

        for title, group, types in PL_SECTIONS:
            data = []
            total = [0] * width
            for acct in sorted(accounts.values(), key=lambda a: a.name):
                if acct.account_type not in types or acct.id not in period_sums[-1]:
                    continue
                sign = -1 if acct.classification in CREDIT_NORMAL else 1
                values = [sign * sums.get(acct.id, 0) for sums in period_sums]
                total = [t + v for t, v in zip(total, values, strict=True)]
                data.append(data_row([{"value": acct.name, "id": str(acct.id)}, *cells(values)]))
            totals[group] = total
            rows.append(section(title, data, [{"value": f"Total {title}"}, *cells(total)], group))
            if group == "COGS":
                summary_row("Gross Profit", "GrossProfit", minus(totals["Income"], totals["COGS"]))
            if group == "Expenses":
                summary_row("Net Operating Income", "NetOperatingIncome",
                            minus(minus(totals["Income"], totals["COGS"]), totals["Expenses"]))
        net_other = minus(totals["OtherIncome"], totals["OtherExpenses"])
        summary_row("Net Other Income", "NetOtherIncome", net_other)
        operating = minus(minus(totals["Income"], totals["COGS"]), totals["Expenses"])
        summary_row("Net Income", "NetIncome", [a + b for a, b in zip(operating, net_other, strict=True)])
        columns = [column("", "Account", "account")]
        for span in spans:
            columns.append({"ColTitle": span.title, "ColType": "Money", "MetaData": [
                {"Name": "StartDate", "Value": span.start.isoformat()},
                {"Name": "EndDate", "Value": span.end.isoformat()},
                {"Name": "ColKey", "Value": span.start.isoformat()},
            ]})
        columns.append(column("Total", "Money", "total"))
        return {
            "Header": self.header("ProfitAndLoss", params, StartPeriod=start.isoformat(), EndPeriod=end.isoformat(),
                                  SummarizeColumnsBy=by),
            "Columns": {"Column": columns},
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
        period = report_params.positive_int(params, "aging_period", 30)
        periods = report_params.positive_int(params, "num_periods", 4)
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
        keep = report_params.general_ledger_columns(params)
        if keep is not None:
            columns = [columns[i] for i in keep]
            sections = [_keep_cells(section_, keep) for section_ in sections]
        return {
            "Header": self.header("GeneralLedger", params, StartPeriod=start.isoformat(), EndPeriod=end.isoformat()),
            "Columns": {"Column": columns},
            "Rows": {"Row": sections},
        }


def _keep_cells(account_section: dict[str, Any], keep: list[int]) -> dict[str, Any]:
    """A General Ledger section cut to the requested columns; labels stay in the first cell."""

    def labelled(cells: list[dict[str, str]]) -> list[dict[str, str]]:
        return [cells[0]] + [cells[i] for i in keep[1:]]

    rows = []
    for row in account_section["Rows"]["Row"]:
        cells = row["ColData"]
        rows.append(data_row(labelled(cells) if cells[0]["value"] == "Beginning Balance" else [cells[i] for i in keep]))
    return {**account_section, "Header": {"ColData": labelled(account_section["Header"]["ColData"])},
            "Rows": {"Row": rows}, "Summary": {"ColData": labelled(account_section["Summary"]["ColData"])}}
