"""pytest fixtures: ``postgres_dsn`` starts one throwaway cluster per test session.

Use from a conftest: ``from sandboxes.postgres.fixtures import postgres_dsn  # noqa: F401``.
The value is a libpq DSN (``postgresql://postgres@127.0.0.1:PORT/postgres``, trust auth);
SQLAlchemy users prefix the scheme with ``postgresql+psycopg``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandboxes.postgres.cluster import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.dsn
