"""JSON text with exact decimals: money is emitted as a JSON number whose text is the Decimal's.

The stdlib encoder only knows float, so a Decimal is first encoded as a marker string and the
marker is then unwrapped into a bare number; the C encoder stays in charge of everything else.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00D"
_MARKED = re.compile(r'"\\u0000D(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return _MARKED.sub(r"\1", json.dumps(value, default=_default, separators=(",", ":")))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
