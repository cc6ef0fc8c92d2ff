"""SQL of the modelled finance layer. Pure: builds statements from what the raw schema holds.

Every model is rebuilt whole (``CREATE TABLE ... AS SELECT``) from the raw streams, in
one transaction, so it always equals the raw data and dashboards never see half of a
refresh. A model whose source stream has not been loaded yet is skipped; a source
column that is missing reads as NULL.

Conventions shared by all models (and by the reconciliation test):
* rows flagged deleted (``_sdc_deleted_at``) are left out, and so are lines of a
  deleted or voided header;
* home-currency amounts are ``ROUND(amount * COALESCE(exchange_rate, 1), 2)``
  (QuickBooks keeps home amounts in cents; ROUND is half away from zero in DuckDB and
  PostgreSQL alike);
* QBO ``SubTotalLineDetail`` lines repeat other lines' amounts and are left out of facts.
"""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

MONEY = "DECIMAL(38, 10)"
SUBTOTAL_DETAIL_TYPES = ("SubTotalLineDetail", "SubTotalLine")
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")

MODELS = (
    "dim_account",
    "dim_vendor",
    "dim_customer",
    "fct_invoice_line",
    "fct_bill_line",
    "fct_gl_entry",
    "ap_aging",
    "ar_aging",
)


class Quoter(t.Protocol):
    def quote(self, name: str) -> str: ...


@dataclasses.dataclass(frozen=True)
class ModelSql:
    """Builds the model statements for one raw schema as it currently is."""

    flavor: Quoter
    raw_schema: str | None
    model_schema: str
    raw_columns: t.Mapping[str, t.Collection[str]]
    as_of: dt.date

    # -- helpers ---------------------------------------------------------------------

    def q(self, name: str) -> str:
        return self.flavor.quote(name)

    def raw(self, table: str) -> str:
        return f"{self.q(self.raw_schema)}.{self.q(table)}" if self.raw_schema else self.q(table)

    def model(self, table: str) -> str:
        return f"{self.q(self.model_schema)}.{self.q(table)}"

    def has(self, table: str, *columns: str) -> bool:
        present = self.raw_columns.get(table)
        return present is not None and all(c in present for c in columns)

    def col(self, alias: str, table: str, name: str, sql_type: str = "VARCHAR") -> str:
        if self.has(table, name):
            return f"{alias}.{self.q(name)}"
        return f"CAST(NULL AS {sql_type})"

    def live(self, alias: str, table: str) -> str:
        """Condition: the row is not flagged deleted (and not voided, for headers)."""
        conditions = ["TRUE"]
        if self.has(table, "_sdc_deleted_at"):
            conditions.append(f"{alias}.{self.q('_sdc_deleted_at')} IS NULL")
        if self.has(table, "voided"):
            conditions.append(f"COALESCE({alias}.{self.q('voided')}, FALSE) = FALSE")
        return " AND ".join(conditions)

    def home(self, amount: str, rate: str) -> str:
        return f"ROUND(CAST({amount} AS {MONEY}) * CAST(COALESCE({rate}, 1) AS {MONEY}), 2)"

    def key(self, *parts: str) -> str:
        return " || ':' || ".join(f"CAST({p} AS VARCHAR)" for p in parts)

    def as_of_sql(self) -> str:
        return f"DATE '{self.as_of.isoformat()}'"

    # -- dimensions ------------------------------------------------------------------

    def dim_account(self) -> str | None:
        if not self.has("accounts", "company_id", "id"):
            return None
        a = "accounts"
        c = lambda name, typ="VARCHAR": self.col("a", a, name, typ)  # noqa: E731
        parent = c("parent_id")
        return f"""
WITH RECURSIVE live AS (
  SELECT a.{self.q('company_id')} AS company_id, a.{self.q('id')} AS account_id,
         {c('name')} AS name, {c('fully_qualified_name')} AS fully_qualified_name,
         {c('account_number')} AS account_number, {c('account_type')} AS account_type,
         {c('account_sub_type')} AS account_sub_type, {c('classification')} AS classification,
         {parent} AS parent_id, {c('description')} AS description, {c('currency')} AS currency,
         {c('current_balance', MONEY)} AS current_balance, {c('active', 'BOOLEAN')} AS active,
         a.{self.q('_sdc_source')} AS source
  FROM {self.raw(a)} AS a WHERE {self.live('a', a)}
),
tree AS (
  SELECT l.company_id, l.account_id, l.account_id AS root_account_id, l.name AS root_name,
         CAST(l.name AS VARCHAR) AS path, 1 AS depth
  FROM live AS l
  WHERE l.parent_id IS NULL
     OR NOT EXISTS (SELECT 1 FROM live AS p WHERE p.company_id = l.company_id AND p.account_id = l.parent_id)
  UNION ALL
  SELECT c.company_id, c.account_id, tree.root_account_id, tree.root_name,
         CAST(tree.path || ' > ' || c.name AS VARCHAR), tree.depth + 1
  FROM live AS c JOIN tree ON c.company_id = tree.company_id AND c.parent_id = tree.account_id
  WHERE tree.depth < 32
)
SELECT {self.key('l.company_id', 'l.account_id')} AS account_key,
       l.company_id, l.account_id, l.name, l.fully_qualified_name, l.account_number,
       l.account_type, l.account_sub_type, l.classification, l.parent_id,
       p.name AS parent_name, tree.root_account_id, tree.root_name, tree.path AS hierarchy_path,
       tree.depth AS hierarchy_depth, l.description, l.currency, l.current_balance, l.active,
       l.source AS _sdc_source
FROM live AS l
LEFT JOIN tree ON tree.company_id = l.company_id AND tree.account_id = l.account_id
LEFT JOIN live AS p ON p.company_id = l.company_id AND p.account_id = l.parent_id
"""

    def _party(self, table: str, id_name: str, extra: t.Sequence[tuple[str, str]]) -> str | None:
        if not self.has(table, "company_id", "id"):
            return None
        c = lambda name, typ="VARCHAR": self.col("x", table, name, typ)  # noqa: E731
        address = [
            f"{c('billing_address', 'JSON')}->>'{field}' AS billing_{field}"
            if self.has(table, "billing_address")
            else f"CAST(NULL AS VARCHAR) AS billing_{field}"
            for field in ("city", "region", "postal_code", "country")
        ]
        columns = [
            f"{self.key('x.' + self.q('company_id'), 'x.' + self.q('id'))} AS {id_name.replace('_id', '_key')}",
            f"x.{self.q('company_id')} AS company_id",
            f"x.{self.q('id')} AS {id_name}",
            *(f"{c(name, typ)} AS {name}" for name, typ in extra),
            *address,
            f"x.{self.q('_sdc_source')} AS _sdc_source",
        ]
        return f"SELECT {', '.join(columns)} FROM {self.raw(table)} AS x WHERE {self.live('x', table)}"

    def dim_vendor(self) -> str | None:
        return self._party(
            "vendors",
            "vendor_id",
            [
                ("display_name", "VARCHAR"), ("company_name", "VARCHAR"), ("email", "VARCHAR"),
                ("phone", "VARCHAR"), ("account_number", "VARCHAR"), ("currency", "VARCHAR"),
                ("balance", MONEY), ("vendor_1099", "BOOLEAN"), ("terms_id", "VARCHAR"),
                ("active", "BOOLEAN"),
            ],
        )

    def dim_customer(self) -> str | None:
        return self._party(
            "customers",
            "customer_id",
            [
                ("display_name", "VARCHAR"), ("company_name", "VARCHAR"), ("email", "VARCHAR"),
                ("phone", "VARCHAR"), ("parent_id", "VARCHAR"), ("currency", "VARCHAR"),
                ("balance", MONEY), ("active", "BOOLEAN"),
            ],
        )

    # -- facts -----------------------------------------------------------------------

    def _lines(
        self,
        lines: str,
        header: str,
        header_id: str,
        party: str,
        extra_header: t.Sequence[tuple[str, str]],
        extra_line: t.Sequence[tuple[str, str]],
    ) -> str | None:
        if not self.has(lines, "company_id", header_id, "line_id"):
            return None
        has_header = self.has(header, "company_id", "id")
        h = lambda name, typ="VARCHAR": self.col("h", header, name, typ) if has_header else f"CAST(NULL AS {typ})"  # noqa: E731
        li = lambda name, typ="VARCHAR": self.col("l", lines, name, typ)  # noqa: E731
        rate = f"COALESCE({h('exchange_rate', MONEY)}, {li('exchange_rate', MONEY)})"
        detail = li("detail_type")
        join = (
            f"LEFT JOIN {self.raw(header)} AS h ON h.{self.q('company_id')} = l.{self.q('company_id')} "
            f"AND h.{self.q('id')} = l.{self.q(header_id)}"
            if has_header
            else ""
        )
        header_live = (
            f" AND (h.{self.q('id')} IS NULL OR ({self.live('h', header)}))" if has_header else ""
        )
        excluded = ", ".join(f"'{v}'" for v in SUBTOTAL_DETAIL_TYPES)
        columns = [
            f"{self.key('l.' + self.q('company_id'), 'l.' + self.q(header_id), 'l.' + self.q('line_id'))} AS line_key",
            f"l.{self.q('company_id')} AS company_id",
            f"l.{self.q(header_id)} AS {header_id}",
            f"l.{self.q('line_id')} AS line_id",
            f"{li('line_num', 'BIGINT')} AS line_num",
            f"COALESCE({h('doc_number')}, {li('doc_number')}) AS doc_number",
            f"COALESCE({h('txn_date', 'DATE')}, {li('txn_date', 'DATE')}) AS txn_date",
            f"COALESCE({h(party + '_id')}, {li(party + '_id')}) AS {party}_id",
            f"{h(party + '_name')} AS {party}_name",
            f"COALESCE({h('currency')}, {li('currency')}) AS currency",
            f"{rate} AS exchange_rate",
            *(f"{h(name, typ)} AS {name}" for name, typ in extra_header),
            f"{detail} AS detail_type",
            f"{li('description')} AS description",
            f"{li('item_id')} AS item_id",
            f"{li('item_name')} AS item_name",
            f"{li('account_id')} AS account_id",
            f"{li('account_name')} AS account_name",
            f"{li('class_id')} AS class_id",
            *(f"{li(name, typ)} AS {name}" for name, typ in extra_line),
            f"{li('quantity', MONEY)} AS quantity",
            f"{li('unit_price', MONEY)} AS unit_price",
            f"{li('amount', MONEY)} AS amount",
            f"{self.home(li('amount', MONEY), rate)} AS amount_home",
            f"l.{self.q('_sdc_source')} AS _sdc_source",
        ]
        return (
            f"SELECT {', '.join(columns)} FROM {self.raw(lines)} AS l {join} "
            f"WHERE {self.live('l', lines)}{header_live} "
            f"AND COALESCE({detail}, '') NOT IN ({excluded})"
        )

    def fct_invoice_line(self) -> str | None:
        return self._lines(
            "invoice_lines", "invoices", "invoice_id", "customer",
            [("due_date", "DATE"), ("ar_account_id", "VARCHAR")], [],
        )

    def fct_bill_line(self) -> str | None:
        return self._lines(
            "bill_lines", "bills", "bill_id", "vendor",
            [("due_date", "DATE"), ("ap_account_id", "VARCHAR")], [("billable_customer_id", "VARCHAR")],
        )

    # -- general ledger --------------------------------------------------------------

    def _default_account(self, account_type: str) -> str:
        """The company's first active account of ``account_type`` (for payments, whose
        record carries no AR/AP account)."""
        if not self.has("accounts", "company_id", "id", "account_type"):
            return "CAST(NULL AS VARCHAR)"
        return (
            f"(SELECT MIN(a.{self.q('id')}) FROM {self.raw('accounts')} AS a "
            f"WHERE a.{self.q('company_id')} = x.{self.q('company_id')} "
            f"AND a.{self.q('account_type')} = '{account_type}' AND {self.live('a', 'accounts')})"
        )

    def _gl_select(
        self,
        source_type: str,
        table: str,
        alias: str,
        source_id: str,
        line_id: str,
        txn_date: str,
        account_id: str,
        amount_home: str,
        side: str,
        entity_type: str,
        entity_id: str,
        description: str,
        from_sql: str,
        where_sql: str,
    ) -> str:
        debit = f"CASE WHEN {side} = 'Debit' THEN {amount_home} ELSE 0 END"
        credit = f"CASE WHEN {side} = 'Credit' THEN {amount_home} ELSE 0 END"
        return (
            f"SELECT {self.key(alias + '.' + self.q('company_id'), repr(source_type), source_id, line_id, side)} AS entry_key, "
            f"{alias}.{self.q('company_id')} AS company_id, '{source_type}' AS source_type, "
            f"CAST({source_id} AS VARCHAR) AS source_id, CAST({line_id} AS VARCHAR) AS line_id, "
            f"CAST({txn_date} AS DATE) AS txn_date, CAST({account_id} AS VARCHAR) AS account_id, "
            f"CAST({debit} AS {MONEY}) AS debit_home, CAST({credit} AS {MONEY}) AS credit_home, "
            f"CAST({debit} - {credit} AS {MONEY}) AS amount_home, "
            f"'{entity_type}' AS entity_type, CAST({entity_id} AS VARCHAR) AS entity_id, "
            f"CAST({description} AS VARCHAR) AS description, "
            f"{alias}.{self.q('_sdc_source')} AS _sdc_source "
            f"FROM {from_sql} WHERE {where_sql}"
        )

    def _unitemised(self, header: str, header_id: str, party: str, fact: str, line_side: str) -> str:
        """One row per document balancing its control side against its lines: sales tax
        and discounts (not itemised in the record model) and home-currency rounding."""
        q = self.q
        h = lambda name, typ="VARCHAR": self.col("x", header, name, typ)  # noqa: E731
        total = self.home(h("total_amount", MONEY), h("exchange_rate", MONEY))
        lines_sum = (
            f"(SELECT COALESCE(SUM(f.amount_home), 0) FROM {self.model(fact)} AS f "
            f"WHERE f.company_id = x.{q('company_id')} AND f.{header_id} = x.{q('id')})"
        )
        other = "Debit" if line_side == "Credit" else "Credit"
        remainder = f"({total} - {lines_sum})"
        return self._gl_select(
            header[:-1], header, "x", f"x.{q('id')}", "'unitemised'", h("txn_date", "DATE"),
            "NULL", f"ABS{remainder}", f"CASE WHEN {remainder} >= 0 THEN '{line_side}' ELSE '{other}' END",
            party, h(party + "_id"), "'tax, discounts and rounding not itemised'",
            f"{self.raw(header)} AS x", f"{self.live('x', header)} AND {remainder} <> 0",
        )

    def fct_gl_entry(self) -> str | None:
        parts: list[str] = []
        q = self.q
        if self.has("journal_entry_lines", "company_id", "journal_entry_id", "line_id", "amount", "posting_type"):
            c = lambda name, typ="VARCHAR": self.col("x", "journal_entry_lines", name, typ)  # noqa: E731
            has_header = self.has("journal_entries", "company_id", "id")
            join = (
                f"{self.raw('journal_entry_lines')} AS x LEFT JOIN {self.raw('journal_entries')} AS h "
                f"ON h.{q('company_id')} = x.{q('company_id')} AND h.{q('id')} = x.{q('journal_entry_id')}"
                if has_header
                else f"{self.raw('journal_entry_lines')} AS x"
            )
            where = self.live("x", "journal_entry_lines")
            if has_header:
                where += f" AND (h.{q('id')} IS NULL OR ({self.live('h', 'journal_entries')}))"
            parts.append(
                self._gl_select(
                    "journal_entry", "journal_entry_lines", "x", f"x.{q('journal_entry_id')}",
                    f"x.{q('line_id')}", c("txn_date", "DATE"), c("account_id"),
                    self.home(c("amount", MONEY), c("exchange_rate", MONEY)), c("posting_type"),
                    "entity", c("entity_id"), c("description"), join, where,
                )
            )
        for lines, header, header_id, party, control, line_side, control_side, fallback in (
            ("invoice_lines", "invoices", "invoice_id", "customer", "ar_account_id", "Credit", "Debit", "income_account_id"),
            ("bill_lines", "bills", "bill_id", "vendor", "ap_account_id", "Debit", "Credit", "expense_account_id"),
        ):
            if self.has(header, "company_id", "id", "total_amount"):
                h = lambda name, typ="VARCHAR", header=header: self.col("x", header, name, typ)  # noqa: E731
                parts.append(
                    self._gl_select(
                        header[:-1], header, "x", f"x.{q('id')}", "'header'", h("txn_date", "DATE"),
                        h(control), self.home(h("total_amount", MONEY), h("exchange_rate", MONEY)),
                        f"'{control_side}'", party, h(party + "_id"), h("doc_number"),
                        f"{self.raw(header)} AS x", self.live("x", header),
                    )
                )
            fact = f"fct_{lines[:-1]}"
            if self.has(header, "company_id", "id", "total_amount") and self.has(lines, "company_id", header_id, "line_id"):
                parts.append(self._unitemised(header, header_id, party, fact, line_side))
            if self.has(lines, "company_id", header_id, "line_id"):
                item_join = ""
                account = "x.account_id"
                if self.has("items", "company_id", "id", fallback):
                    item_join = (
                        f" LEFT JOIN {self.raw('items')} AS i ON i.{q('company_id')} = x.company_id "
                        f"AND i.{q('id')} = x.item_id"
                    )
                    account = f"COALESCE(x.account_id, i.{q(fallback)})"
                parts.append(
                    self._gl_select(
                        header[:-1], lines, "x", f"x.{header_id}", "x.line_id", "x.txn_date", account,
                        "x.amount_home", f"'{line_side}'", party, f"x.{party}_id", "x.description",
                        f"{self.model(fact)} AS x{item_join}", "TRUE",
                    )
                )
        for table, party, cash, cash_side, control_type in (
            ("payments", "customer", "deposit_account_id", "Debit", "Accounts Receivable"),
            ("bill_payments", "vendor", "bank_account_id", "Credit", "Accounts Payable"),
        ):
            if not self.has(table, "company_id", "id", "total_amount"):
                continue
            p = lambda name, typ="VARCHAR", table=table: self.col("x", table, name, typ)  # noqa: E731
            amount = self.home(p("total_amount", MONEY), p("exchange_rate", MONEY))
            other = "Credit" if cash_side == "Debit" else "Debit"
            for account, side, line in ((p(cash), cash_side, "'cash'"), (self._default_account(control_type), other, "'control'")):
                parts.append(
                    self._gl_select(
                        table[:-1], table, "x", f"x.{q('id')}", line, p("txn_date", "DATE"), account,
                        amount, f"'{side}'", party, p(party + "_id"), p("doc_number"),
                        f"{self.raw(table)} AS x", self.live("x", table),
                    )
                )
        if not parts:
            return None
        return "\nUNION ALL\n".join(parts)

    # -- aging -----------------------------------------------------------------------

    def _cost_center(self, header: str, lines: str, header_id: str) -> list[str]:
        """Class and department of a document, for aging by cost center. QuickBooks puts the
        class on each line: a document whose lines share one class has it; one split across
        classes is given the class carrying most of its amount, and ``class_count`` says so."""
        q = self.q
        c = lambda name, typ="VARCHAR": self.col("x", header, name, typ)  # noqa: E731
        of_document = (
            f"FROM {self.raw(lines)} AS l WHERE l.{q('company_id')} = x.{q('company_id')} "
            f"AND l.{q(header_id)} = x.{q('id')} AND {self.live('l', lines)} AND l.{q('class_id')} IS NOT NULL"
        )
        if self.has(lines, "detail_type"):
            # A subtotal line repeats the amounts of the lines above it.
            excluded = ", ".join(f"'{v}'" for v in SUBTOTAL_DETAIL_TYPES)
            of_document += f" AND COALESCE(l.{q('detail_type')}, '') NOT IN ({excluded})"
        if self.has(lines, "company_id", header_id, "class_id", "amount"):
            line_class = (
                f"(SELECT l.{q('class_id')} {of_document} GROUP BY l.{q('class_id')} "
                f"ORDER BY SUM(ABS(COALESCE(l.{q('amount')}, 0))) DESC, l.{q('class_id')} LIMIT 1)"
            )
            class_count = f"(SELECT COUNT(DISTINCT l.{q('class_id')}) {of_document})"
        else:
            line_class, class_count = "CAST(NULL AS VARCHAR)", "0"
        class_id = f"COALESCE({c('class_id')}, {line_class})"
        columns = [f"{class_id} AS class_id", f"CAST({class_count} AS BIGINT) AS class_count"]
        for kind, table, value in (("class", "classes", class_id), ("department", "departments", c("department_id"))):
            if kind == "department":
                columns.append(f"{value} AS department_id")
            if self.has(table, "company_id", "id", "name"):
                columns.append(
                    f"(SELECT n.{q('name')} FROM {self.raw(table)} AS n WHERE n.{q('company_id')} = "
                    f"x.{q('company_id')} AND n.{q('id')} = {value} LIMIT 1) AS {kind}_name")
            else:
                columns.append(f"CAST(NULL AS VARCHAR) AS {kind}_name")
        return columns

    def _aging(self, header: str, party: str, id_name: str, lines: str) -> str | None:
        if not self.has(header, "company_id", "id", "balance"):
            return None
        c = lambda name, typ="VARCHAR": self.col("x", header, name, typ)  # noqa: E731
        due = f"COALESCE({c('due_date', 'DATE')}, {c('txn_date', 'DATE')})"
        days = f"({self.as_of_sql()} - {due})"
        bucket = (
            f"CASE WHEN {days} <= 0 THEN 'current' WHEN {days} <= 30 THEN '1-30' "
            f"WHEN {days} <= 60 THEN '31-60' WHEN {days} <= 90 THEN '61-90' ELSE '90+' END"
        )
        balance = self.home(c("balance", MONEY), c("exchange_rate", MONEY))
        bucket_columns = [
            f"CASE WHEN {bucket} = '{name}' THEN {balance} ELSE 0 END AS {column}"
            for name, column in zip(
                AGING_BUCKETS,
                ("current_home", "days_1_30_home", "days_31_60_home", "days_61_90_home", "days_over_90_home"),
                strict=True,
            )
        ]
        columns = [
            f"{self.key('x.' + self.q('company_id'), 'x.' + self.q('id'))} AS aging_key",
            f"x.{self.q('company_id')} AS company_id",
            f"x.{self.q('id')} AS {id_name}",
            f"{c('doc_number')} AS doc_number",
            f"{c(party + '_id')} AS {party}_id",
            f"{c(party + '_name')} AS {party}_name",
            f"{c('txn_date', 'DATE')} AS txn_date",
            f"{due} AS due_date",
            f"{self.as_of_sql()} AS as_of_date",
            f"CAST({days} AS BIGINT) AS days_past_due",
            f"{bucket} AS aging_bucket",
            *self._cost_center(header, lines, id_name),
            f"{c('currency')} AS currency",
            f"{c('balance', MONEY)} AS open_balance",
            f"{balance} AS open_balance_home",
            *bucket_columns,
            f"x.{self.q('_sdc_source')} AS _sdc_source",
        ]
        return (
            f"SELECT {', '.join(columns)} FROM {self.raw(header)} AS x "
            f"WHERE {self.live('x', header)} AND COALESCE({c('balance', MONEY)}, 0) <> 0 "
            f"AND COALESCE({c('txn_date', 'DATE')}, {self.as_of_sql()}) <= {self.as_of_sql()}"
        )

    def ap_aging(self) -> str | None:
        return self._aging("bills", "vendor", "bill_id", "bill_lines")

    def ar_aging(self) -> str | None:
        return self._aging("invoices", "customer", "invoice_id", "invoice_lines")

    # -- statements ------------------------------------------------------------------

    def statements(self) -> list[tuple[str, list[str]]]:
        """(model name, statements) in dependency order; models without sources are absent."""
        result: list[tuple[str, list[str]]] = []
        built: set[str] = set()
        for name in MODELS:
            # The GL reads the line facts built just before it in the same transaction.
            select = self._with_built(built) if name == "fct_gl_entry" else getattr(self, name)()
            if select is None:
                continue
            built.add(name)
            result.append(
                (
                    name,
                    [
                        f"DROP TABLE IF EXISTS {self.model(name)}",
                        f"CREATE TABLE {self.model(name)} AS {select.strip()}",
                    ],
                )
            )
        return result

    def _with_built(self, built: set[str]) -> str | None:
        original = self.raw_columns
        lines_ok = {
            "invoice_lines": "fct_invoice_line" in built,
            "bill_lines": "fct_bill_line" in built,
        }
        view = {k: v for k, v in original.items() if lines_ok.get(k, True)}
        return dataclasses.replace(self, raw_columns=view).fct_gl_entry()
