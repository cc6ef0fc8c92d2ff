"""Local Databricks SQL warehouse: a real Spark SQL engine (Spark Thrift Server, Iceberg tables
standing in for Delta) behind an adapter the unmodified databricks-sql-connector talks to."""

from .engine_jars import EngineSetupError, prepare_jars
from .faults import Faults
from .warehouse import HTTP_PATH, LocalWarehouse

__all__ = ["HTTP_PATH", "EngineSetupError", "Faults", "LocalWarehouse", "prepare_jars"]
