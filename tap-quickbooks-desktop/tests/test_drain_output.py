"""The drain's fast RECORD lines are exactly what the SDK's own message path writes."""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

from qbc_plugin_kit.singer_output import fast_record_writer
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.streams import Stream
from tap_quickbooks_desktop.streams import BufferStream
from tap_quickbooks_desktop.tap import TapQuickBooksDesktop

# When the sync started varies with the clock; time_extracted comes from the buffer (when the
# server received the response), the same on both paths.
_CLOCK = re.compile(r'"replication_key_signpost":"[^"]*"')


def _drain_text(settings: dict[str, Any]) -> tuple[str, TapQuickBooksDesktop]:
    tap = TapQuickBooksDesktop(config=settings, state={}, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return _CLOCK.sub("", out.getvalue()), tap


def test_a_full_drain_writes_the_sdks_lines_byte_for_byte(company, settings, start_server, web_connector, monkeypatch):
    from types import SimpleNamespace

    from tap_quickbooks_desktop import tap as tap_module

    server = start_server(settings)
    web_connector(server, company).run_once()
    # Both drains start with no state, each a new consumer of the buffer: one id for both,
    # so their STATE lines compare too.
    monkeypatch.setattr(tap_module, "uuid", SimpleNamespace(uuid4=lambda: SimpleNamespace(hex="one-consumer")))

    fast, tap = _drain_text(settings)
    monkeypatch.setattr(BufferStream, "_write_record_message", Stream._write_record_message)
    monkeypatch.setattr(TapQuickBooksDesktop, "message_writer_class", SimpleSingerWriter)
    sdk, _ = _drain_text(settings)  # no state handed back: the same entries again

    assert fast.count('"type":"RECORD"') > 400
    assert fast_record_writer(tap.streams["invoice_lines"]) is not None  # the fast path ran
    assert fast.splitlines() == sdk.splitlines()
    assert '"time_extracted":"' in fast
