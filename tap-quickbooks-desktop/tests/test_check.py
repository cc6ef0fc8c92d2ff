"""`tap-quickbooks-desktop check` against our server and the sandbox Web Connector: the lines a
user reads in the good case and when the .qwc, certificate, buffer, server or QuickBooks fail."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sandboxes.qbwc import Faults
from tap_quickbooks_desktop.cli import main

from .conftest import PASSWORD


def run_check(capsys: pytest.CaptureFixture[str], tmp_path: Path, settings: dict[str, Any],
              *extra: str) -> tuple[int, list[str]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(settings))
    with pytest.raises(SystemExit) as ended:
        main(["check", "--config", str(path), *extra])
    out = capsys.readouterr().out
    return int(ended.value.code or 0), out.splitlines()


def certificate(directory: Path, names: list[str], days: float) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{names[0]}.pem", directory / f"{names[0]}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_good_setup_after_a_session_passes_and_reports_the_last_call(
        company, settings, start_server, web_connector, tmp_path, capsys):
    server = start_server({**settings, "streams": ["customers"]})
    assert web_connector(server, company).run_once().outcome == "completed"

    code, lines = run_check(capsys, tmp_path, {**settings, "port": server.port}, "--qwc", str(tmp_path / "acme.qwc"))

    text = "\n".join(lines)
    assert code == 0, text
    assert f"ok    acme .qwc: {tmp_path / 'acme.qwc'} matches http://localhost:{server.port}/" in text
    assert "ok    acme web connector: last completed session at" in text
    assert "ok    waiting entries:" in text and "responses buffered" in text
    assert PASSWORD not in text


def test_quickbooks_closed_at_the_last_session_is_reported(
        company, settings, start_server, web_connector, tmp_path, capsys):
    server = start_server(settings)
    web_connector(server, company, faults=Faults(quickbooks_closed=True)).run_once()

    code, lines = run_check(capsys, tmp_path, {**settings, "port": server.port}, "--qwc", str(tmp_path / "acme.qwc"))

    assert code == 1
    line = next(ln for ln in lines if ln.startswith("FAIL  acme web connector"))
    assert "the last session failed at" in line and "could not reach QuickBooks" in line
    assert "Fix: open QuickBooks with the company file" in line


def test_qwc_pointing_elsewhere_is_named(company, settings, start_server, web_connector, tmp_path, capsys):
    server = start_server(settings)
    web_connector(server, company).run_once()  # writes acme.qwc with this server's port

    code, lines = run_check(capsys, tmp_path, {**settings, "port": server.port + 1}, "--qwc", str(tmp_path / "acme.qwc"))

    assert code == 1
    assert any(ln.startswith("FAIL  acme .qwc:") and "sends the Web Connector to" in ln for ln in lines)
    assert "Fix: run `tap-quickbooks-desktop qwc`" in lines[-1]


def test_nothing_listening_is_named_with_how_to_start_it(settings, tmp_path, capsys):
    code, lines = run_check(capsys, tmp_path, {**settings, "port": 1})
    assert code == 1
    assert "FAIL  server: nothing answers at http://localhost:1/" in "\n".join(lines)
    assert any("start it: meltano invoke tap-quickbooks-desktop:serve" in ln for ln in lines)


def test_certificate_for_another_host_is_refused(settings, tmp_path, capsys):
    cert, key = certificate(tmp_path, ["qb.example.com"], days=300)
    code, lines = run_check(capsys, tmp_path, {**settings, "ssl_certfile": cert, "ssl_keyfile": key, "port": 1})
    assert code == 1
    assert "FAIL  certificate: the certificate covers qb.example.com, not localhost" in "\n".join(lines)


def test_certificate_near_expiry_is_refused(settings, tmp_path, capsys):
    cert, key = certificate(tmp_path, ["localhost"], days=5)
    code, lines = run_check(capsys, tmp_path, {**settings, "ssl_certfile": cert, "ssl_keyfile": key, "port": 1})
    assert code == 1
    assert any(ln.startswith("FAIL  certificate: the certificate expires on") for ln in lines)


def test_key_of_another_certificate_is_named(settings, tmp_path, capsys):
    cert, _ = certificate(tmp_path, ["localhost"], days=300)
    _, other_key = certificate(tmp_path, ["other"], days=300)
    code, lines = run_check(capsys, tmp_path, {**settings, "ssl_certfile": cert, "ssl_keyfile": other_key, "port": 1})
    assert code == 1
    assert "FAIL  certificate: ssl_certfile and ssl_keyfile do not load as a pair" in "\n".join(lines)


def test_unwritable_buffer_is_named(settings, tmp_path, capsys):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    code, lines = run_check(capsys, tmp_path, {**settings, "buffer_path": str(blocker / "buffer.sqlite"), "port": 1})
    assert code == 1
    assert any(ln.startswith(f"FAIL  buffer: {blocker / 'buffer.sqlite'} is not writable") for ln in lines)


def test_missing_password_and_misspelled_setting_are_named(settings, tmp_path, capsys):
    del settings["companies"][0]["password"]
    code, lines = run_check(capsys, tmp_path, settings)
    assert code == 1
    assert lines[0].startswith("FAIL  settings: companies[0] is missing password")
    settings["companies"][0]["password"] = PASSWORD
    code, lines = run_check(capsys, tmp_path, {**settings, "ovrlap_seconds": 10, "port": 1})
    assert "unknown setting 'ovrlap_seconds' is ignored; did you mean 'overlap_seconds'?" in lines[0]


def test_help_lists_serve_qwc_and_check(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "qwc", "check"):
        assert f"tap-quickbooks-desktop {command}" in out


def test_single_company_shorthand_without_password_names_the_setting(tmp_path, capsys):
    settings = {"company": "acme", "username": "qbwc-acme", "buffer_path": str(tmp_path / "b.sqlite")}
    code, lines = run_check(capsys, tmp_path, settings)
    assert code == 1
    assert lines[0].startswith("FAIL  settings: the setting password is not set (company 'acme'). "
                               "Fix: meltano config tap-quickbooks-desktop set <setting>")


def test_unreachable_postgres_state_store_is_named(settings, tmp_path, capsys):
    url = "postgresql://qbc:wrong@127.0.0.1:1/qbc?connect_timeout=3"
    code, lines = run_check(capsys, tmp_path, {**settings, "state_database_url": url, "port": 1})
    assert code == 1
    line = next(ln for ln in lines if ln.startswith("FAIL  state store:"))
    assert "the PostgreSQL state store cannot be used" in line and "Fix: check state_database_url" in line
    assert "wrong" not in "\n".join(lines)  # the URL's password is a secret
