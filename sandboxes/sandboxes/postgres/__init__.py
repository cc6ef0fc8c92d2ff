"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks."""

from sandboxes.postgres.cluster import PostgresCluster, find_pg_bin

__all__ = ["PostgresCluster", "find_pg_bin"]
