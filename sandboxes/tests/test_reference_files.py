"""Vendor reference files without ../shared: the manifest, the cache script, and sandboxes that refuse
to start with one line naming the missing file and the command, never a 500 in the middle of a run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbwc import QuickBooksCompany

from sandboxes import REFERENCE_ENV, REPOSITORY, SHARED_DIR, MissingReferenceFile

SCRIPT = REPOSITORY / "scripts" / "reference_cache.py"
MANIFEST = REPOSITORY / "reference" / "MANIFEST.json"


def manifest() -> list[dict[str, str]]:
    return list(json.loads(MANIFEST.read_text())["files"])


def fill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_manifest_names_source_hash_and_licence_of_every_file() -> None:
    files = manifest()
    names = {f["file"] for f in files}
    assert {"qbo/xsd/IntuitRestServiceDef.xsd", "qbxml/xsd/qbxmlops130.xsd",
            "qbwc/QBWebConnectorSvc.intuit-troubleshoot.wsdl", "qbxml/intuit-samples/QueryFilterRq.xml"} <= names
    for entry in files:
        assert entry["url"].startswith("https://") and len(entry["sha256"]) == 64 and entry["license"], entry["file"]


def test_without_shared_and_offline_the_script_names_every_missing_file(tmp_path: Path) -> None:
    result = fill("--source", str(tmp_path / "no-shared"), "--cache", str(tmp_path / "cache"), "--offline")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(manifest()) + 1
    assert all(line.startswith("missing ") for line in lines[:-1])
    assert "put the shared/ folder beside the repository" in lines[-1] and "reference/MANIFEST.json" in lines[-1]


def test_a_file_whose_hash_differs_is_refused_and_the_rest_cached(tmp_path: Path) -> None:
    good, bad = manifest()[0], manifest()[1]
    if not (SHARED_DIR / good["file"]).is_file():
        pytest.skip("../shared/reference is not beside the repository")
    source = tmp_path / "source"
    for entry, data in ((good, (SHARED_DIR / good["file"]).read_bytes()), (bad, b"<tampered/>")):
        target = source / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    result = fill("--source", str(source), "--cache", str(tmp_path / "cache"), "--offline")
    assert result.returncode == 1
    assert f"missing {bad['file']}: " in result.stderr and "the manifest says" in result.stderr
    cached = tmp_path / "cache" / good["file"]
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == good["sha256"]
    assert not (tmp_path / "cache" / bad["file"]).exists()


def test_from_shared_every_file_lands_in_the_cache_with_its_hash(tmp_path: Path) -> None:
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared/reference is not beside the repository")
    result = fill("--source", str(SHARED_DIR), "--cache", str(tmp_path / "cache"), "--offline")
    assert result.returncode == 0, result.stderr
    assert fill("--cache", str(tmp_path / "cache"), "--check").returncode == 0


def test_qbo_sandbox_refuses_to_start_without_its_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path / "empty"))
    monkeypatch.delenv("QBO_XSD_DIR", raising=False)
    with pytest.raises(MissingReferenceFile) as refused:
        QBOSandbox(realms=[RealmSpec("9130350000000001", transactions=5)], data_dir=tmp_path / "qbo").start()
    message = str(refused.value)
    assert "\n" not in message
    assert "qbo/xsd/" in message and "python scripts/reference_cache.py" in message


def test_qbo_cli_says_what_is_missing_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, REFERENCE_ENV: str(tmp_path / "empty")}
    env.pop("QBO_XSD_DIR", None)
    result = subprocess.run([sys.executable, "-m", "sandboxes.qbo", "--transactions", "5", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: vendor reference file qbo/xsd/") and "python scripts/reference_cache.py" in last


def test_quickbooks_desktop_company_refuses_to_open_without_the_qbxml_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path / "empty"))
    monkeypatch.delenv("QBXML_XSD_DIR", raising=False)
    with pytest.raises(MissingReferenceFile, match=r"qbxml/xsd/qbxml130\.xsd is missing"):
        QuickBooksCompany.generate(seed=1, transactions=5, path=tmp_path / "company.sqlite")
