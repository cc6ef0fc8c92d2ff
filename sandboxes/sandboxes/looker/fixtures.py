"""pytest fixture ``looker_sandbox``: a fresh Looker API 4.0 sandbox per test (plain HTTP).

Use from a conftest: ``from sandboxes.looker.fixtures import looker_sandbox  # noqa: F401``.
Client settings: base_url = ``looker_sandbox.base_url``, client_id / client_secret =
``looker_sandbox.client_id`` / ``.client_secret``; project ``quickbooks`` and datagroup
``quickbooks_etl`` of model ``quickbooks`` exist. Assert ``looker_sandbox.violations == []``.
For TLS construct ``LookerSandbox(tls=True)``: its ``ca_file`` is the certificate to trust.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandboxes.looker.server import LookerSandbox


@pytest.fixture
def looker_sandbox() -> Iterator[LookerSandbox]:
    with LookerSandbox() as sandbox:
        yield sandbox
