"""The one way tests and sandbox helpers open an HTTP client to a sandbox on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import requests


def loopback_session(ca_file: str | Path | None = None) -> requests.Session:
    """A ``requests`` session that reaches the sandbox directly and, given ``ca_file``, trusts it.

    ``trust_env`` is off because a developer's ``HTTPS_PROXY`` would send loopback calls to the
    proxy and ``REQUESTS_CA_BUNDLE`` would replace the sandbox's throwaway CA.
    """
    session = requests.Session()
    session.trust_env = False
    if ca_file is not None:
        session.verify = str(ca_file)
    return session
