"""QuickBooks Desktop sandbox: a Web Connector client and a QuickBooks company simulator."""

from .company import CompanyControl, QuickBooksCompany
from .qbxml_statuses import QBXMLParseError, Status
from .qwc_file import QWCFile
from .soap_contract import ServerContractError, SoapFaultError
from .web_connector import CallRecord, Faults, PlainHttpRefused, SessionReport, WebConnector

__all__ = [
    "CallRecord", "CompanyControl", "Faults", "PlainHttpRefused", "QBXMLParseError", "QWCFile",
    "QuickBooksCompany", "ServerContractError", "SessionReport", "SoapFaultError", "Status",
    "WebConnector",
]
