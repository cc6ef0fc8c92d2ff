"""bench/run's harness with fake steps (the real benches are not run here): a step that reports a
wrong count or exits non-zero stops the run with exit 1 and names the mismatch on the last line,
the steps after it never run, and a goal whose figure no step wrote says "not measured"."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bench import harness


def fake_step(tmp_path: Path, key: str, body: str) -> harness.Step:
    """A step running ``body`` as Python, with ``figures(...)`` writing the contract's file."""
    script = tmp_path / f"{key}.py"
    script.write_text(textwrap.dedent("""
        import json, os, sys
        def figures(figures, checks=()):
            with open(os.environ["QBC_BENCH_FIGURES"], "w") as out:
                json.dump({"figures": figures, "checks": list(checks)}, out)
    """) + textwrap.dedent(body))
    return harness.Step(key, f"fake {key}", [sys.executable, str(script)])


def marker_step(tmp_path: Path) -> harness.Step:
    return fake_step(tmp_path, "after", f"open({str(tmp_path / 'after-ran')!r}, 'w').close()\nfigures({{}})\n")


def run(tmp_path: Path, *planned: harness.Step, mode: str = "quick") -> int:
    return harness.run(list(planned), mode, tmp_path / "results", tmp_path / "work", dict(os.environ))


def last_stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_wrong_count_stops_the_harness_and_is_named_last(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    wrong = fake_step(tmp_path, "warehouse", """
        figures({"pg_vs_floor": 9.0, "pg_rows_per_s": 900000, "pg_floor_rows_per_s": 100000},
                [{"what": "rows in quickbooks.invoice_lines", "expected": 200000, "found": 199999}])
    """)

    assert run(tmp_path, wrong, marker_step(tmp_path)) == 1

    last = last_stderr_line(capsys)
    assert "WRONG ANSWER from fake warehouse" in last
    assert "rows in quickbooks.invoice_lines" in last and "199999" in last and "200000" in last
    assert not (tmp_path / "after-ran").exists()
    written = (tmp_path / "results" / "harness_quick.md").read_text()
    assert "FAILED" in written and "| met |" not in written  # the fast wrong answer counts for nothing
    assert (tmp_path / "RESULTS.md").read_text().count("FAILED") >= 1


def test_a_step_exiting_non_zero_stops_the_harness_with_its_last_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = fake_step(tmp_path, "qbo", """
        print("syncing...")
        sys.exit("WRONG ANSWER from target-x -> PostgreSQL: 5 rows, expected 6")
    """)

    assert run(tmp_path, failing, marker_step(tmp_path)) == 1

    last = last_stderr_line(capsys)
    assert "fake qbo failed (exit 1)" in last
    assert "5 rows, expected 6" in last
    assert not (tmp_path / "after-ran").exists()


def test_a_figures_file_that_is_not_the_contract_fails_the_step(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    garbled = fake_step(tmp_path, "qbd", """
        open(os.environ["QBC_BENCH_FIGURES"], "w").write("{not json")
    """)

    assert run(tmp_path, garbled) == 1
    assert "does not hold the figures contract" in last_stderr_line(capsys)


def goals(tmp_path: Path, name: str = "harness_quick") -> dict[str, dict[str, Any]]:
    summary = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    return {g["goal"]: g for g in summary["goals"]}


def test_goals_come_from_the_figures_written_and_say_not_measured_otherwise(tmp_path: Path) -> None:
    warehouse = fake_step(tmp_path, "warehouse", """
        figures({"pg_vs_floor": {"median": 0.5, "runs": [0.45, 0.5, 0.6]},
                 "pg_rows_per_s": 50000, "pg_floor_rows_per_s": 100000,
                 "duckdb_vs_floor": {"median": 0.2, "runs": [0.2]},
                 "duckdb_rows_per_s": 20000, "duckdb_floor_rows_per_s": 100000},
                [{"what": "rows", "expected": 10, "found": 10}])
    """)

    assert run(tmp_path, warehouse) == 0

    found = goals(tmp_path)
    postgres = found["target-looker-warehouse -> PostgreSQL >= 0.40 of the floor"]
    assert postgres["met"] is True
    assert "0.50x (0.45-0.60, 3 runs); ours 50,000 rows/s" in postgres["measured"] and "100,000 rows/s" in postgres["beside"]
    assert found["target-looker-warehouse -> DuckDB >= 0.40 of the floor"]["met"] is False
    qbo = found["tap-quickbooks-online >= 3x the singer-io tap (same sandbox)"]
    assert qbo["met"] is None and qbo["measured"].startswith("not measured")
    assert found["`bench/run` (full set) under 20 minutes"]["met"] is None  # this run was quick
    results = (tmp_path / "RESULTS.md").read_text()
    first = results.index("# bench/run: the goals of issue 17")
    assert results.index("| target-looker-warehouse -> PostgreSQL >= 0.40 of the floor |") > first
    assert "NOT met" in results and "not measured" in results


def test_the_main_job_reports_each_pipeline_s_wall(tmp_path: Path) -> None:
    main_job = fake_step(tmp_path, "main_job", """
        figures({"pipelines": [
            {"name": "meltano run tap-quickbooks-online target-databricks", "ok": True, "seconds": 34.2},
            {"name": "meltano run tap-quickbooks-desktop target-looker-warehouse", "ok": True, "seconds": 6.0}]},
            [{"what": "pipelines skipped", "expected": [], "found": []}])
    """)

    assert run(tmp_path, main_job) == 0

    written = (tmp_path / "results" / "harness_quick.md").read_text()
    assert "| meltano run tap-quickbooks-online target-databricks | 34 s | ok |" in written
    assert goals(tmp_path)["the main job through Meltano: every pipeline delivers"]["measured"] == "2 of 2 ok"


def test_a_quick_run_keeps_the_full_sets_goals_table_which_shows_the_last_quick_budget(tmp_path: Path) -> None:
    step = fake_step(tmp_path, "qbd", """
        figures({"drain_records_per_s": 40000, "drain_records_per_cpu_s": 41000, "records": 100000})
    """)

    assert run(tmp_path, step, mode="full") == 0
    full_table = (tmp_path / "results" / "harness.md").read_text()
    assert run(tmp_path, step) == 0

    assert (tmp_path / "results" / "harness.md").read_text() == full_table  # the quick run wrote beside it
    quick = json.loads((tmp_path / "results" / "harness_quick.json").read_text())
    assert run(tmp_path, step, mode="full") == 0
    budget = goals(tmp_path, "harness")["`bench/run --quick` under 3 minutes"]
    assert budget["met"] is True and budget["measured"].startswith(f"{quick['total_s']:.0f} s (the last `bench/run --quick`")
    results = (tmp_path / "RESULTS.md").read_text()
    assert results.index("(quick set)") > results.index("# bench/run: the goals of issue 17, measured in one run\n")
