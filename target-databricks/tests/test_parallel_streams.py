"""Several streams drained at once (``max_parallel_streams``), each on its own session."""

from __future__ import annotations

import typing as t

from conftest import letters, record, run_target, schema_message

STREAMS = [f"stream_{i}" for i in range(6)]
ROWS_PER_STREAM = 5
PROPERTIES = {"id": {"type": "string"}, "amount": {"type": ["number", "null"]}}


def _messages() -> list[dict[str, t.Any]]:
    messages: list[dict[str, t.Any]] = []
    for stream in STREAMS:
        messages.append(schema_message(stream, PROPERTIES, keys=["id"]))
        messages += [record(stream, id=str(i), amount=i) for i in range(ROWS_PER_STREAM)]
    return messages


def _stored(sql: t.Callable[..., list[t.Any]], config: dict[str, t.Any]) -> dict[str, tuple[int, int]]:
    stored = {}
    for stream in STREAMS:
        (count, distinct), = sql(
            f"SELECT count(*), count(DISTINCT id) FROM {config['catalog']}.{config['default_target_schema']}.{stream}")
        stored[stream] = (int(count), int(distinct))
    return stored


def test_parallel_streams_load_every_row_once(target_config: dict[str, t.Any],
                                              sql: t.Callable[..., list[t.Any]]) -> None:
    run_target({**target_config, "max_parallel_streams": 4}, _messages())
    assert letters(target_config) == []
    assert _stored(sql, target_config) == {s: (ROWS_PER_STREAM, ROWS_PER_STREAM) for s in STREAMS}


def test_answers_lost_between_warehouse_and_engine_cost_no_batch_and_no_duplicate(
    target_config: dict[str, t.Any], sql: t.Callable[..., list[t.Any]], databricks_faults: t.Any,
) -> None:
    # Spark runs these calls, then the answer is lost: the warehouse must neither run a call
    # twice nor turn a lost close into 'Invalid OperationHandle' (a CI run's dead letter).
    databricks_faults.lose_answers_next(3, method="CloseOperation")
    databricks_faults.lose_answers_next(3, method="ExecuteStatement")
    run_target({**target_config, "max_parallel_streams": 4}, _messages())
    assert databricks_faults.count("faults.answers_lost") == 6
    assert letters(target_config) == []
    assert _stored(sql, target_config) == {s: (ROWS_PER_STREAM, ROWS_PER_STREAM) for s in STREAMS}
