"""The taps' fast RECORD lines are the SDK's own lines, whatever the record holds."""

from __future__ import annotations

import contextlib
import datetime
import io
import re
from decimal import Decimal

import msgspec
import pytest
from qbc_plugin_kit.singer_output import BufferedSingerWriter, is_sdk_text_of_json_values
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

_EXTRACTED = re.compile(r',"time_extracted":"[^"]*"')

RECORDS = [
    {"id": "80000001-1234567890", "amount": Decimal("1234.50"), "qty": Decimal("-0.0001"), "n": 3,
     "ok": True, "none": None, "lines": [{"a": Decimal("1E+2"), "b": "x"}]},
    {"id": "3E4", "name": "Café Ünïcode", "note": 'quote " and \\ and \n newline \t tab \x01 ctl'},
    {"id": "f", "rate": 1e16, "small": 1.5e-7, "plain": 0.1, "nan": float("nan")},
    {"id": "d", "at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), "day": datetime.date(2026, 1, 2)},
    {"id": "e", "text": "1e5 looks like a number", "n": -12, "big": 10**20},
    {"id": "del", "note": "DEL \x7f is escaped by the SDK", "nan": Decimal("NaN"), "inf": Decimal("-Infinity")},
]


def _sdk_line(record: dict) -> str:
    message = RecordMessage(stream="invoices", record=record, time_extracted=datetime.datetime.now(datetime.UTC))
    return SimpleSingerWriter().format_message(message) + "\n"


@pytest.mark.parametrize("record", RECORDS, ids=[str(r["id"]) for r in RECORDS])
def test_a_fast_record_line_is_the_sdks_line(record: dict) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        BufferedSingerWriter().write_record("invoices", record)

    assert _EXTRACTED.sub("", out.getvalue()) == _EXTRACTED.sub("", _sdk_line(record))


def test_records_wait_in_the_buffer_and_a_state_flushes_them() -> None:
    class Out(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out = Out()
    with contextlib.redirect_stdout(out):
        writer = BufferedSingerWriter()
        for record in RECORDS[:2]:
            writer.write_record("invoices", record)
        flushed_before_state = out.flushes
        from singer_sdk.singerlib import StateMessage

        writer.write_message(StateMessage(value={"bookmarks": {}}))

    assert flushed_before_state == 0 and out.flushes == 1
    assert out.getvalue().splitlines()[-1] == '{"type":"STATE","value":{"bookmarks":{}}}'


JSON_VALUED = [RECORDS[0], RECORDS[1], RECORDS[4],
               {"id": "del", "note": "DEL \x7f here", "amount": Decimal("NaN")},
               {"id": "exp", "amount": Decimal("-1.5E-7"), "rate": Decimal("0E-10"), "lines": []}]


@pytest.mark.parametrize("record", JSON_VALUED, ids=[str(r["id"]) for r in JSON_VALUED])
def test_a_record_of_json_values_is_written_as_the_sdks_line(record: dict) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        BufferedSingerWriter().write_record_of_json_values("invoices", record)

    assert _EXTRACTED.sub("", out.getvalue()) == _EXTRACTED.sub("", _sdk_line(record))

# Records as a tap stores them: JSON, read back with Decimal numbers.
STORED = [
    b'{"id":"a","amount":1234.50,"e":1E+2,"tiny":1E-7,"zero":-0.00,"n":-12,"big":100000000000000000000,'
    b'"ok":true,"none":null,"lines":[{"a":0.00,"b":"x"}],"at":"2026-01-02T03:04:05Z","text":"1e5"}',
    b'{"id":"b","note":"quote \\" and \\\\ and \\n newline \\u0001 ctl"}',
    '{"id":"c","name":"Café"}'.encode(),
    b'{"id":"d","note":"DEL \x7f"}',
]


@pytest.mark.parametrize("stored", STORED, ids=["numbers", "escapes", "non-ascii", "del"])
def test_stored_json_passes_the_check_exactly_when_it_is_the_sdks_text(stored: bytes) -> None:
    record = msgspec.json.Decoder(float_hook=Decimal).decode(stored)
    body = msgspec.json.Encoder(decimal_format="number").encode(record)
    extracted = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
    sdk = SimpleSingerWriter().format_message(
        RecordMessage(stream="invoices", record=record, time_extracted=extracted)) + "\n"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        BufferedSingerWriter().write_record_json("invoices", body, extracted)

    assert (out.getvalue() == sdk) == is_sdk_text_of_json_values(body)
    assert is_sdk_text_of_json_values(body) == (stored[:8] in (b'{"id":"a', b'{"id":"b'))
