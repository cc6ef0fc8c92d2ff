"""A small in-memory target built on the delivery mixins, for the kit's own tests."""

from __future__ import annotations

import typing as t

from qbc_plugin_kit.delivery import (
    DeliverySink,
    DeliveryTarget,
    delivery_settings,
    private_keys_removed,
)
from qbc_plugin_kit.failures import Kind, Verdict
from qbc_plugin_kit.version_order import supersedes
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

# What the toy destination holds, per target instance name; tests read it back.
TABLES: dict[str, dict[tuple, dict[str, t.Any]]] = {}
REFUSE_VALUE = "refuse-me"


class ToyError(Exception):
    pass


class ToySink(DeliverySink, BatchSink):
    def process_batch(self, context: dict) -> None:
        records = context.get("records", [])
        table = TABLES.setdefault(self.stream_name, {})

        def load(batch: list[dict[str, t.Any]]) -> None:
            if self.config.get("systemic"):
                raise ToyError("permission denied")
            if any(REFUSE_VALUE in map(str, r.values()) for r in batch):
                raise ToyError("value refused")
            for record in batch:
                key = tuple(record.get(k) for k in self.key_properties)
                clean = private_keys_removed(record)
                if key not in table or supersedes(clean, table[key]):
                    table[key] = clean

        def classify(error: BaseException) -> Verdict:
            if "permission" in str(error):
                return Verdict(Kind.SYSTEMIC, "the toy refuses: permission denied", "grant it")
            return Verdict(Kind.REFUSED, str(error))

        self.deliver(records, load, classify)


class ToyTarget(DeliveryTarget, Target):
    name = "target-toy"
    default_sink_class = ToySink
    config_jsonschema = th.PropertiesList(
        th.Property("systemic", th.BooleanType, default=False),
        *delivery_settings("target-toy"),
    ).to_dict()
