"""Compare what landed with the source's truth, the way a controller would.

Per record: every live source id present exactly once, at the source's newest version, with its
voided/active flags; every deleted source id flagged deleted (or never landed); nothing live in
the destination that the source does not hold. Per book: invoice and bill totals, open AR by
customer, open AP by vendor, each document's line amounts, and the trial balance by account (debits
minus credits of the documents' control accounts and lines), all to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .books import DOCUMENT_STREAMS, HEADER_PARTY, Book, Doc, cents


@dataclass
class Reconciliation:
    findings: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    stale: int = 0
    unflagged_deletions: int = 0
    money_differences: int = 0
    figures: dict[str, str] = field(default_factory=dict)  # the controller's totals, as landed

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        return (f"{self.lost} lost, {self.duplicated} duplicated, {self.stale} stale, "
                f"{self.unflagged_deletions} deletions not flagged, {self.money_differences} money differences")

    def explain(self, limit: int = 25) -> str:
        shown = self.findings[:limit]
        more = len(self.findings) - len(shown)
        return "\n".join([self.summary(), *shown, *([f"... and {more} more"] if more > 0 else [])])


def reconcile(source: Book, landed: Book, streams: tuple[str, ...],
              *, check_lines: bool = True, trial_balance: bool = True) -> Reconciliation:
    """``trial_balance=False`` for a destination that keeps no ledger accounts (Salesforce)."""
    result = Reconciliation()
    for stream in streams:
        _records(result, stream, source.stream(stream), landed.stream(stream),
                 landed.duplicates.get(stream, {}), check_lines)
    for stream in streams:
        if stream in DOCUMENT_STREAMS:
            _money(result, stream, source, landed)
    if trial_balance:
        _trial_balance(result, [s for s in streams if s in DOCUMENT_STREAMS], source, landed)
    return result


# Invoices debit AR and credit each line's account; bills credit AP and debit each line's account.
_DEBIT_SIGN = {"invoices": Decimal(1), "bills": Decimal(-1)}


def trial_balance(book: Book, streams: list[str]) -> dict[str, Decimal]:
    """Debits minus credits per account, over the live documents' control accounts and lines."""
    balances: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for stream in streams:
        sign = _DEBIT_SIGN[stream]
        control_default = "AR" if stream == "invoices" else "AP"
        for doc in book.live(stream):
            balances[doc.control or control_default] += sign * cents(doc.total)
            for account, amount in doc.postings:
                balances[account] -= sign * cents(amount)
    return {account: total for account, total in balances.items() if total}


def _trial_balance(result: Reconciliation, streams: list[str], source: Book, landed: Book) -> None:
    want, have = trial_balance(source, streams), trial_balance(landed, streams)
    result.figures["trial balance accounts"] = str(len(have))
    result.figures["trial balance debits"] = str(sum((v for v in have.values() if v > 0), Decimal("0.00")))
    for account in sorted(set(want) | set(have)):
        if want.get(account, Decimal(0)) != have.get(account, Decimal(0)):
            result.money_differences += 1
            result.findings.append(f"trial balance of account {account}: {have.get(account, 0)} landed, "
                                   f"QuickBooks says {want.get(account, 0)}")


def _records(result: Reconciliation, stream: str, truth: dict[str, Doc], held: dict[str, Doc],
             duplicates: dict[str, int], check_lines: bool) -> None:
    for key, extra in sorted(duplicates.items()):
        result.duplicated += 1
        result.findings.append(f"{stream} {key}: held {extra + 1} times")
    for doc_id, doc in sorted(truth.items()):
        got = held.get(doc_id)
        if doc.deleted:
            if got is not None and not got.deleted:
                result.unflagged_deletions += 1
                result.findings.append(f"{stream} {doc_id}: deleted in QuickBooks, live in the destination")
            continue
        if got is None or got.deleted:
            result.lost += 1
            result.findings.append(f"{stream} {doc_id}: live in QuickBooks, "
                                   f"{'missing' if got is None else 'flagged deleted'} in the destination")
            continue
        if got.version != doc.version:
            result.stale += 1
            result.findings.append(f"{stream} {doc_id}: version {got.version} landed, QuickBooks holds {doc.version}")
        for name in ("voided", "active"):
            want, have = getattr(doc, name), getattr(got, name)
            if want is not None and have is not None and want != have:
                result.stale += 1
                result.findings.append(f"{stream} {doc_id}: {name}={have} landed, QuickBooks says {want}")
        if check_lines and doc.lines != got.lines and stream in DOCUMENT_STREAMS:
            result.money_differences += 1
            result.findings.append(f"{stream} {doc_id}: line amounts {list(map(str, got.lines))} landed, "
                                   f"QuickBooks holds {list(map(str, doc.lines))}")
    for doc_id, got in sorted(held.items()):
        if doc_id not in truth and not got.deleted:
            result.unflagged_deletions += 1
            result.findings.append(f"{stream} {doc_id}: live in the destination, unknown to QuickBooks")


def _by_party(docs: list[Doc]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for doc in docs:
        totals[doc.party or "(none)"] += cents(doc.balance)
    return {party: total for party, total in totals.items() if total}


def _money(result: Reconciliation, stream: str, source: Book, landed: Book) -> None:
    truth, held = source.live(stream), landed.live(stream)
    label = {"invoices": "open AR", "bills": "open AP"}[stream]
    for name, want, have in (
        (f"{stream} total", sum((cents(d.total) for d in truth), Decimal("0.00")),
         sum((cents(d.total) for d in held), Decimal("0.00"))),
        (f"{stream} balance", sum((cents(d.balance) for d in truth), Decimal("0.00")),
         sum((cents(d.balance) for d in held), Decimal("0.00"))),
        (f"{stream} line total", sum((cents(a) for d in truth for a in d.lines), Decimal("0.00")),
         sum((cents(a) for d in held for a in d.lines), Decimal("0.00"))),
    ):
        result.figures[name] = str(have)
        if want != have:
            result.money_differences += 1
            result.findings.append(f"{name}: {have} landed, QuickBooks says {want}")
    want_parties, have_parties = _by_party(truth), _by_party(held)
    party = HEADER_PARTY[stream].removesuffix("_id")
    result.figures[f"{label} {party}s"] = str(len(have_parties))
    for key in sorted(set(want_parties) | set(have_parties)):
        if want_parties.get(key, Decimal(0)) != have_parties.get(key, Decimal(0)):
            result.money_differences += 1
            result.findings.append(f"{label} of {party} {key}: {have_parties.get(key, 0)} landed, "
                                   f"QuickBooks says {want_parties.get(key, 0)}")
