"""target-salesforce: settings, sink wiring and parent-first draining."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property

from qbc_plugin_kit.delivery import DeliveryTarget, delivery_settings
from qbc_plugin_kit.retry import TransientError
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import Sink

from target_salesforce.failure_kinds import SalesforceRequestError
from target_salesforce.loader import LOAD_ORDER
from target_salesforce.runtime import Runtime, build_runtime
from target_salesforce.sinks import SalesforceSink


class TargetSalesforce(DeliveryTarget, Target):
    """Upserts QuickBooks customers, vendors, the chart of accounts, items, invoices and bills
    into Salesforce by external id."""

    name = "target-salesforce"
    default_sink_class = SalesforceSink
    # Old setting names read as their new ones, each warned (one name per concept across plugins).
    RENAMED_SETTINGS = {"request_timeout_seconds": "request_timeout"}

    config_jsonschema = th.PropertiesList(
        th.Property("domain", th.StringType,
                    description="My Domain login host prefix: `acme.my` for https://acme.my.salesforce.com, "
                                "`acme--uat.sandbox.my` for a sandbox org. The client credentials flow requires it."),
        th.Property("login_url", th.StringType,
                    description="Full base URL of the token endpoint host; overrides `domain` (private connectivity, "
                                "a proxy, or a local stand-in)."),
        th.Property("client_id", th.StringType, required=True,
                    description="Consumer key of the connected app (client credentials flow enabled, Run As user set)."),
        th.Property("client_secret", th.StringType, required=True, secret=True,
                    description="Consumer secret of the connected app."),
        th.Property("api_version", th.StringType, default="62.0", description="Salesforce REST API version."),
        th.Property("external_id_field", th.StringType, default="QuickBooks_Id__c",
                    description="External ID field used for upserts on every object unless overridden below."),
        th.Property("account_external_id_field", th.StringType,
                    description="External ID field on Account (default: external_id_field)."),
        th.Property("opportunity_external_id_field", th.StringType,
                    description="External ID field on Opportunity (default: external_id_field)."),
        th.Property("line_external_id_field", th.StringType,
                    description="External ID field on the line object (default: external_id_field)."),
        th.Property("version_field", th.StringType, default="QuickBooks_Version__c",
                    description="Text field holding each record's QuickBooks version; an older version is never written over a newer one."),
        th.Property("account_active_field", th.StringType, default="Active__c",
                    description="Checkbox on Account set false when the QuickBooks customer/vendor is inactive or deleted."),
        th.Property("opportunity_stage", th.StringType, default="Closed Won",
                    description="StageName of Opportunities created from invoices."),
        th.Property("deleted_opportunity_stage", th.StringType, default="Closed Lost",
                    description="StageName set when an invoice is deleted or voided in QuickBooks."),
        th.Property("line_detail", th.StringType, allowed_values=["order", "opportunity_line_item", "custom_object"],
                    description="Where invoice and bill lines go: `order` (an Order per document, OrderItems priced "
                                "from the items' Product2 and standard PricebookEntry), `opportunity_line_item` (needs "
                                "pricebook_entry_id) or `custom_object` (line_item_object). Default: order, or "
                                "opportunity_line_item when pricebook_entry_id is set."),
        th.Property("pricebook_entry_id", th.StringType,
                    description="PricebookEntry Id of every line when line_detail is opportunity_line_item."),
        th.Property("line_item_object", th.StringType, default="QuickBooks_Invoice_Line__c",
                    description="Custom object of the lines when line_detail is custom_object."),
        th.Property("chart_of_accounts_object", th.StringType, default="QuickBooks_Account__c",
                    description="Custom object holding the chart of accounts (the accounts stream)."),
        th.Property("order_status", th.StringType, default="Draft",
                    description="Status of the Orders written for invoices and bills (an activated Order "
                                "refuses new OrderItems, so keep a draft status)."),
        th.Property("sent_invoices_only", th.BooleanType, default=False,
                    description="Mirror only invoices that were emailed or printed (QBO EmailStatus/PrintStatus; "
                                "QuickBooks Desktop: off the to-be-emailed and to-be-printed queues), with their lines."),
        th.Property("api_budget_share", th.NumberType, default=0.9,
                    description="Stop the run, naming the cause, before a request once the org's daily API "
                                "requests used reach this share of its allowance (1: never stop)."),
        th.Property("line_item_parent_field", th.StringType, default="Opportunity__c",
                    description="Lookup/master-detail field from the line object to Opportunity."),
        th.Property("bulk_threshold", th.IntegerType, default=2000,
                    description="Batches with more records than this use Bulk API 2.0; smaller ones sObject Collections (200 per request)."),
        th.Property("bulk_poll_seconds", th.NumberType, default=5.0,
                    description="Interval between Bulk API 2.0 job status checks."),
        th.Property("session_max_age_seconds", th.IntegerType, default=6600,
                    description="Log in again after this long (org session timeout is 2 h by default); an expired session is also renewed on INVALID_SESSION_ID."),
        th.Property("ca_bundle", th.StringType,
                    description="Path to a PEM CA bundle to trust (a TLS-inspecting proxy's CA). Takes precedence over REQUESTS_CA_BUNDLE."),
        *delivery_settings("target-salesforce"),
        th.Property("backoff_base_seconds", th.NumberType, default=1.0,
                    description="First retry delay after a transient error; doubles each retry, with jitter."),
        th.Property("backoff_max_seconds", th.NumberType, default=60.0,
                    description="Longest delay between retries."),
        th.Property("request_timeout", th.NumberType, default=120,
                    description="Timeout of one HTTP request, in seconds (formerly request_timeout_seconds, "
                                "still accepted with a warning)."),
        th.Property("batch_size_rows", th.IntegerType, default=5000, description="Records per batch."),
    ).to_dict()

    @cached_property
    def runtime(self) -> Runtime:
        return build_runtime(self.config, self.logger)

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
