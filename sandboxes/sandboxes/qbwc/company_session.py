"""A QuickBooks session as the SDK sees it (BeginSession .. EndSession) and its iterators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class Iterator:
    iterator_id: str
    request_type: str
    seqs: list[int]
    position: int = 0


@dataclass
class CompanySession:
    """A QuickBooks session (BeginSession..EndSession); iterators live and die with it."""

    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    iterators: dict[str, Iterator] = field(default_factory=dict)
    open: bool = True
