"""The QBWC SOAP 1.1 contract (QBWebConnectorSvc.wsdl) as a spyne service.

Operation and parameter names are the WSDL's, in its target namespace
http://developer.intuit.com/; each method only unpacks the call and hands it
to the QbwcHandler attached to the spyne Application.
"""

from __future__ import annotations

from typing import Any

from spyne import Application, ServiceBase, rpc
from spyne.model.complex import Array
from spyne.model.primitive import Integer32, Unicode
from spyne.protocol.soap import Soap11

from .qbwc_handler import QbwcHandler

NAMESPACE = "http://developer.intuit.com/"

_Str = Unicode(min_occurs=0)
# The WSDL's ArrayOfString: <string> children in the target namespace.
ArrayOfString = Array(Unicode(nillable=True), type_name="ArrayOfString")
# s:int in the WSDL, required.
_Int = Integer32(min_occurs=1, nillable=False)


def _handler(ctx: Any) -> QbwcHandler:
    handler: QbwcHandler = ctx.app.qbwc_handler
    return handler


class QBWebConnectorSvc(ServiceBase):
    """QuickBooks Web Connector callbacks."""

    @rpc(_Str, _returns=Unicode, _out_variable_name="serverVersionResult")
    def serverVersion(ctx, strVersion):
        return _handler(ctx).server_version(strVersion)

    @rpc(_Str, _returns=Unicode, _out_variable_name="clientVersionResult")
    def clientVersion(ctx, strVersion):
        return _handler(ctx).client_version(strVersion)

    @rpc(_Str, _Str, _returns=ArrayOfString, _out_variable_name="authenticateResult")
    def authenticate(ctx, strUserName, strPassword):
        return _handler(ctx).authenticate(strUserName, strPassword)

    @rpc(_Str, _Str, _Str, _Str, _Int, _Int, _returns=Unicode,
         _out_variable_name="sendRequestXMLResult")
    def sendRequestXML(ctx, ticket, strHCPResponse, strCompanyFileName, qbXMLCountry,
                       qbXMLMajorVers, qbXMLMinorVers):
        return _handler(ctx).send_request_xml(
            ticket, strHCPResponse, strCompanyFileName, qbXMLCountry, qbXMLMajorVers, qbXMLMinorVers
        )

    @rpc(_Str, _Str, _Str, _Str, _returns=Integer32(min_occurs=1, nillable=False),
         _out_variable_name="receiveResponseXMLResult")
    def receiveResponseXML(ctx, ticket, response, hresult, message):
        return _handler(ctx).receive_response_xml(ticket, response, hresult, message)

    @rpc(_Str, _Str, _Str, _returns=Unicode, _out_variable_name="connectionErrorResult")
    def connectionError(ctx, ticket, hresult, message):
        return _handler(ctx).connection_error(ticket, hresult, message)

    @rpc(_Str, _returns=Unicode, _out_variable_name="getLastErrorResult")
    def getLastError(ctx, ticket):
        return _handler(ctx).get_last_error(ticket)

    @rpc(_Str, _returns=Unicode, _out_variable_name="closeConnectionResult")
    def closeConnection(ctx, ticket):
        return _handler(ctx).close_connection(ticket)


def build_application(handler: QbwcHandler) -> Application:
    app = Application(
        [QBWebConnectorSvc],
        tns=NAMESPACE,
        name="QBWebConnectorSvc",
        # Schema validation rejects envelopes that do not follow the WSDL; spyne's
        # parser already runs with entities, DTDs and network access off.
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    app.qbwc_handler = handler  # type: ignore[attr-defined]
    return app
