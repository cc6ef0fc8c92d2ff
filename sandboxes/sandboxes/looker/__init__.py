"""Looker API 4.0 sandbox (login, session, project validate/deploy, datagroups) on 127.0.0.1."""

from sandboxes.looker.server import LookerSandbox

__all__ = ["LookerSandbox"]
