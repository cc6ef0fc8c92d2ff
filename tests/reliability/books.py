"""The shape both sides of a reconciliation are read into: what the source holds, what landed.

A *book* maps a stream name to its documents by id. Only what a controller checks is kept: the
version (did the newest edit land), the deleted/voided/active flags, the money, and the line
amounts in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

HEADER_PARTY = {"invoices": "customer_id", "bills": "vendor_id"}
CONTROL_ACCOUNT = {"invoices": "ar_account_id", "bills": "ap_account_id"}
LINES_OF = {"invoices": ("invoice_lines", "invoice_id"), "bills": ("bill_lines", "bill_id")}
LIST_STREAMS = ("customers", "vendors")
DOCUMENT_STREAMS = ("invoices", "bills")


@dataclass(frozen=True)
class Doc:
    id: str
    version: str  # QBO SyncToken / QBD EditSequence, as text
    deleted: bool = False
    voided: bool | None = False
    active: bool | None = None
    total: Decimal | None = None
    balance: Decimal | None = None
    party: str | None = None  # customer (invoices) or vendor (bills)
    lines: tuple[Decimal, ...] = ()  # live line amounts, sorted (line order is each tap's own business)
    # For the trial balance: the AR (invoices) or AP (bills) account, and each line's (account, amount),
    # sorted; a line without an account posts to its item's ("item <id>"). QBO subtotal lines post nothing.
    control: str | None = None
    postings: tuple[tuple[str, Decimal], ...] = ()


@dataclass
class Book:
    docs: dict[str, dict[str, Doc]] = field(default_factory=dict)
    # How many extra copies of a key the destination holds (a copy is one too many).
    duplicates: dict[str, dict[str, int]] = field(default_factory=dict)

    def stream(self, name: str) -> dict[str, Doc]:
        return self.docs.setdefault(name, {})

    def live(self, name: str) -> list[Doc]:
        return [d for d in self.docs.get(name, {}).values() if not d.deleted]


SUBTOTAL = "SubTotalLineDetail"


def posting_account(account_id: object, item_id: object) -> str:
    """Where a document line posts: its account, else its item's (the same rule on both sides)."""
    if account_id not in (None, ""):
        return str(account_id)
    return f"item {item_id}" if item_id not in (None, "") else "(none)"


def cents(value: Decimal | float | int | str | None) -> Decimal:
    """Money as exact cents; None (a deleted row's cleared column) counts as zero."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))
