"""Each setting of target-salesforce declared once: its default as a constant, the JSON schema
built from those constants, and the typed, frozen settings object the code reads.

The SDK fills schema defaults into a validated run's config; ``check`` reads unvalidated files
and variables, so :meth:`SalesforceSettings.from_config` applies the same constants itself.
Old setting names are accepted with a deprecation warning (:data:`RENAMED_SETTINGS`): one name
per concept across the plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qbc_plugin_kit.delivery import DeliverySettings, delivery_settings, settings_from_config
from singer_sdk import typing as th

from target_salesforce.mapping import LINE_DETAILS

PROG = "target-salesforce"

API_VERSION = "62.0"
EXTERNAL_ID_FIELD = "QuickBooks_Id__c"
VERSION_FIELD = "QuickBooks_Version__c"
ACCOUNT_ACTIVE_FIELD = "Active__c"
OPPORTUNITY_STAGE = "Closed Won"
DELETED_OPPORTUNITY_STAGE = "Closed Lost"
LINE_ITEM_OBJECT = "QuickBooks_Invoice_Line__c"
CHART_OF_ACCOUNTS_OBJECT = "QuickBooks_Account__c"
ORDER_STATUS = "Draft"
API_BUDGET_SHARE = 0.9
LINE_ITEM_PARENT_FIELD = "Opportunity__c"
BULK_THRESHOLD = 2000
BULK_POLL_SECONDS = 5.0
# The org's session timeout is 2 h by default: log in again ten minutes before.
SESSION_MAX_AGE_SECONDS = 6600
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 120
BATCH_SIZE_ROWS = 5000

# Old name -> the name every plugin now uses for the concept.
RENAMED_SETTINGS = {"request_timeout_seconds": "request_timeout"}


def config_schema() -> dict[str, Any]:
    return th.PropertiesList(
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
        th.Property("api_version", th.StringType, default=API_VERSION, description="Salesforce REST API version."),
        th.Property("external_id_field", th.StringType, default=EXTERNAL_ID_FIELD,
                    description="External ID field used for upserts on every object unless overridden below."),
        th.Property("account_external_id_field", th.StringType,
                    description="External ID field on Account (default: external_id_field)."),
        th.Property("opportunity_external_id_field", th.StringType,
                    description="External ID field on Opportunity (default: external_id_field)."),
        th.Property("line_external_id_field", th.StringType,
                    description="External ID field on the line object (default: external_id_field)."),
        th.Property("version_field", th.StringType, default=VERSION_FIELD,
                    description="Text field holding each record's QuickBooks version; an older version is never written over a newer one."),
        th.Property("account_active_field", th.StringType, default=ACCOUNT_ACTIVE_FIELD,
                    description="Checkbox on Account set false when the QuickBooks customer/vendor is inactive or deleted."),
        th.Property("opportunity_stage", th.StringType, default=OPPORTUNITY_STAGE,
                    description="StageName of Opportunities created from invoices."),
        th.Property("deleted_opportunity_stage", th.StringType, default=DELETED_OPPORTUNITY_STAGE,
                    description="StageName set when an invoice is deleted or voided in QuickBooks."),
        th.Property("line_detail", th.StringType, allowed_values=list(LINE_DETAILS),
                    description="Where invoice and bill lines go: `order` (an Order per document, OrderItems priced "
                                "from the items' Product2 and standard PricebookEntry), `opportunity_line_item` (needs "
                                "pricebook_entry_id) or `custom_object` (line_item_object). Default: order, or "
                                "opportunity_line_item when pricebook_entry_id is set."),
        th.Property("pricebook_entry_id", th.StringType,
                    description="PricebookEntry Id of every line when line_detail is opportunity_line_item."),
        th.Property("line_item_object", th.StringType, default=LINE_ITEM_OBJECT,
                    description="Custom object of the lines when line_detail is custom_object."),
        th.Property("chart_of_accounts_object", th.StringType, default=CHART_OF_ACCOUNTS_OBJECT,
                    description="Custom object holding the chart of accounts (the accounts stream)."),
        th.Property("order_status", th.StringType, default=ORDER_STATUS,
                    description="Status of the Orders written for invoices and bills (an activated Order "
                                "refuses new OrderItems, so keep a draft status)."),
        th.Property("sent_invoices_only", th.BooleanType, default=False,
                    description="Mirror only invoices that were emailed or printed (QBO EmailStatus/PrintStatus; "
                                "QuickBooks Desktop: off the to-be-emailed and to-be-printed queues), with their lines."),
        th.Property("api_budget_share", th.NumberType, default=API_BUDGET_SHARE,
                    description="Stop the run, naming the cause, before a request once the org's daily API "
                                "requests used reach this share of its allowance (1: never stop)."),
        th.Property("line_item_parent_field", th.StringType, default=LINE_ITEM_PARENT_FIELD,
                    description="Lookup/master-detail field from the line object to Opportunity."),
        th.Property("bulk_threshold", th.IntegerType, default=BULK_THRESHOLD,
                    description="Batches with more records than this use Bulk API 2.0; smaller ones sObject Collections (200 per request)."),
        th.Property("bulk_poll_seconds", th.NumberType, default=BULK_POLL_SECONDS,
                    description="Interval between Bulk API 2.0 job status checks."),
        th.Property("session_max_age_seconds", th.IntegerType, default=SESSION_MAX_AGE_SECONDS,
                    description="Log in again after this long (org session timeout is 2 h by default); an expired session is also renewed on INVALID_SESSION_ID."),
        th.Property("ca_bundle", th.StringType,
                    description="Path to a PEM CA bundle to trust (a TLS-inspecting proxy's CA). Takes precedence over REQUESTS_CA_BUNDLE."),
        *delivery_settings(PROG),
        th.Property("backoff_base_seconds", th.NumberType, default=BACKOFF_BASE_SECONDS,
                    description="First retry delay after a transient error; doubles each retry, with jitter."),
        th.Property("backoff_max_seconds", th.NumberType, default=BACKOFF_MAX_SECONDS,
                    description="Longest delay between retries."),
        th.Property("request_timeout", th.NumberType, default=REQUEST_TIMEOUT_SECONDS,
                    description="Timeout of one HTTP request, in seconds (formerly request_timeout_seconds, "
                                "still accepted with a warning)."),
        th.Property("batch_size_rows", th.IntegerType, default=BATCH_SIZE_ROWS, description="Records per batch."),
    ).to_dict()


@dataclass(frozen=True)
class SalesforceSettings:
    """What a run and ``check`` read; defaults are the constants above."""

    domain: str | None = None
    login_url: str | None = None
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    api_version: str = API_VERSION
    external_id_field: str = EXTERNAL_ID_FIELD
    account_external_id_field: str | None = None
    opportunity_external_id_field: str | None = None
    line_external_id_field: str | None = None
    version_field: str = VERSION_FIELD
    account_active_field: str = ACCOUNT_ACTIVE_FIELD
    opportunity_stage: str = OPPORTUNITY_STAGE
    deleted_opportunity_stage: str = DELETED_OPPORTUNITY_STAGE
    line_detail: str | None = None
    pricebook_entry_id: str | None = None
    line_item_object: str = LINE_ITEM_OBJECT
    chart_of_accounts_object: str = CHART_OF_ACCOUNTS_OBJECT
    order_status: str = ORDER_STATUS
    sent_invoices_only: bool = False
    api_budget_share: float = API_BUDGET_SHARE
    line_item_parent_field: str = LINE_ITEM_PARENT_FIELD
    bulk_threshold: int = BULK_THRESHOLD
    bulk_poll_seconds: float = BULK_POLL_SECONDS
    session_max_age_seconds: int = SESSION_MAX_AGE_SECONDS
    ca_bundle: str | None = None
    backoff_base_seconds: float = BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = BACKOFF_MAX_SECONDS
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    batch_size_rows: int = BATCH_SIZE_ROWS
    delivery: DeliverySettings = field(default_factory=lambda: DeliverySettings.from_config({}, PROG))

    @classmethod
    def from_config(cls, config: Mapping[str, Any], logger: logging.Logger | None = None) -> SalesforceSettings:
        """The settings a config holds, old names read as the new ones (warned); a missing,
        null or empty value takes its declared default."""
        return settings_from_config(cls, config, PROG, RENAMED_SETTINGS, logger)

    @property
    def max_retries(self) -> int:
        return int(self.delivery.max_retries)
