"""Rebuild bench/RESULTS.md from the per-benchmark files in bench/results/.

Each benchmark script writes its own figures, with the exact command that produced them, to
bench/results/<name>.md; this file only gathers them so the last results sit in one place.
``harness.md`` (written by ``bench/run``: the goals table of the last full set) comes first, then
``harness_quick.md`` (the last ``bench/run --quick``).

    python bench/collect_results.py [results folder]   (default: bench/results; RESULTS.md beside it)
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = """# Benchmark results

Whole pipelines on this project's machine kind (2 cores, 24 GiB), local sandboxes and engines on
127.0.0.1. `bench/run` (the full set, under 20 minutes) or `bench/run --quick` (under 3 minutes)
measures every figure of issue 17 with the peers and floors in the same run and writes the first
section below; each other section names the command that produced its figures (rerun it to
refresh the section, then `python bench/collect_results.py`). No test asserts on any of these
numbers.
"""
FIRST = ("harness.md", "harness_quick.md")  # the full set's goals table, then the quick set's


def main(results: Path = HERE / "results") -> None:
    def order(path: Path) -> tuple[int, str]:
        return (FIRST.index(path.name) if path.name in FIRST else len(FIRST), path.name)

    files = sorted(results.glob("*.md"), key=order)
    sections = [p.read_text(encoding="utf-8").strip() for p in files]
    (results.parent / "RESULTS.md").write_text(HEADER + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE / "results")
