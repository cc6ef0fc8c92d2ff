"""The three kinds of failure every target tells apart (docs/delivery-contract.md).

* transient: worth retrying (the retry policy's business);
* systemic: the run cannot deliver (credentials, permissions, an unreachable host, a missing
  file, the destination refusing everything): stop with no STATE past what was committed;
* data: one record the destination cannot hold: set it aside alone and go on.

Each target classifies its destination's errors with a function returning a :class:`Verdict`;
everything else here is the same for every target.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TRANSIENT = "transient"
    SYSTEMIC = "systemic"
    DATA = "data"  # certainly this record's fault
    REFUSED = "refused"  # the destination said no and did not say why: isolate, then judge


@dataclass(frozen=True)
class Verdict:
    """A target's judgement of one error. ``fix`` is what the user should change (a setting or
    file by name): the last line of a systemic stop, and of a transient error that outlasted
    the retries."""

    kind: Kind
    message: str
    fix: str = ""  # for SYSTEMIC: what the user changes (the setting or file by name)
    retry_after: float | None = None  # for TRANSIENT: the server's own wait hint, seconds


class SystemicFailure(Exception):
    """The run must stop. ``str()`` is the one line a user reads last: cause, then fix."""

    def __init__(self, cause: str, fix: str) -> None:
        super().__init__(f"{cause.rstrip('. ')}. Fix: {fix}")
        self.cause = cause
        self.fix = fix


class RecordRefused(Exception):
    """One record cannot be delivered as it is (a data failure); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordsSetAside(Exception):
    """The run delivered everything else, but records were set aside and the target's
    ``on_data_failure`` setting asks for a failing exit so that an orchestrator alerts."""


def missing_file(setting: str, path: str) -> SystemicFailure:
    """The one wording for a configured file that is not there."""
    return SystemicFailure(f"the file {path!r} named by the setting {setting} does not exist",
                           f"set {setting} to an existing file (or unset it)")
