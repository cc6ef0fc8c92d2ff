"""Failed batches, kept on disk until ``target-databricks replay`` loads them.

One JSON Lines file per batch: a header line (stream, schema, key properties, the error,
when it failed) and one line per record. Files are written to a temporary name, fsynced
and renamed, so a crash leaves either the whole batch or nothing.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

from target_databricks.row_encoding import to_json_text

FILE_SUFFIX = ".jsonl"


@dataclass
class DeadLetter:
    path: Path
    stream: str
    schema: dict[str, t.Any]
    key_properties: list[str]
    error: str
    failed_at: str
    records: list[dict[str, t.Any]]


class DeadLetterStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def write(
        self,
        stream: str,
        schema: t.Mapping[str, t.Any],
        key_properties: t.Sequence[str],
        records: t.Iterable[t.Mapping[str, t.Any]],
        error: str,
    ) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        failed_at = datetime.datetime.now(datetime.UTC)
        safe_stream = "".join(c if c.isalnum() or c in "-_" else "_" for c in stream)
        name = f"{failed_at:%Y%m%dT%H%M%S%fZ}-{safe_stream}-{uuid.uuid4().hex[:8]}{FILE_SUFFIX}"
        path = self.directory / name
        temporary = path.with_suffix(".tmp")
        header = {
            "stream": stream,
            "schema": schema,
            "key_properties": list(key_properties),
            "error": error,
            "failed_at": failed_at.isoformat(),
        }
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(to_json_text(header) + "\n")
            for record in records:
                handle.write(to_json_text(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
        return path

    def list(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{FILE_SUFFIX}"))

    @staticmethod
    def read(path: Path) -> DeadLetter:
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            records = [json.loads(line, parse_float=decimal.Decimal)
                       for line in handle if line.strip()]
        return DeadLetter(
            path=path,
            stream=header["stream"],
            schema=header["schema"],
            key_properties=header.get("key_properties") or [],
            error=header.get("error", ""),
            failed_at=header.get("failed_at", ""),
            records=records,
        )
