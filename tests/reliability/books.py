"""The shape both sides of a reconciliation are read into: what the source holds, what landed.

A *book* maps a stream name to its documents by id. Only what a controller checks is kept: the
version (did the newest edit land), the deleted/voided/active flags, the money, and the line
amounts in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

HEADER_PARTY = {"invoices": "customer_id", "bills": "vendor_id"}
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


@dataclass
class Book:
    docs: dict[str, dict[str, Doc]] = field(default_factory=dict)
    # How many extra copies of a key the destination holds (a copy is one too many).
    duplicates: dict[str, dict[str, int]] = field(default_factory=dict)

    def stream(self, name: str) -> dict[str, Doc]:
        return self.docs.setdefault(name, {})

    def live(self, name: str) -> list[Doc]:
        return [d for d in self.docs.get(name, {}).values() if not d.deleted]


def cents(value: Decimal | float | int | str | None) -> Decimal:
    """Money as exact cents; None (a deleted row's cleared column) counts as zero."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))
