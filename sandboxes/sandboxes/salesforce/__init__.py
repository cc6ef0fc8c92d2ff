"""Salesforce REST / sObject Collections / Bulk API 2.0 and OAuth (see ``server.py``)."""

from sandboxes.salesforce.server import SalesforceSandbox

__all__ = ["SalesforceSandbox"]
