"""``<plugin> check``: prove a configuration fits the user's systems without moving data.

A plugin lists its aspects (token endpoint, each realm, the warehouse, ...) as small functions;
this module runs them, prints one line per aspect (``ok`` or the problem and the fix), never a
secret, and returns the exit status: non-zero when any aspect failed. The last line is the
verdict, naming the first failed aspect's cause and fix, because that is the line a scheduler
or a person scrolling a log reads.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from qbc_plugin_kit.failures import SystemicFailure

LOGGER = logging.getLogger("qbc_plugin_kit.checks")


@dataclass(frozen=True)
class Aspect:
    """What one check found: ``problem`` is None when the aspect is fine."""

    name: str
    detail: str = ""
    problem: str | None = None
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.ok:
            return "ok    " + one_line(self.name + (f": {self.detail}" if self.detail else ""))
        return "FAIL  " + one_line(f"{self.name}: {(self.problem or '').rstrip('. ')}. Fix: {self.fix}")


def one_line(text: str) -> str:
    """A driver's multi-line error (psycopg, Spark) folded so that each aspect stays one line."""
    return " ".join(text.split())


def passed(name: str, detail: str = "") -> Aspect:
    return Aspect(name, detail=detail)


def failed(name: str, problem: str, fix: str) -> Aspect:
    return Aspect(name, problem=problem, fix=fix)


# A check returns one aspect or several (one per realm, one per company...).
Check = Callable[[], "Aspect | Sequence[Aspect]"]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret value replaced (longest first: one may contain another)."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def secret_values(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every value of a setting the schema marks secret, nested objects and lists included."""
    found: list[str] = []

    def walk(value: Any, node: dict[str, Any]) -> None:
        if node.get("secret") or node.get("writeOnly"):
            if isinstance(value, str):
                found.append(value)
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, node.get("properties", {}).get(key, {}))
        elif isinstance(value, list):
            for item in value:
                walk(item, node.get("items", {}))

    walk(config, schema)
    return found


def _run_one(name: str, check: Check) -> list[Aspect]:
    try:
        result = check()
    except SystemicFailure as exc:
        return [failed(name, exc.cause, exc.fix)]
    except Exception as exc:  # a check reports, it never ends in a traceback
        LOGGER.debug("check %s raised", name, exc_info=True)
        return [failed(name, f"unexpected {type(exc).__name__}: {exc}",
                       "run again with --log-level=debug for the traceback and report it")]
    return [result] if isinstance(result, Aspect) else list(result)


def run_checks(prog: str, checks: Sequence[tuple[str, Check]], *, secrets: Iterable[str] = (),
               out: TextIO | None = None) -> int:
    """Run each named check in order; 0 when all passed, 1 otherwise."""
    stream = out or sys.stdout
    hidden = list(secrets)
    aspects: list[Aspect] = []
    for name, check in checks:
        for aspect in _run_one(name, check):
            aspects.append(aspect)
            print(redact(aspect.line(), hidden), file=stream, flush=True)
    bad = [a for a in aspects if not a.ok]
    if not bad:
        print(f"{prog} check: all {len(aspects)} aspects ok", file=stream)
        return 0
    first = bad[0]
    verdict = one_line(f"{prog} check: {len(bad)} of {len(aspects)} aspects failed; first: {first.name}: "
                       f"{(first.problem or '').rstrip('. ')}. Fix: {first.fix}")
    print(redact(verdict, hidden), file=stream)
    return 1


def check_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} check",
        description="Authenticate and make the cheapest reads that prove a run will work, without "
                    "moving data; one line per aspect (ok, or the problem and the fix). Exits 1 "
                    "when any aspect fails. Secrets are never printed.")
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="config JSON file (repeatable; later files win); settings also come "
                             "from the environment variables Meltano sets")
    return parser


def check_command(prog: str, schema: dict[str, Any],
                  build: Callable[[dict[str, Any]], Sequence[tuple[str, Check]]],
                  renames: dict[str, str] | None = None) -> Callable[[list[str]], int]:
    """The ``check`` handler for :func:`qbc_plugin_kit.plugin_cli.main` (or a tap's own CLI):
    settings from ``--config`` files over ``<PROG>_<SETTING>`` variables, as Meltano passes
    them to ``meltano invoke <plugin>:check``, old names of ``renames`` read as the new ones;
    ``build`` turns them into the plugin's checks. Settings are not validated first: the
    checks name a missing or wrong setting themselves."""
    from qbc_plugin_kit.plugin_cli import env_config, load_config  # the console entry's own readers
    from qbc_plugin_kit.settings_check import renamed_settings

    def run(argv: list[str]) -> int:
        args = check_parser(prog).parse_args(argv)
        config = {**env_config(prog, schema, renames), **load_config(args.config)}
        config = renamed_settings(config, renames or {}, LOGGER)
        return run_checks(prog, build(config), secrets=secret_values(config, schema))

    run.__doc__ = "Prove the settings reach your systems, without moving data (one line per aspect)."
    return run
