"""The fast RECORD lines are exactly what the SDK's own message path writes, for every stream."""

from __future__ import annotations

import contextlib
import io
import re
import typing as t

from qbc_plugin_kit.singer_output import fast_record_writer
from sandboxes.qbo import RealmSpec
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.streams import Stream
from tap_quickbooks_online.entity_stream import QBOStream
from tap_quickbooks_online.tap import TapQuickBooksOnline

from tests.conftest import REALM, make_config
from tests.singer_run import selected_catalog

# Vary with the clock: when each record was read, and when Intuit ran a report.
_CLOCK = re.compile(r',"time_extracted":"[^"]*"|"generated_at":"[^"]*"')


def _record_lines(config: dict[str, t.Any]) -> tuple[list[str], TapQuickBooksOnline]:
    tap = TapQuickBooksOnline(config=config, catalog=selected_catalog(config, None), state={})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    lines = [_CLOCK.sub("", line) for line in out.getvalue().splitlines()
             if line.startswith(('{"type":"RECORD"', '{"type":"SCHEMA"'))]
    return lines, tap


def test_every_streams_records_match_the_sdks_message_path(qbo_sandbox_factory, tmp_path, monkeypatch):
    # Over 1,000 invoices: several query pages per stream, deletions and voids included.
    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=11, transactions=4000)])
    realm = sandbox.realm()
    realm.delete("Invoice", realm.ids("Invoice")[0])
    config = make_config(sandbox, tmp_path)

    fast, tap = _record_lines(config)
    assert all(fast_record_writer(s) is not None for s in tap.streams.values() if s.selected)  # the fast path ran
    monkeypatch.setattr(QBOStream, "_write_record_message", Stream._write_record_message)
    monkeypatch.setattr(QBOStream, "TYPE_CONFORMANCE_LEVEL", TypeConformanceLevel.RECURSIVE)
    monkeypatch.setattr(TapQuickBooksOnline, "message_writer_class", SimpleSingerWriter)
    sdk, _ = _record_lines(config)  # no state handed back: the same full sync again

    streams = {line.split('"stream":"', 1)[1].split('"', 1)[0] for line in fast if '"type":"RECORD"' in line}
    assert streams == {s for s in tap.streams if tap.streams[s].selected}, "a selected stream wrote no record"
    assert sum('"type":"RECORD"' in line for line in fast) > 5000
    for stream in sorted(streams):
        ours = [line for line in fast if f'"stream":"{stream}"' in line]
        theirs = [line for line in sdk if f'"stream":"{stream}"' in line]
        assert ours == theirs, stream
