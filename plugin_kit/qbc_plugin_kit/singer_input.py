"""The Singer reader every target uses: it remembers each input line as it arrived.

A record set aside must be kept exactly as it arrived, so the reader hands the raw line to the
target along with the parsed message. Lines that are not JSON, or not a Singer message, are
passed on as :data:`UNREADABLE` messages for the target to set aside instead of ending the run.
Before the input, the reader can replay earlier letters (``prelude``) through the same path.
"""

from __future__ import annotations

import decimal
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import msgspec
from singer_sdk.singerlib.encoding import SimpleSingerReader

from qbc_plugin_kit.typed_records import TypedDecoders

UNREADABLE = "__qbc_unreadable__"


@dataclass(frozen=True)
class PreludeLine:
    """An input line replayed from the dead-letter store, with the letter it came from."""

    line: str
    letter_id: int | None


def parse_line(line: str, on_constant: Callable[[str], Any] = float) -> dict[str, Any]:
    """A Singer message; numbers with a fraction or exponent as Decimal, exactly as sent.

    Python's json accepts NaN and Infinity (they are not JSON): ``on_constant`` reads them (as
    floats by default) so that the intake can name the field; the original line is what is kept.
    """
    return json.loads(line, parse_float=decimal.Decimal, parse_constant=on_constant)  # type: ignore[no-any-return]


# msgspec reads a line several times faster than json, with the same values (numbers with a
# fraction or exponent as Decimal, integers of any size as int). What it refuses (NaN and
# Infinity, lone surrogates, a line that is not JSON) is read again by parse_line, which
# names the cause.
_FAST_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


class RawLineReader(SimpleSingerReader):
    def __init__(self) -> None:
        super().__init__()
        self.current_line = ""
        self.current_letter: int | None = None
        # Whether the current line holds NaN or Infinity: only then is a record walked for them
        # (walking every record cost a fifth of a load's CPU).
        self.current_line_has_constant = False
        self.prelude: Callable[[], Iterable[PreludeLine]] | None = None
        self.unreadable_handler: Callable[[str, Any], None] | None = None
        # Streams whose records are decoded into typed Structs (typed_records.py), by stream name;
        # filled by the target for streams whose sink can take them.
        self.typed_decoders = TypedDecoders()
        # Set by a target whose sinks take typed records (bulk_intake.py): called with a typed
        # RECORD message that continues its stream's run and the input's remaining lines;
        # returns how many records it took (0: it declined the message) and the line it read
        # past the run, if any (see TypedDecoders.run).
        self.take_typed: Callable[[Any, Iterator[str]], tuple[int, str | None]] | None = None

    def deserialize_json(self, line: str) -> dict[str, Any]:
        self.current_line = line.rstrip("\r\n")
        self.current_line_has_constant = False
        if self.typed_decoders and (typed := self.typed_decoders.decode(line)) is not None:
            return typed
        return self.decode_as_dict(line)

    def decode_as_dict(self, line: str) -> dict[str, Any]:
        """The message of ``line`` with its record as a dict (numbers with a fraction as Decimal)."""
        try:
            message = _FAST_DECODER.decode(line)
        except msgspec.DecodeError:
            message = None
        if isinstance(message, dict) and "type" in message:
            return message  # type: ignore[no-any-return]
        try:
            message = parse_line(line, self._constant)
        except (ValueError, RecursionError) as exc:
            return {"type": UNREADABLE, "reason": f"the line is not JSON ({exc})"}
        if not isinstance(message, dict) or "type" not in message:
            return {"type": UNREADABLE, "reason": "the line is not a Singer message (no 'type')"}
        return message

    def _constant(self, name: str) -> float:
        self.current_line_has_constant = True
        return float(name)

    def _lines(self, file_input: IO[str] | None) -> Iterator[str]:
        # The input itself is iterated by itertools.chain, not through a generator of ours: no
        # Python frame per line.
        return itertools.chain(self._prelude_lines(), file_input or self.default_input)

    def _prelude_lines(self) -> Iterator[str]:
        prelude = list(self.prelude()) if self.prelude else []
        for item in prelude:
            self.current_letter = item.letter_id
            yield item.line
        self.current_letter = None

    def process_lines(self, file_input: IO[str] | None, callbacks: dict[str, Any]) -> Counter[str]:  # type: ignore[override]
        """The SDK's loop (a callback per message type, a count per type), with two additions:
        blank lines are skipped (a trailing newline, an editor's last line carry nothing), and
        a typed record that continues its stream's run goes straight to ``take_typed`` with the
        lines that follow, which takes the run's records as long as they continue it, with no
        message dict made and no dispatch through the target's layers per record (that path
        cost about half of a bulk load's intake). A record ``take_typed`` declines is decoded
        as a dict and takes the RECORD callback, whose full check decides."""
        callbacks = {**callbacks, UNREADABLE: self._unreadable}
        stats: dict[str, int] = defaultdict(int)
        typed, take_typed = self.typed_decoders, self.take_typed
        lines = self._lines(file_input)
        line: str | None = None  # a line a run read and left to this loop
        while True:
            if line is None and (line := next(lines, None)) is None:
                break
            if not line or line.isspace():
                line = None
                continue
            self._current_message = line
            if take_typed is not None and typed and (message := typed.decode_run(line)) is not None:
                self.current_line = line.rstrip("\r\n")
                self.current_line_has_constant = False
                taken, rest = take_typed(message, lines)
                if taken:
                    stats["RECORD"] += taken
                    line = rest
                    continue
                line_dict = self.decode_as_dict(line)
            else:
                line_dict = self.deserialize_json(line)
            line = None
            self.assert_line_requires(line_dict, requires={"type"})
            record_type = line_dict["type"]
            if callback := callbacks.get(record_type):
                callback(line_dict)
            else:
                self._process_unknown_message(line_dict)
            stats[record_type] += 1
        return Counter(**stats)

    def _unreadable(self, message_dict: dict[str, Any]) -> None:
        if self.unreadable_handler is None:
            raise ValueError(message_dict.get("reason", "unreadable input line"))
        self.unreadable_handler(str(message_dict.get("reason")), message_dict.get("stream"))

    def _process_unknown_message(self, message_dict: dict) -> None:
        # An unknown message type is a line this target cannot use: set aside, not fatal.
        self._unreadable({"reason": f"unknown Singer message type {message_dict.get('type')!r}",
                          "stream": message_dict.get("stream")})
