"""What a sink's ``accept`` (the bulk record path, bulk_intake.py) does to every record, the same
way in every target: the key check, the audit columns, the version check, and the full JSON
Schema check for a record the target's fast converters cannot vouch for.

The SDK's per-record path did these (``_add_sdc_metadata_to_record``, ``_validate_and_parse``);
a target that takes records in bulk calls these instead, so the contract's rules stay one rule.
"""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import MissingKeyPropertiesError

from qbc_plugin_kit.delivery import private_keys_removed
from qbc_plugin_kit.failures import RecordRefused
from qbc_plugin_kit.record_model import SOURCE_COLUMN, audit_source
from qbc_plugin_kit.validation import RecordValidator
from qbc_plugin_kit.version_order import DELETED_AT, SYNC_TOKEN, UPDATED_AT, version_key

EXTRACTED_AT = "_sdc_extracted_at"
# Property keywords that do not constrain a value: a fast converter that checks the type (and
# format) of a value vouches for it against such a property.
_ANNOTATIONS = frozenset({"type", "format", "description", "title", "examples", "default", "$comment",
                          "readOnly", "writeOnly", "deprecated", "x-sql-datatype"})
# Formats that are annotations for the validator too (validation.py checks date, date-time, time).
_IGNORED_FORMATS = frozenset({"email", "hostname", "ipv4", "ipv6", "uri", "uuid", "regex", "idn-email",
                              "uri-reference", "iri", "json-pointer", "duration", "singer.decimal"})
# Top-level schema keywords a record-level fast check understands.
_SCHEMA_KEYS = frozenset({"type", "properties", "required", "additionalProperties", "$schema",
                          "description", "title", "$id", "definitions", "$defs"})


def extracted_at(record: t.Mapping[str, t.Any], message: t.Mapping[str, t.Any]) -> t.Any:
    """``_sdc_extracted_at``, one rule for every target: the message's ``time_extracted``, else the
    record's own value. A dead letter replayed later carries its original extraction time in the
    record (its message's may be gone), and a tap may put it there itself; the SDK kept only the
    message's, so such a record lost its extraction time."""
    sent = message.get("time_extracted")
    return sent if sent is not None else record.get(EXTRACTED_AT)


def require_keys(record: t.Mapping[str, t.Any], keys: t.Iterable[str]) -> None:
    """The SDK's key check (the delivery path names the missing keys when it sets the record aside)."""
    for key in keys:
        if key not in record:
            raise MissingKeyPropertiesError(f"Record is missing one or more key_properties: {key}")


def stamp_audit_columns(record: dict[str, t.Any], message: t.Mapping[str, t.Any], received: tuple[str, int],
                        *, stream: str, batched_at: t.Any, sync_started_at: t.Any) -> None:
    """The audit columns (record-model.md), set in place: the SDK's ``_sdc_*`` values plus the
    source. ``received`` is the intake's (``_sdc_received_at``, ``_sdc_sequence``) pair."""
    record[EXTRACTED_AT] = extracted_at(record, message)
    record["_sdc_received_at"], record["_sdc_sequence"] = received
    record["_sdc_batched_at"] = batched_at
    record.setdefault(DELETED_AT, None)
    record["_sdc_table_version"] = message.get("version")
    record["_sdc_sync_started_at"] = sync_started_at
    record[SOURCE_COLUMN] = audit_source(stream, record)


def version_needs_reading(record: t.Mapping[str, t.Any]) -> bool:
    """For a record whose version fields the fast converters took (timestamps that parse, an
    integer sync_token), whether the version order could still refuse it: a timestamp in year 1
    or 9999 (an offset can take it out of range in UTC) or a negative sync_token."""
    return versions_need_reading(record.get(SYNC_TOKEN), record.get(UPDATED_AT), record.get(DELETED_AT))


def versions_need_reading(token: t.Any, updated_at: t.Any, deleted_at: t.Any) -> bool:
    """:func:`version_needs_reading` on the three values (the typed path has them apart)."""
    return ((token is not None and token < 0) or (updated_at is not None and updated_at[:4] in _EDGE_YEARS)
            or (deleted_at is not None and deleted_at[:4] in _EDGE_YEARS))


_EDGE_YEARS = frozenset({"0001", "9999"})


def check_version(record: t.Mapping[str, t.Any], *, vouched: bool) -> None:
    """Refuse, alone, a record whose version the order cannot read (rather than fail its batch
    when versions are compared). ``vouched``: the fast converters took its version fields."""
    if vouched and not version_needs_reading(record):
        return
    try:
        version_key(record)
    except (ValueError, OverflowError) as exc:
        raise RecordRefused(f"unreadable value: {exc}") from exc


def fast_property(prop: t.Mapping[str, t.Any]) -> tuple[set[str], bool, str | None] | None:
    """(types without null, nullable, format) of a property a fast converter can vouch for by type
    and format alone; None when the property constrains more (a pattern, a range, nested
    properties, anyOf ...) and its values need the full check."""
    if not set(prop) <= _ANNOTATIONS:
        return None
    declared = prop.get("type")
    if isinstance(declared, str):
        declared = [declared]
    if not isinstance(declared, list) or not declared:
        return None
    types = {str(x) for x in declared}
    nullable = "null" in types
    types.discard("null")
    fmt = prop.get("format")
    return types, nullable, (None if fmt in _IGNORED_FORMATS else fmt)


def simple_record_schema(schema: t.Mapping[str, t.Any]) -> bool:
    """Whether a record is valid when each of its declared properties is (no required list, no
    closed object): the condition for vouching for records column by column."""
    return (set(schema) <= _SCHEMA_KEYS and schema.get("type", "object") in ("object", ["object"])
            and not schema.get("required") and schema.get("additionalProperties", True) is not False)


class FullCheck:
    """The record validator with formats, built on first use: for the records a target's fast
    converters cannot vouch for (and every record of a schema they do not cover)."""

    def __init__(self, schema: t.Mapping[str, t.Any], *, enabled: bool) -> None:
        self._schema = schema
        self._enabled = enabled
        self._validator: RecordValidator | None = None

    def refuse_invalid(self, record: dict[str, t.Any]) -> None:
        """Raise RecordRefused with the validator's reason when the record breaks its schema."""
        if not self._enabled:
            return
        if self._validator is None:
            self._validator = RecordValidator(self._schema)
        reason = self._validator.validate(private_keys_removed(record))
        if reason:
            raise RecordRefused(reason)
