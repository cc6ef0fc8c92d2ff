"""``deleted_records``: one row per deletion the change feed saw, for targets that keep an audit."""

from __future__ import annotations

import typing as t

from tap_quickbooks_online.entity_stream import QBOStream
from tap_quickbooks_online.recent_versions import RecentVersions
from tap_quickbooks_online.records import EDITION, nested, parse_instant

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types


class DeletedRecordsStream(QBOStream):
    """Deletions of the streams synced by CDC / webhooks in this run (query sync cannot see them)."""

    name = "deleted_records"
    primary_keys: t.ClassVar[tuple[str, ...]] = ("company_id", "stream", "id")

    def get_records(self, context: types.Context | None) -> t.Iterable[dict]:
        assert context is not None
        realm_id = str(context["company_id"])
        rows = []
        for participant, obj in self.qbo.change_feed(realm_id).deleted:
            when = nested(obj, "MetaData", "LastUpdatedTime")
            rows.append({
                "company_id": realm_id,
                "edition": EDITION,
                "id": str(obj["Id"]),
                "entity": participant.entity,
                "stream": participant.stream_name,
                "deleted_at": when,
                "updated_at": when,
            })
        rows.sort(key=lambda r: parse_instant(r["updated_at"]) if r["updated_at"] else parse_instant("1970-01-01T00:00:00+00:00"))
        # The same overlap de-duplication as the entity streams, keyed by stream and id.
        state = self.partition_state(realm_id)
        newest = state.get("replication_key_value")
        remembered = state.get("recent_versions") or {}
        recent = RecentVersions(
            remembered.get("versions") if remembered.get("bookmark") == newest else None, self.lookback
        )
        for row in rows:
            probe = {"id": f"{row['stream']}/{row['id']}", "_sdc_deleted_at": row["deleted_at"], "updated_at": row["updated_at"]}
            if recent.already_emitted(probe):
                continue
            recent.note(probe)
            if row["updated_at"] and (newest is None or parse_instant(row["updated_at"]) >= parse_instant(newest)):
                newest = row["updated_at"]
            yield row
        state["recent_versions"] = {"bookmark": newest, "versions": recent.remembered(newest)}
