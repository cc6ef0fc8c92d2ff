"""Large batches through a Unity Catalog Volume: a Parquet file, PUT, then COPY INTO.

Needs the ``volume`` extra (pyarrow). The file holds every value as text, exactly as the
INSERT path sends it, so both paths cast (and so round-trip money) identically.
"""

from __future__ import annotations

import os
import typing as t
import uuid

from qbc_plugin_kit.failures import SystemicFailure

from target_databricks import merge_sql

if t.TYPE_CHECKING:
    from target_databricks.merge_sql import Column
    from target_databricks.sinks import DatabricksSink
    from target_databricks.target import TargetDatabricks


class VolumeStager:
    def __init__(self, target: TargetDatabricks) -> None:
        settings = target.settings
        if not (settings.catalog and settings.staging_volume):
            raise SystemicFailure(f"staging: {settings.staging} with a Volume needs both the catalog "
                                  "and the staging_volume settings",
                                  "set catalog and staging_volume (a Unity Catalog Volume in the "
                                  "target schema), or set staging: insert")
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise SystemicFailure("staging_volume is set but pyarrow, which writes the Parquet "
                                  "files, is not installed",
                                  "install target-databricks[volume] (pip_url: "
                                  "'target-databricks[volume]'), or unset staging_volume") from None
        self.catalog = settings.catalog
        self.volume = settings.staging_volume
        self.local_dir = settings.local_staging_dir

    def stage(self, sink: DatabricksSink, columns: list[Column], encoded: list[list[str | None]]) -> None:
        """Load the batch's ``encoded`` rows (``row_encoding.encode_row``) into the sink's
        staging table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = [pa.array([row[i] for row in encoded], type=pa.string()) for i in range(len(columns))]
        table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
        # No leading "_" or ".": Spark's file listing (and so COPY INTO) skips such names as
        # hidden files, even when the path names the file itself ([UNABLE_TO_INFER_SCHEMA]).
        file_name = f"sdc_stage_{sink.table_base}_{uuid.uuid4().hex}.parquet"
        local = os.path.join(self.local_dir, file_name)
        remote = merge_sql.volume_path(self.catalog, sink.schema_name, self.volume, file_name)
        pq.write_table(table, local)
        try:
            sink.connector.execute(merge_sql.put_file(local, remote))
            try:
                sink.connector.execute(merge_sql.copy_into(sink._stage_table, columns, remote))
            finally:
                self._remove(sink, remote)
        finally:
            os.unlink(local)

    @staticmethod
    def _remove(sink: DatabricksSink, remote: str) -> None:
        # Best effort: a file left behind is never loaded again (each name is unique), while
        # failing here would hide a COPY INTO error or fail a batch that was loaded.
        try:
            sink.connector.execute(merge_sql.remove_file(remote))
        except Exception as exc:
            sink.logger.warning("Could not remove staging file %s from the volume: %s", remote, exc)
