"""target-salesforce: settings, sink wiring and parent-first draining."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property

from qbc_plugin_kit.delivery import DeliveryTarget
from qbc_plugin_kit.retry import TransientError
from singer_sdk import Target
from singer_sdk.sinks import Sink

from target_salesforce.config import RENAMED_SETTINGS, SalesforceSettings, config_schema
from target_salesforce.failure_kinds import SalesforceRequestError
from target_salesforce.loader import LOAD_ORDER
from target_salesforce.runtime import Runtime, build_runtime
from target_salesforce.sinks import SalesforceSink


class TargetSalesforce(DeliveryTarget, Target):
    """Upserts QuickBooks customers, vendors, the chart of accounts, items, invoices and bills
    into Salesforce by external id."""

    name = "target-salesforce"
    default_sink_class = SalesforceSink
    config_jsonschema = config_schema()
    # Old setting names read as their new ones, each warned (the kit's DeliveryTarget applies it).
    RENAMED_SETTINGS = RENAMED_SETTINGS

    @cached_property
    def settings(self) -> SalesforceSettings:
        return SalesforceSettings.from_config(self.config, self.logger)

    @cached_property
    def runtime(self) -> Runtime:
        return build_runtime(self.settings, self.logger)

    def after_delivery(self) -> None:
        if "runtime" not in self.__dict__:
            return  # nothing was loaded (unmapped streams only, or an empty run)
        try:
            written = self.runtime.loader.refresh_account_summaries(dt.datetime.now(dt.UTC).date())
        except (TransientError, SalesforceRequestError) as exc:
            # Derived values only: the records are delivered and the next run refreshes them.
            self.logger.warning("Account summaries (aging, open/paid documents, last payment) not refreshed: "
                                "%s; the next run refreshes them", exc)
            return
        self.logger.info("Account summaries refreshed: %d Account(s) written", written)

    def sink_for(self, stream_name: str) -> Sink | None:
        return self._sinks_active.get(stream_name)

    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        # Accounts before Opportunities before line items: children reference parents by
        # external id, so parallel draining would fail references that a moment later exist.
        for sink in sorted(sink_list, key=lambda s: LOAD_ORDER.get(s.stream_name, 3)):
            self.drain_one(sink)
