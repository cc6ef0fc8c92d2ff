"""``deleted_records``: one row per deletion the change feed saw, for targets that keep an audit."""

from __future__ import annotations

import typing as t

from tap_quickbooks_online.entity_stream import QBOStream
from tap_quickbooks_online.recent_versions import skip_versions_already_sent
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
        yield from skip_versions_already_sent(
            rows,
            self.partition_state(realm_id),
            self.lookback,
            probe=lambda r: {"id": f"{r['stream']}/{r['id']}", "_sdc_deleted_at": r["deleted_at"], "updated_at": r["updated_at"]},
        )
