"""Typed RECORD decoding: what the Struct takes is checked, everything else goes back to dicts."""

from __future__ import annotations

import pytest
from qbc_plugin_kit.singer_input import RawLineReader
from qbc_plugin_kit.typed_records import TypedDecoders, is_typed, typed_fields

LINES = {"company_id": {"type": "string"}, "id": {"type": "string"}, "amount": {"type": ["number", "null"]},
         "qty": {"type": ["integer", "null"]}, "memo": {"type": ["string", "null"]}, "paid": {"type": "boolean"},
         "meta": {"type": ["object", "null"]}, "name with space": {"type": ["string", "null"]}}
VENDORS = {"id": {"type": "string"}, "balance": {"type": ["number", "null"]}}


def decoders() -> TypedDecoders:
    found = TypedDecoders()
    found.add("lines", typed_fields(LINES, required=["company_id", "id"]))
    found.add("vendors", typed_fields(VENDORS, required=["id"]))
    return found


def record(stream: str, body: str) -> str:
    return f'{{"type": "RECORD", "stream": "{stream}", "record": {{{body}}}, "version": 3}}'


def test_a_record_is_typed_with_numbers_kept_as_their_exact_text() -> None:
    fields = typed_fields(LINES, required=["company_id", "id"])
    found = TypedDecoders()
    found.add("lines", fields)
    message = found.decode(record("lines", '"company_id": "9130", "id": "1", "amount": 12.340, "qty": 3, '
                                           '"memo": "é", "name with space": "x", "extra": [1, 2]'))
    assert message is not None and message["version"] == 3
    typed = message["record"]
    assert is_typed(typed)
    names = ["company_id", "id", "qty", "memo", "name with space", "paid"]
    values = fields.reader(names)(typed, dict.fromkeys(names))
    assert values == {"company_id": "9130", "id": "1", "qty": 3, "memo": "é", "name with space": "x", "paid": None}
    assert bytes(getattr(typed, fields.attribute["amount"])) == b"12.340"


@pytest.mark.parametrize("body", [
    '"company_id": "9130", "amount": 1',                   # a key property missing
    '"company_id": "9130", "id": 7',                       # a number where a string is declared
    '"company_id": "9130", "id": "1", "qty": 1.0',         # an integer written with a fraction
    '"company_id": "9130", "id": "1", "qty": true',        # a boolean is not an integer
    '"company_id": "9130", "id": "1", "paid": null',       # null where the schema has no null
    '"company_id": "9130", "id": "1", "amount": NaN',      # not JSON
    '"company_id": "9130", "id": "1", "memo": "\\ud800"',  # a lone surrogate
])
def test_what_the_struct_refuses_is_left_to_the_dict_path(body: str) -> None:
    assert decoders().decode(record("lines", body)) is None


def test_other_messages_and_streams_without_a_decoder_are_not_typed() -> None:
    found = decoders()
    assert found.decode('{"type": "STATE", "value": {"a": 1}}') is None
    assert found.decode(record("customers", '"id": "1"')) is None
    assert found.decode('{"type": "RECORD", "stream": "lines", "record": [1]}') is None


def test_a_line_of_another_stream_is_decoded_with_its_own_struct() -> None:
    found = decoders()
    first = found.decode(record("lines", '"company_id": "9130", "id": "1"'))
    # The next line is tried with the last stream's decoder first: a vendor must not come back
    # as a line record, though it holds every field a line requires.
    vendor = found.decode(record("vendors", '"company_id": "9130", "id": "V1", "balance": 5.5'))
    assert first is not None and vendor is not None
    assert vendor["stream"] == "vendors" and type(vendor["record"]).__name__ == "TypedRecord"
    fields = typed_fields(VENDORS, required=["id"])
    assert fields.reader(["id"])(vendor["record"], {"id": None}) == {"id": "V1"}


def test_the_reader_gives_a_dict_for_a_line_the_struct_refuses() -> None:
    reader = RawLineReader()
    reader.typed_decoders.add("lines", typed_fields(LINES, required=["company_id", "id"]))
    typed = reader.deserialize_json(record("lines", '"company_id": "9130", "id": "1", "amount": 1.5'))
    untyped = reader.deserialize_json(record("lines", '"company_id": "9130", "id": "1", "qty": "3"'))
    assert is_typed(typed["record"])
    assert untyped["record"] == {"company_id": "9130", "id": "1", "qty": "3"}


def test_a_run_yields_its_records_and_keeps_the_line_that_ends_it() -> None:
    found = decoders()
    assert found.decode(record("lines", '"company_id": "9130", "id": "1"')) is not None  # the run's stream
    ends = [
        record("vendors", '"company_id": "9130", "id": "V1"'),           # another stream, same fields
        '{"type": "STATE", "value": {"a": 1}}',                          # another message
        record("lines", '"company_id": "9130", "id": 7'),                # a record the Struct refuses
        "\n",                                                            # a blank line
    ]
    for end in ends:
        lines = iter([record("lines", '"company_id": "9130", "id": "2"') + "\n",
                      record("lines", '"company_id": "9130", "id": "3"') + "\n", end, "after"])
        run = found.run(lines, lambda: False)
        taken = [line for _message, line in run]
        assert [line.split('"id": "')[1][0] for line in taken] == ["2", "3"]
        assert run.rest == end and next(lines) == "after"  # nothing read past it
    # The caller ends the run where it must take the line itself (a dead letter's line).
    lines = iter([record("lines", '"company_id": "9130", "id": "2"')])
    run = found.run(lines, lambda: True)
    assert list(run) == [] and run.rest is not None
    # The input's end: no line left over.
    run = found.run(iter([record("lines", '"company_id": "9130", "id": "2"')]), lambda: False)
    assert len(list(run)) == 1 and run.rest is None
