"""Decode and encode TCLIService messages with the connector's own generated thrift types.

Those types are a superset of HiveServer2's: they carry the Databricks-only fields the
connector reads (``resultFormat``, ``resultSetMetadata``, ...), and Spark skips fields it does
not know, so one set of types speaks to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from databricks.sql.thrift_api.TCLIService import TCLIService
from databricks.sql.thrift_api.TCLIService import ttypes as ttypes
from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport.TTransport import TMemoryBuffer

__all__ = ["TCLIService", "ThriftMessage", "decode_call", "decode_reply", "encode", "ttypes"]


@dataclass
class ThriftMessage:
    name: str
    message_type: int
    seqid: int
    body: Any
    """``<Method>_args`` for a call, ``<Method>_result`` for a reply, or a
    ``TApplicationException`` when the server answered with one."""


def _struct_class(name: str, suffix: str) -> type:
    cls = getattr(TCLIService, f"{name}_{suffix}", None)
    if cls is None:
        raise ValueError(f"unknown TCLIService method {name!r}")
    return cls  # type: ignore[no-any-return]


def _read(data: bytes, suffix: str) -> ThriftMessage:
    protocol = TBinaryProtocolAccelerated(TMemoryBuffer(data))
    name, message_type, seqid = protocol.readMessageBegin()
    body: Any
    if message_type == TMessageType.EXCEPTION:
        body = TApplicationException()
    else:
        body = _struct_class(name, suffix)()
    body.read(protocol)
    protocol.readMessageEnd()
    return ThriftMessage(name, message_type, seqid, body)


def message_name(data: bytes) -> str:
    """The method name of a binary-protocol message, read without decoding its body."""
    protocol = TBinaryProtocolAccelerated(TMemoryBuffer(data))
    name, _, _ = protocol.readMessageBegin()
    return str(name)


def decode_call(data: bytes) -> ThriftMessage:
    return _read(data, "args")


def decode_reply(data: bytes) -> ThriftMessage:
    return _read(data, "result")


def encode(message: ThriftMessage) -> bytes:
    buffer = TMemoryBuffer()
    protocol = TBinaryProtocolAccelerated(buffer)
    protocol.writeMessageBegin(message.name, message.message_type, message.seqid)
    message.body.write(protocol)
    protocol.writeMessageEnd()
    return buffer.getvalue()


def call(name: str, request: Any, seqid: int = 0) -> bytes:
    """Encode ``request`` as the single argument of a TCLIService call."""
    args = _struct_class(name, "args")(req=request)
    return encode(ThriftMessage(name, TMessageType.CALL, seqid, args))


def row_count(row_set: Any) -> int:
    """Rows in a column-based TRowSet: the length of any one column's values."""
    if row_set is None:
        return 0
    if row_set.columns:
        column = row_set.columns[0]
        for field in (
            "boolVal",
            "byteVal",
            "i16Val",
            "i32Val",
            "i64Val",
            "doubleVal",
            "stringVal",
            "binaryVal",
        ):
            typed = getattr(column, field)
            if typed is not None:
                return len(typed.values)
        return 0
    return len(row_set.rows or [])
