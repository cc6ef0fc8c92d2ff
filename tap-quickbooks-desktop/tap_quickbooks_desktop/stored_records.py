"""Records mapped when a response arrives, stored beside its qbXML for the tap run to read.

The QBWC server maps every `*Ret` of a response to its records (`record_mapping.
stream_records`) before the response is stored, and stores them with the entry: one
msgspec-encoded JSON array per (entry, stream), tagged with `MAPPING_VERSION`. A tap run
then decodes those arrays and writes them; it parses no XML. The qbXML stays in the entry,
so an entry stored by an older version (no records) or mapped by different mapping code
(another `MAPPING_VERSION`) is mapped from its qbXML on drain, exactly as before: upgrading
or downgrading the tap never loses or changes buffered data.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from .qbxml_parser import iter_rets
from .record_mapping import Record, stream_records, to_node
from .store import SectionToStore

logger = logging.getLogger(__name__)

# (object id, stream, the record as JSON): what one section maps to, before the store
# drops the objects it already holds in the same version.
MappedRecord = tuple[str, str, bytes]


def _mapping_version() -> str:
    """A digest of the code that decides what a record holds.

    Any change to the mapping (or to which deletion types feed which stream) gives
    another version, so records mapped by other code are never emitted as if this
    code had mapped them; their entries are mapped again from the stored qbXML.
    """
    digest = hashlib.sha256()
    here = Path(__file__).parent
    try:
        for name in ("record_mapping.py", "query_catalog.py"):
            digest.update((here / name).read_bytes())
    except OSError:
        # Installed without its sources (a zipped or compiled-only install): the package's
        # version then stands for the mapping code.
        from importlib.metadata import PackageNotFoundError, version

        try:
            return "qbd-records-1:v" + version("tap-quickbooks-desktop")
        except PackageNotFoundError:
            return "qbd-records-1:unknown"
    return "qbd-records-1:" + digest.hexdigest()[:16]


MAPPING_VERSION = _mapping_version()


def _refuse(obj: Any) -> Any:
    raise TypeError(type(obj).__name__)


# Money is Decimal: written as a JSON number and read back as the same Decimal (its exact
# digits), integers stay int, every other value is a string, a bool, None, a list or a dict.
_ENCODER = msgspec.json.Encoder(enc_hook=_refuse, decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def map_section(company: str, section: SectionToStore) -> SectionToStore:
    """The section with its records attached, or unchanged when mapping it fails.

    A section that cannot be mapped (or holds a value JSON cannot carry, such as a NaN
    amount) is stored without records; the tap run maps its qbXML as before, so the
    server never refuses a response it can store.
    """
    mapped: list[MappedRecord] = []
    try:
        for element in iter_rets(section.body):
            ret = to_node(element)
            object_id = str(ret.get("TxnID") or ret.get("ListID") or "")
            for stream, record in stream_records(company, section.tag, ret):
                mapped.append((object_id, stream, _ENCODER.encode(record)))
    except Exception as exc:  # the qbXML is stored either way
        logger.warning(
            "company %s: a %s response is stored unmapped (%s: %s); the next tap run maps it",
            company, section.tag, type(exc).__name__, exc,
        )
        return section
    return replace(section, records=tuple(mapped), mapping=MAPPING_VERSION)


def map_sections(company: str, sections: Iterable[SectionToStore]) -> list[SectionToStore]:
    return [map_section(company, section) for section in sections]


_SPLITTER = msgspec.json.Decoder(list[msgspec.Raw])


def decode_records(blob: bytes) -> list[Record]:
    """The records one entry holds for one stream, in the order they were mapped."""
    records: list[Record] = _DECODER.decode(blob)
    return records


def split_records(blob: bytes) -> list[msgspec.Raw]:
    """Each record's JSON text, as stored (no copy); `decode_record` reads one."""
    raws: list[msgspec.Raw] = _SPLITTER.decode(blob)
    return raws


def decode_record(raw: msgspec.Raw) -> Record:
    record: Record = _DECODER.decode(raw)
    return record
