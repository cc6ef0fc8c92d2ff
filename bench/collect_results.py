"""Rebuild bench/RESULTS.md from the per-benchmark files in bench/results/.

Each benchmark script writes its own figures, with the exact command that produced them, to
bench/results/<name>.md; this file only gathers them so the last results sit in one place.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = """# Benchmark results

Whole pipelines on this project's machine kind (2 cores, 24 GiB), local sandboxes and engines on
127.0.0.1. Each section names the command that produced its figures; rerun it to refresh the
section, then `python bench/collect_results.py`. No test asserts on any of these numbers.
"""


def main() -> None:
    sections = [p.read_text().strip() for p in sorted((HERE / "results").glob("*.md"))]
    (HERE / "RESULTS.md").write_text(HEADER + "\n" + "\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
