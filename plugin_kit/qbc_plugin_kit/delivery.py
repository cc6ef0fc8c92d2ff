"""The delivery contract (docs/delivery-contract.md) as two mixins every target uses.

``class TargetX(DeliveryTarget, <SDK Target>)`` and ``class SinkX(DeliverySink, <SDK Sink>)``:

* every input line is kept as it arrived until its record is delivered or set aside;
* a record that cannot be delivered (schema, NaN, a line that is not JSON, a record before its
  SCHEMA, a missing key, a value the destination refuses) is set aside **alone** in the
  dead-letter store; the rest of its batch lands;
* a sink's batch goes through :func:`deliver_batch`: transient errors are retried, systemic
  ones stop the run (no STATE is emitted past the last committed batch, since the SDK writes
  STATE only after every sink drained), and refused records are isolated by splitting;
* letters still pending are re-sent before new input (``dead_letter_retry_attempts``);
* the run ends with one line per stream that set records aside, and exits 1 unless
  ``on_data_failure`` is ``warn``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from singer_sdk import typing as th
from singer_sdk.exceptions import (
    ConfigValidationError,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)

from qbc_plugin_kit.background_load import BackgroundLoads
from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore
from qbc_plugin_kit.failures import Kind, RecordRefused, RecordsSetAside, SystemicFailure, Verdict
from qbc_plugin_kit.quiet_logs import quiet_sdk_logs
from qbc_plugin_kit.retry import RetryPolicy
from qbc_plugin_kit.settings_check import renamed_settings
from qbc_plugin_kit.singer_input import PreludeLine, RawLineReader
from qbc_plugin_kit.typed_records import TypedRecordDeclined, is_typed
from qbc_plugin_kit.validation import RecordValidator, non_finite_reason
from qbc_plugin_kit.version_order import version_key

# Private keys a record carries through a sink: its input line and, when replayed, its letter.
LINE = "__qbc_line__"
LETTER = "__qbc_letter__"
PRIVATE_KEYS = (LINE, LETTER)

FAIL, WARN = "fail", "warn"

# One atomic write of a batch; it may return (record, reason) for records the destination
# refused one by one while it took the rest (see deliver_batch).
Load = Callable[[list[dict[str, Any]]], Sequence[tuple[dict[str, Any], str]] | None]
UNKNOWN_STREAM = "(unreadable lines)"



def default_dead_letter_path(target_name: str) -> str:
    return f".meltano/{target_name}/dead_letters"


@dataclass(frozen=True)
class DeliverySettings:
    """The delivery contract's settings, declared once for every target: these defaults feed
    both the settings schema (:func:`delivery_settings`) and the object the code reads."""

    dead_letter_path: str
    on_data_failure: str = FAIL
    dead_letter_retry_attempts: int = 3
    max_retries: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any], target_name: str) -> DeliverySettings:
        # The SDK fills schema defaults into a validated config; an unvalidated one (a test's
        # dict, replay's merged files) falls back to the same defaults declared here.
        present = {f.name: config[f.name] for f in fields(cls) if config.get(f.name) is not None}
        return cls(**{"dead_letter_path": default_dead_letter_path(target_name), **present})

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=int(self.max_retries) + 1)


def delivery_settings(target_name: str) -> list[th.Property]:
    """The settings of the delivery contract as JSON-schema properties (defaults from
    :class:`DeliverySettings`)."""
    defaults = DeliverySettings(dead_letter_path=default_dead_letter_path(target_name))
    return [
        th.Property("dead_letter_path", th.StringType, default=defaults.dead_letter_path,
                    description="Folder of the dead-letter store (one SQLite file) where records the "
                    "destination cannot hold are kept exactly as they arrived."),
        th.Property("on_data_failure", th.StringType(allowed_values=[FAIL, WARN]), default=defaults.on_data_failure,
                    description="When records were set aside but everything else was delivered: "
                    "'fail' ends the run with exit status 1 so an orchestrator alerts (state is "
                    "still saved); 'warn' logs the same summary and exits 0."),
        th.Property("dead_letter_retry_attempts", th.IntegerType, default=defaults.dead_letter_retry_attempts,
                    description="Each run first re-sends records still in the dead-letter store, "
                    "until a record has been tried this many times (then only `replay` sends it)."),
        th.Property("max_retries", th.IntegerType, default=defaults.max_retries,
                    description="Retries (jittered exponential backoff) of a batch after a transient "
                    "error (timeouts, dropped connections, throttling, 5xx) before the run stops."),
    ]


def private_keys_removed(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the destination should see it (no input line, no letter id)."""
    return {k: v for k, v in record.items() if k not in PRIVATE_KEYS}


class DeliveryLedger:
    """What the run set aside and re-delivered, per stream; thread-safe (parallel drains)."""

    def __init__(self, store: DeadLetterStore, target_name: str, logger: logging.Logger) -> None:
        self.store = store
        self.target_name = target_name
        self.logger = logger
        self.schema_lines: dict[str, str] = {}
        self.set_aside_counts: Counter[str] = Counter()
        self.refused_again: Counter[str] = Counter()
        self.redelivered: Counter[str] = Counter()
        self.refused_letters: dict[int, str] = {}
        # The SDK's exception for the first record set aside for a reason it names.
        self.sdk_exception: type[Exception] | None = None
        self._lock = threading.Lock()

    def set_aside(self, *, stream: str | None, line: str, reason: str, key: dict[str, Any] | None,
                  letter: int | None) -> None:
        label = stream or UNKNOWN_STREAM
        with self._lock:
            if letter is not None:
                self.store.refused_again(letter, reason)
                self.refused_again[label] += 1
                self.refused_letters[letter] = reason
                self.logger.warning("%s: dead letter %d refused again: %s", label, letter, reason)
                return
            letter_id = self.store.add(stream=stream, line=line, reason=reason, key=key,
                                       schema_message=self.schema_lines.get(stream or ""))
            self.set_aside_counts[label] += 1
        self.logger.warning("%s: record %s set aside as dead letter %d: %s",
                            label, key if key is not None else "", letter_id, reason)

    def delivered(self, stream: str, records: Iterable[dict[str, Any]]) -> None:
        """Letters among ``records`` reached the destination (or were superseded there)."""
        letters = [r[LETTER] for r in records if r.get(LETTER) is not None]
        with self._lock:
            for letter in letters:
                self.store.mark_replayed(letter)
            self.redelivered[stream] += len(letters)

    def summary_lines(self) -> list[str]:
        lines = []
        for stream, count in sorted(self.redelivered.items()):
            if count:
                lines.append(f"{stream}: {count} record(s) from the dead-letter store delivered")
        for stream, count in sorted(self.refused_again.items()):
            lines.append(f"{stream}: {count} record(s) from the dead-letter store refused again "
                         f"(see `{self.target_name} replay --list --stream {stream}`)")
        for stream, count in sorted(self.set_aside_counts.items()):
            selection = "" if stream == UNKNOWN_STREAM else f" --stream {stream}"
            lines.append(f"{stream}: {count} record(s) set aside in {self.store.path}; "
                         f"see them with `{self.target_name} replay --list{selection}`")
        return lines


_S = TypeVar("_S")


def settings_from_config(cls: type[_S], config: Mapping[str, Any], prog: str, renames: Mapping[str, str],
                         logger: logging.Logger | None = None) -> _S:
    """A plugin's frozen settings dataclass from a config: old names read as the new ones
    (warned), a missing, null or empty value left to the field's default, the delivery part as
    :class:`DeliverySettings`, and values from JSON or environment text made their declared type
    once, here (``int``, ``float``, ``str``; a list for a ``tuple`` field)."""
    current = renamed_settings(dict(config), dict(renames), logger or logging.getLogger(prog))
    kinds: dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "str": str}
    present: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = current.get(f.name)
        if f.name == "delivery" or value in (None, ""):
            continue
        declared = str(f.type)
        present[f.name] = (kinds[declared](value) if declared in kinds
                           else tuple(value) if declared.startswith("tuple") else value)
    return cls(**present, delivery=DeliverySettings.from_config(current, prog))  # type: ignore[call-arg]


class DeliveryTarget:
    """Mixin for the target class; put it before the SDK's Target class."""

    message_reader_class = RawLineReader
    # {"old setting name": "new name"}: an old name keeps working, warned (settings_check).
    RENAMED_SETTINGS: ClassVar[dict[str, str]] = {}
    name: str
    _config: dict[str, Any]
    config: Any
    logger: logging.Logger
    message_reader: RawLineReader
    mapper: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delivery_settings = DeliverySettings.from_config(self.config, self.name)
        self.delivery = DeliveryLedger(DeadLetterStore(Path(self.delivery_settings.dead_letter_path)),
                                       self.name, self.logger)
        self.replay_selection: list[DeadLetter] | None = None
        # Sinks that load in the background (background_load.py) share this one worker.
        self.background_loads = BackgroundLoads(self.name)
        self.message_reader.unreadable_handler = self._set_aside_unreadable
        self.message_reader.prelude = self._prelude
        # The SDK's METRIC JSON (half the lines of a small load) only at DEBUG, and its
        # routine set-up lines too (quiet_logs).
        quiet_sdk_logs(self, log_metrics=False, summaries=False)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Settings of earlier versions read under their new names (each warned), before anything
        # reads the config.
        self._config = renamed_settings(self._config, self.RENAMED_SETTINGS, self.logger)
        # The SDK's CLI ends a refused configuration on "Config validation failed", naming no
        # setting: a SystemicFailure's one line names them and the fix.
        try:
            return super()._validate_config(raise_errors=raise_errors)  # type: ignore[misc, no-any-return]
        except ConfigValidationError as exc:
            details = "; ".join(str(e) for e in (exc.errors or [])) or str(exc)
            raise SystemicFailure(f"the configuration is not valid: {details}",
                                  f"set these settings (meltano config {self.name} set ...) and run "
                                  "again") from exc

    # -- input ---------------------------------------------------------------------------

    def _prelude(self) -> Iterator[PreludeLine]:
        """Letters to re-send before the input: the ones ``replay`` chose, else those pending
        with attempts left."""
        letters = self.replay_selection
        if letters is None:
            attempts = self.delivery_settings.dead_letter_retry_attempts
            letters = self.delivery.store.letters(max_attempts=attempts) if attempts > 0 else []
        for letter in letters:
            if letter.stream is None or letter.schema_message is None:
                if self.replay_selection is not None:
                    self.delivery.set_aside(stream=letter.stream, line=letter.line, key=letter.key,
                                            letter=letter.id, reason=letter.reason)
                continue
            yield PreludeLine(letter.schema_message, None)
            yield PreludeLine(letter.line, letter.id)

    def _set_aside_unreadable(self, reason: str, stream: Any) -> None:
        reader = self.message_reader
        self.delivery.set_aside(stream=stream if isinstance(stream, str) else None, line=reader.current_line,
                                reason=reason, key=None, letter=reader.current_letter)

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)  # type: ignore[misc]
        self.delivery.schema_lines[message_dict["stream"]] = self.message_reader.current_line

    def _process_record_message(self, message_dict: dict) -> None:
        reader = self.message_reader
        if is_typed(message_dict.get("record")):
            try:
                super()._process_record_message(message_dict)  # type: ignore[misc]
                return
            except TypedRecordDeclined:
                # The sink could not vouch for it: the line as a dict, checked fully below.
                message_dict = reader.decode_as_dict(reader.current_line)
        line, letter = reader.current_line, reader.current_letter
        stream, record = message_dict.get("stream"), message_dict.get("record")
        if stream not in self.mapper.stream_maps or not isinstance(record, dict):
            self.delivery.sdk_exception = self.delivery.sdk_exception or RecordsWithoutSchemaException
        if not isinstance(stream, str) or not isinstance(record, dict):
            self.delivery.set_aside(stream=stream if isinstance(stream, str) else None, line=line, key=None,
                                    letter=letter, reason="RECORD message without a 'stream' name and a 'record' object")
            return
        if stream not in self.mapper.stream_maps:
            self.delivery.set_aside(stream=stream, line=line, key=None, letter=letter,
                                    reason=f"the record arrived before a SCHEMA message for stream '{stream}'")
            return
        if reader.current_line_has_constant and (reason := non_finite_reason(record)):
            keys = self.mapper.stream_maps[stream][0].raw_key_properties or []
            self.delivery.set_aside(stream=stream, line=line, letter=letter, reason=reason,
                                    key={k: record.get(k) for k in keys if k in record} or None)
            return
        record[LINE] = line
        if letter is not None:
            record[LETTER] = letter
        try:
            super()._process_record_message(message_dict)  # type: ignore[misc]
        except (InvalidRecord, MissingKeyPropertiesError, RecordRefused) as exc:
            keys = self.mapper.stream_maps[stream][0].raw_key_properties or []
            missing = [k for k in keys if k not in record]
            if missing:
                self.delivery.sdk_exception = self.delivery.sdk_exception or MissingKeyPropertiesError
            reason = (f"the record has no value for key propert{'ies' if len(missing) > 1 else 'y'} "
                      f"{', '.join(missing)}" if missing else str(getattr(exc, "reason", exc)))
            self.delivery.set_aside(stream=stream, line=line, letter=letter, reason=reason,
                                    key={k: record.get(k) for k in keys if k in record} or None)

    def _write_state_message(self, state: dict) -> None:
        # No STATE past what was committed: a batch still loading in the background lands (or
        # fails the run) first.
        self.background_loads.wait()
        super()._write_state_message(state)  # type: ignore[misc]

    def after_delivery(self) -> None:
        """Steps a target runs once everything was delivered (a model rebuild, a deploy)."""

    def process_endofpipe(self) -> None:
        # The SDK's test runner calls process_lines + process_endofpipe, not listen: the end of
        # the run's checks live here.
        try:
            super().process_endofpipe()  # type: ignore[misc]  # drains every sink, then STATE
            self.background_loads.close()
            self.after_delivery()
        finally:
            for line in self.delivery.summary_lines():
                self.logger.warning(line)
        if self.delivery.set_aside_counts and self.delivery_settings.on_data_failure == FAIL:
            total = sum(self.delivery.set_aside_counts.values())
            raise _run_failure(self.delivery.sdk_exception)(
                f"{total} record(s) could not be delivered and were set aside (everything else was "
                f"delivered and the state saved): see them with `{self.name} replay --list`, fix the "
                f"cause, then run `{self.name} replay` (or set on_data_failure: warn to exit 0)"
            )


class DeliverySink:
    """Mixin for a target's sink; put it before the SDK's Sink class."""

    stream_name: str
    schema: dict[str, Any]
    key_properties: Sequence[str]
    config: Any
    logger: logging.Logger
    validate_schema: bool

    def __init__(self, target: Any, *args: Any, **kwargs: Any) -> None:
        self._delivery: DeliveryLedger = target.delivery
        self._background_loads: BackgroundLoads = target.background_loads
        self._settings: DeliverySettings = target.delivery_settings
        self._record_validator: RecordValidator | None = None
        self._validator_built = False
        super().__init__(target, *args, **kwargs)  # type: ignore[call-arg]

    def get_validator(self) -> None:
        # The kit's validator replaces the SDK's (see qbc_plugin_kit.validation).
        return None

    def _compiled_validator(self) -> RecordValidator | None:
        """Built on the first record (``validate_schema`` is read once, not per record)."""
        if not self._validator_built:
            # Formats are not checked here: the SDK parses every date and date-time right after,
            # and a value it cannot parse becomes this record's failure below.
            self._record_validator = (RecordValidator(self.schema, check_formats=False)
                                      if self.validate_schema else None)
            self._validator_built = True
        return self._record_validator

    def _validate_and_parse(self, record: dict) -> dict:
        line, letter = record.pop(LINE, None), record.pop(LETTER, None)
        try:
            validator = self._compiled_validator()
            reason = validator.validate(record) if validator is not None else None
            if reason:
                raise RecordRefused(reason)
            try:
                super()._validate_and_parse(record)  # type: ignore[misc]  # parses date-times
                # A version the order cannot read (an updated_at past year 9999 in UTC) fails
                # its record here, not a whole batch when versions are compared.
                version_key(record)
            except (ValueError, OverflowError) as exc:
                raise RecordRefused(f"unreadable value: {exc}") from exc
        finally:
            if line is not None:
                record[LINE] = line
            if letter is not None:
                record[LETTER] = letter
        return record

    # -- delivery ------------------------------------------------------------------------

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._settings.retry_policy

    def record_key(self, record: dict[str, Any]) -> dict[str, Any] | None:
        return {k: record.get(k) for k in self.key_properties} or None

    def set_aside(self, record: dict[str, Any], reason: str) -> None:
        self._delivery.set_aside(stream=self.stream_name, line=str(record.get(LINE, "")), reason=reason,
                                 key=self.record_key(record), letter=record.get(LETTER))

    def delivered(self, records: Iterable[dict[str, Any]]) -> None:
        self._delivery.delivered(self.stream_name, records)

    def deliver(self, records: list[dict[str, Any]], load: Load,
                classify: Callable[[BaseException], Verdict]) -> list[dict[str, Any]]:
        """Deliver ``records`` with ``load`` (one atomic write); returns those that landed.

        Records ``load`` refuses are isolated and set aside; letters among the landed records
        are marked delivered. Raises SystemicFailure when the run must stop.
        """
        landed = deliver_batch(records, load=load, classify=classify, set_aside=self.set_aside,
                               policy=self.retry_policy, logger=self.logger, describe=self.stream_name)
        self.delivered(landed)
        return landed


_PROGRAMMING_ERRORS = (TypeError, AttributeError, NameError, AssertionError, ImportError)


def _run_failure(sdk_exception: type[Exception] | None) -> type[RecordsSetAside]:
    """RecordsSetAside, also an instance of the SDK's exception for the first such record
    (records before their schema, a missing key): the run still fails as the SDK's standard
    target tests expect, but at the end, after everything else was delivered."""
    if sdk_exception is None:
        return RecordsSetAside
    return type(f"RecordsSetAside{sdk_exception.__name__}", (RecordsSetAside, sdk_exception), {})


def _attempt(records: list[dict[str, Any]], load: Callable[[list[dict[str, Any]]], None],
             classify: Callable[[BaseException], Verdict], policy: RetryPolicy,
             logger: logging.Logger, describe: str, sleep: Callable[[float], None]) -> Verdict | None:
    """Load with retries; None when it landed, else the verdict on the refusal."""
    attempt = 1
    while True:
        try:
            load(records)
            return None
        except (SystemicFailure, RecordsSetAside):
            raise
        except _PROGRAMMING_ERRORS:
            # A bug in the target, not an answer of the destination: never classified as a
            # refusal (that would set good records aside), it ends the run with its traceback.
            raise
        except RecordRefused as exc:
            return Verdict(Kind.DATA, exc.reason)
        except Exception as exc:
            verdict = classify(exc)
            if verdict.kind is Kind.SYSTEMIC:
                raise SystemicFailure(verdict.message, verdict.fix or "see the error above") from exc
            if verdict.kind is not Kind.TRANSIENT:
                return verdict
            if attempt >= policy.max_attempts:
                raise SystemicFailure(
                    f"{describe}: the destination still failed after {attempt} attempts: {verdict.message}",
                    verdict.fix or "check that the destination is reachable and healthy (or raise "
                    "max_retries), then run again; nothing after the last delivered batch was marked done",
                ) from exc
            wait = policy.delay(attempt, verdict.retry_after)
            logger.warning("%s: %s; retry %d/%d in %.1fs", describe, verdict.message, attempt,
                           policy.max_attempts - 1, wait)
            sleep(wait)
            attempt += 1


def deliver_batch(records: list[dict[str, Any]], *, load: Load,
                  classify: Callable[[BaseException], Verdict],
                  set_aside: Callable[[dict[str, Any], str], None], policy: RetryPolicy,
                  logger: logging.Logger, describe: str,
                  sleep: Callable[[float], None] | None = None) -> list[dict[str, Any]]:
    """Deliver a batch; isolate the records the destination refuses. Returns those landed.

    ``load`` may also return the records the destination refused one by one while it took
    the others (an API that answers per record, e.g. Salesforce's sObject Collections), each
    with the destination's reason: those are set aside alone, with no splitting. A retried
    ``load`` reports again, and only the answer of the last attempt counts.
    """
    if not records:
        return []
    sleep = sleep or time.sleep
    refusals: dict[int, str] = {}

    def load_noting_refusals(batch: list[dict[str, Any]]) -> None:
        refused = load(batch)
        if refusals:  # an earlier attempt's answers for these records no longer count
            for record in batch:
                refusals.pop(id(record), None)
        for record, reason in refused or ():
            refusals[id(record)] = reason

    landed = _split(records, load_noting_refusals, classify, set_aside, policy, logger, describe, sleep,
                    probe=True)
    if not refusals:
        return landed
    for record in landed:
        if id(record) in refusals:
            set_aside(record, refusals[id(record)])
    return [record for record in landed if id(record) not in refusals]


def _split(records: list[dict[str, Any]], load: Callable[[list[dict[str, Any]]], None],
           classify: Callable[[BaseException], Verdict], set_aside: Callable[[dict[str, Any], str], None],
           policy: RetryPolicy, logger: logging.Logger, describe: str,
           sleep: Callable[[float], None], *, probe: bool = False) -> list[dict[str, Any]]:
    """Load ``records``; when refused, set a lone record aside or split in halves. ``probe``
    (the whole batch only) first asks whether the destination refuses everything."""
    if not records:
        return []
    verdict = _attempt(records, load, classify, policy, logger, describe, sleep)
    if verdict is None:
        return list(records)
    if len(records) == 1:
        set_aside(records[0], verdict.message)
        return []
    if probe and verdict.kind is Kind.REFUSED:
        # An error the target cannot attribute: if the batch's first, middle and last records
        # are each refused alone with that same error, the destination refuses everything (a
        # systemic failure), and splitting 2N times would only hide that. Three samples, not
        # two: a destination's message for a bad row can be generic ("Bad request").
        probes = sorted({0, len(records) // 2, len(records) - 1})
        answers: dict[int, Verdict | None] = {}
        for index in probes:
            answers[index] = _attempt(records[index:index + 1], load, classify, policy, logger, describe, sleep)
            answer = answers[index]
            if answer is None or answer.message != verdict.message:
                break
        else:
            raise SystemicFailure(
                f"{describe}: the destination refused the whole batch of {len(records)} records, and "
                f"{len(probes)} of its records alone, with: {verdict.message}",
                "fix the destination or the setting this error names, then run again; nothing "
                "after the last delivered batch was marked done",
            )
        landed: list[dict[str, Any]] = []
        for index, answer in answers.items():
            if answer is None:
                landed.append(records[index])
            else:
                set_aside(records[index], answer.message)
        rest = [record for index, record in enumerate(records) if index not in answers]
        return landed + _split(rest, load, classify, set_aside, policy, logger, describe, sleep, probe=False)
    middle = len(records) // 2
    return (_split(records[:middle], load, classify, set_aside, policy, logger, describe, sleep)
            + _split(records[middle:], load, classify, set_aside, policy, logger, describe, sleep))
