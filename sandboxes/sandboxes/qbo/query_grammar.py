"""The QBO query language: `select * | count(*) | fields from Entity [where ...] [orderby ...]
[startposition N] [maxresults N]`, AND-only, with `= < > <= >= in like`.

A small tokenizer and recursive-descent parser, so malformed queries fail with the position of
the offending token as Intuit's QueryParserError does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import invalid_query, parse_error

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"select", "from", "where", "and", "or", "in", "like", "orderby", "order", "by",
            "asc", "desc", "startposition", "maxresults", "count", "true", "false", "not"}

Value = str | int | float | bool


@dataclass
class Token:
    kind: str
    text: str
    column: int

    @property
    def keyword(self) -> str | None:
        low = self.text.lower()
        return low if self.kind == "word" and low in KEYWORDS else None


@dataclass
class Condition:
    field: str
    op: str
    values: list[Value]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] = field(default_factory=list)
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    start_position: int = 1
    max_results: int = 100
    also_named: list[str] = field(default_factory=list)  # `select *, X`: checked, not projected


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = TOKEN.match(stripped, pos)
        if not match or match.end() == pos:
            bad = stripped[pos:].lstrip()[:1]
            column = len(stripped) - len(stripped[pos:].lstrip()) + 1
            raise parse_error(f'Lexical error at line 1, column {column}. Encountered: "{bad}"')
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    return tokens


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.also_named: list[str] = []

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self, expecting: str) -> Token:
        token = self.peek()
        if token is None:
            raise parse_error(f'Encountered "<EOF>" at end of query. Was expecting: {expecting}')
        self.index += 1
        return token

    def fail(self, token: Token, expecting: str) -> None:
        raise parse_error(
            f'Encountered " {token.kind.upper()} "{token.text} "" at line 1, column {token.column}.\n'
            f"Was expecting one of: {expecting}"
        )

    def expect_keyword(self, word: str) -> Token:
        token = self.next(f'"{word}"')
        if token.keyword != word:
            self.fail(token, f'"{word}"')
        return token

    def parse(self) -> Query:
        self.expect_keyword("select")
        count, fields = self.select_list()
        self.expect_keyword("from")
        entity_token = self.next("<IDENTIFIER>")
        if entity_token.kind != "word" or entity_token.keyword:
            self.fail(entity_token, "<IDENTIFIER>")
        query = Query(entity=entity_token.text, count=count, fields=fields, also_named=self.also_named)
        token = self.peek()
        if token is not None and token.keyword == "where":
            self.index += 1
            query.where = self.conditions()
        self.tail(query)
        return query

    def select_list(self) -> tuple[bool, list[str]]:
        token = self.next('"*"')
        if token.text == "*":
            # `select *, Sku from Item` (python-quickbooks sends it; Intuit answers it): names after
            # the star must exist but add nothing to "every property".
            while (nxt := self.peek()) is not None and nxt.text == ",":
                self.index += 1
                ident = self.next("<IDENTIFIER>")
                if ident.kind != "word" or ident.keyword:
                    self.fail(ident, "<IDENTIFIER>")
                self.also_named.append(ident.text)
            return False, []
        if token.keyword == "count":
            for expected in ("(", "*", ")"):
                if self.next(f'"{expected}"').text != expected:
                    self.fail(self.tokens[self.index - 1], f'"{expected}"')
            return True, []
        if token.kind != "word" or token.keyword:
            self.fail(token, '"*" "count" <IDENTIFIER>')
        fields = [token.text]
        while (nxt := self.peek()) is not None and nxt.text == ",":
            self.index += 1
            ident = self.next("<IDENTIFIER>")
            if ident.kind != "word":
                self.fail(ident, "<IDENTIFIER>")
            fields.append(ident.text)
        return False, fields

    def conditions(self) -> list[Condition]:
        conditions = [self.condition()]
        while (token := self.peek()) is not None and token.keyword in ("and", "or"):
            if token.keyword == "or":
                self.fail(token, '"AND" "ORDERBY" "STARTPOSITION" "MAXRESULTS" <EOF>')
            self.index += 1
            conditions.append(self.condition())
        return conditions

    def condition(self) -> Condition:
        name = self.next("<IDENTIFIER>")
        if name.kind != "word" or name.keyword:
            self.fail(name, "<IDENTIFIER>")
        op_token = self.next('"=" "<" ">" "<=" ">=" "IN" "LIKE"')
        if op_token.kind == "op":
            op = "!=" if op_token.text == "<>" else op_token.text
            return Condition(name.text, op, [self.value()])
        if op_token.keyword == "in":
            if self.next('"("').text != "(":
                self.fail(self.tokens[self.index - 1], '"("')
            values = [self.value()]
            while True:
                token = self.next('"," ")"')
                if token.text == ")":
                    break
                if token.text != ",":
                    self.fail(token, '"," ")"')
                values.append(self.value())
            return Condition(name.text, "in", values)
        if op_token.keyword == "like":
            value = self.value()
            if not isinstance(value, str):
                raise invalid_query("like operator requires a string value")
            return Condition(name.text, "like", [value])
        self.fail(op_token, '"=" "<" ">" "<=" ">=" "IN" "LIKE"')
        raise AssertionError("unreachable")

    def value(self) -> Value:
        token = self.next("<STRING> <NUMBER> true false")
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.keyword in ("true", "false"):
            return token.keyword == "true"
        self.fail(token, "<STRING> <NUMBER> true false")
        raise AssertionError("unreachable")

    def integer(self, keyword: str) -> int:
        token = self.next("<INTEGER>")
        if token.kind != "number" or "." in token.text:
            self.fail(token, "<INTEGER>")
        value = int(token.text)
        # Intuit documents 1-based positions but answers STARTPOSITION 0 as 1; clients rely on it.
        if keyword == "STARTPOSITION" and value == 0:
            return 1
        if value < 1:
            raise invalid_query(f"{keyword} must be a positive integer, got {value}")
        return value

    def tail(self, query: Query) -> None:
        while (token := self.peek()) is not None:
            self.index += 1
            keyword = token.keyword
            if keyword == "order":
                self.expect_keyword("by")
                keyword = "orderby"
            if keyword == "orderby":
                query.order = self.order_items()
            elif keyword == "startposition":
                query.start_position = self.integer("STARTPOSITION")
            elif keyword == "maxresults":
                query.max_results = self.integer("MAXRESULTS")
            else:
                self.fail(token, '"ORDERBY" "STARTPOSITION" "MAXRESULTS" <EOF>')

    def order_items(self) -> list[tuple[str, bool]]:
        items: list[tuple[str, bool]] = []
        while True:
            name = self.next("<IDENTIFIER>")
            if name.kind != "word" or name.keyword:
                self.fail(name, "<IDENTIFIER>")
            descending = False
            token = self.peek()
            if token is not None and token.keyword in ("asc", "desc"):
                descending = token.keyword == "desc"
                self.index += 1
            items.append((name.text, descending))
            token = self.peek()
            if token is None or token.text != ",":
                return items
            self.index += 1


def parse_query(text: str) -> Query:
    if not text or not text.strip():
        raise parse_error('Encountered "<EOF>" at line 1, column 1.\nWas expecting: "select"')
    return Parser(text).parse()
