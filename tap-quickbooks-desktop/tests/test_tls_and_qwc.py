"""HTTPS serving with the certificate settings, and the .qwc file QBWC loads."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sandboxes.qbwc import QWCFile
from tap_quickbooks_desktop.cli import main
from tap_quickbooks_desktop.config import server_config
from tap_quickbooks_desktop.qwc import render_qwc

from .conftest import USERNAME, drain


def _self_signed(directory: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_sync_over_https_with_the_configured_certificate(company, settings, start_server, web_connector, tmp_path):
    cert, key = _self_signed(tmp_path)
    server = start_server({**settings, "ssl_certfile": cert, "ssl_keyfile": key, "streams": ["customers"]})
    assert server.url.startswith("https://")

    report = web_connector(server, company, ca_file=cert).run_once()

    assert report.outcome == "completed", report.errors
    assert len(drain(settings).records("customers")) == company.count("Customer")


def test_qwc_file_carries_what_qbwc_needs_and_fresh_ids(settings):
    config = server_config({**settings, "app_url": "https://qb.example.com:8443/", "port": 8443})
    first = render_qwc(config, config.companies[0], run_every_n_minutes=30)
    second = render_qwc(config, config.companies[0])

    assert "<AppURL>https://qb.example.com:8443/</AppURL>" in first
    assert f"<UserName>{USERNAME}</UserName>" in first
    assert "<QBType>QBFS</QBType>" in first and "<RunEveryNMinutes>30</RunEveryNMinutes>" in first
    owner = first.split("<OwnerID>")[1].split("</OwnerID>")[0]
    assert owner.startswith("{") and owner not in second


def test_qwc_command_writes_a_file_the_web_connector_loads(settings, tmp_path, monkeypatch):
    config_path = tmp_path / "config.json"
    import json

    config_path.write_text(json.dumps({**settings, "app_url": "https://qb.example.com/qbwc"}))
    with pytest.raises(SystemExit) as exit_info:
        main(["qwc", "--config", str(config_path), "--output", str(tmp_path / "out")])
    assert exit_info.value.code == 0

    loaded = QWCFile.load(str(tmp_path / "out" / "acme.qwc"))
    assert loaded.app_url == "https://qb.example.com/qbwc"
    assert loaded.user_name == USERNAME


def test_serve_command_refuses_plain_http_on_a_public_address(settings, tmp_path, capsys):
    import json

    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**settings, "host": "0.0.0.0"}))  # noqa: S104

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--config", str(config_path)])

    assert exit_info.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "plain HTTP is only allowed on localhost" in last and "Fix:" in last


def test_commands_read_settings_from_meltano_environment_variables(settings, tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("TAP_QUICKBOOKS_DESKTOP_COMPANIES", json.dumps(settings["companies"]))
    monkeypatch.setenv("TAP_QUICKBOOKS_DESKTOP_APP_URL", "https://qb.example.com/env")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as exit_info:
        main(["qwc", "--output", str(tmp_path / "env")])

    assert exit_info.value.code == 0
    assert QWCFile.load(str(tmp_path / "env" / "acme.qwc")).app_url == "https://qb.example.com/env"
