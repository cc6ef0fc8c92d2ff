"""Large batches through a Unity Catalog Volume: a Parquet file, PUT, then the batch's MERGE (or
INSERT) reads the file itself (``read_files``), and REMOVE.

Needs the ``volume`` extra (pyarrow). The file holds every value as text, exactly as the
parameter path sends it, so both paths cast (and so round-trip money) identically.
"""

from __future__ import annotations

import contextlib
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

    @contextlib.contextmanager
    def staged(self, sink: DatabricksSink, columns: list[Column],
               encoded: list[list[str | None]]) -> t.Iterator[str]:
        """The batch's ``encoded`` rows (``row_encoding.encode_row``) uploaded as one Parquet file;
        yields its Volume path for the statement that reads it, then removes it."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = [pa.array([row[i] for row in encoded], type=pa.string()) for i in range(len(columns))]
        table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
        # No leading "_" or ".": Spark's file listing (and so read_files) skips such names as
        # hidden files, even when the path names the file itself ([UNABLE_TO_INFER_SCHEMA]).
        file_name = f"sdc_stage_{sink.table_base}_{uuid.uuid4().hex}.parquet"
        local = os.path.join(self.local_dir, file_name)
        remote = merge_sql.volume_path(self.catalog, sink.schema_name, self.volume, file_name)
        pq.write_table(table, local)
        try:
            sink.connector.execute(merge_sql.put_file(local, remote))
        finally:
            os.unlink(local)
        try:
            yield remote
        finally:
            self._remove(sink, remote)

    @staticmethod
    def _remove(sink: DatabricksSink, remote: str) -> None:
        # Best effort: a file left behind is never read again (each name is unique), while
        # failing here would hide the statement's own error or fail a batch that was loaded.
        try:
            sink.connector.execute(merge_sql.remove_file(remote))
        except Exception as exc:
            sink.logger.warning("Could not remove staging file %s from the volume: %s", remote, exc)
