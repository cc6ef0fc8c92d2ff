"""The jars the local Spark SQL engine needs beyond the pyspark wheel, built once and cached.

Delta Lake's jars come only from Maven Central, which these machines cannot reach, so Iceberg
tables stand in for Delta. PyPI's ``snowpark-connect-deps-iceberg`` ships the Iceberg Spark
runtime, but that repackaged jar refers to ``org.apache.iceberg.shaded.com.fasterxml.jackson``
without containing it. Spark's own Jackson jars, relocated to that package with jarjar (Debian
``libjarjar-java``), fill the gap; the result is cached so only the first run pays for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ICEBERG_RUNTIME_JAR = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
JACKSON_PARTS = ("core", "databind", "annotations")
SHADED_JACKSON_PREFIX = "org.apache.iceberg.shaded.com.fasterxml.jackson"
JARJAR_CANDIDATES = ("/usr/share/java/jarjar.jar", "/usr/share/java/jarjar-1.4.jar")


class EngineSetupError(RuntimeError):
    """The local engine cannot be prepared on this machine; the message says what to install."""


@dataclass(frozen=True)
class EngineJars:
    """Everything ``spark-submit`` needs: the pyspark home and the extra jars for ``--jars``."""

    spark_home: Path
    iceberg_runtime: Path
    shaded_jackson: Path

    @property
    def extra_jars(self) -> tuple[Path, Path]:
        return (self.iceberg_runtime, self.shaded_jackson)


def default_cache_dir() -> Path:
    configured = os.environ.get("QBC_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "quickbooks-connectors"
    return base / "databricks-engine"


def spark_home() -> Path:
    try:
        import pyspark
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineSetupError(
            "pyspark is not installed: pip install 'quickbooks-connectors-sandboxes[spark]'"
        ) from exc
    return Path(pyspark.__file__).resolve().parent


def iceberg_runtime_jar() -> Path:
    try:
        jar_dir = resources.files("snowpark_connect_deps_iceberg") / "jars"
    except ModuleNotFoundError as exc:
        raise EngineSetupError(
            "snowpark-connect-deps-iceberg is not installed: "
            "pip install 'quickbooks-connectors-sandboxes[spark]'"
        ) from exc
    jar = Path(str(jar_dir)) / ICEBERG_RUNTIME_JAR
    if not jar.is_file():
        raise EngineSetupError(f"{ICEBERG_RUNTIME_JAR} is missing from snowpark-connect-deps-iceberg")
    return jar


def find_jarjar() -> Path:
    configured = os.environ.get("QBC_JARJAR")
    for candidate in ([configured] if configured else []) + list(JARJAR_CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    raise EngineSetupError(
        "jarjar is not installed (needed once to relocate Jackson for Iceberg): "
        "apt-get install -y libjarjar-java, or point QBC_JARJAR at jarjar.jar"
    )


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise EngineSetupError(
            "no java on PATH: Spark 3.5 needs Java 17 (apt-get install -y openjdk-17-jre-headless)"
        )
    return java


def _spark_jackson_jars(home: Path) -> list[Path]:
    jars = []
    for part in JACKSON_PARTS:
        found = sorted((home / "jars").glob(f"jackson-{part}-2.*.jar"))
        if not found:
            raise EngineSetupError(f"pyspark ships no jackson-{part} jar under {home / 'jars'}")
        jars.append(found[-1])
    return jars


def _merge_for_relocation(jars: list[Path], merged: Path) -> None:
    # jarjar 1.4 rejects the multi-release copies under META-INF/versions/ as duplicate
    # entries once relocated, and module-info classes mean nothing inside a shaded jar.
    seen: set[str] = set()
    with zipfile.ZipFile(merged, "w", zipfile.ZIP_DEFLATED) as out:
        for jar in jars:
            with zipfile.ZipFile(jar) as source:
                for info in source.infolist():
                    name = info.filename
                    if (
                        info.is_dir()
                        or name.startswith("META-INF/")
                        or name.endswith("module-info.class")
                        or name in seen
                    ):
                        continue
                    seen.add(name)
                    out.writestr(name, source.read(name))


def _build_shaded_jackson(home: Path, target: Path) -> None:
    java = find_java()
    jarjar = find_jarjar()
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        merged = Path(work) / "jackson-merged.jar"
        rules = Path(work) / "rules.txt"
        output = Path(work) / target.name
        _merge_for_relocation(_spark_jackson_jars(home), merged)
        rules.write_text(f"rule com.fasterxml.jackson.** {SHADED_JACKSON_PREFIX}.@1\n")
        result = subprocess.run(
            [java, "-jar", str(jarjar), "process", str(rules), str(merged), str(output)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0 or not output.is_file():
            raise EngineSetupError(
                f"jarjar failed to relocate Jackson (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        os.replace(output, target)


def _inputs_fingerprint(home: Path) -> str:
    digest = hashlib.sha256()
    for jar in _spark_jackson_jars(home):
        digest.update(jar.name.encode())
        digest.update(str(jar.stat().st_size).encode())
    return digest.hexdigest()[:12]


def prepare_jars(cache_dir: Path | None = None) -> EngineJars:
    """Return the engine's jars, building the relocated Jackson jar on first use.

    Safe to call from several processes at once (pytest-xdist workers, CI steps): a file lock
    serialises the build and the finished jar is moved into place atomically.
    """
    home = spark_home()
    runtime = iceberg_runtime_jar()
    cache = cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"iceberg-shaded-jackson-{_inputs_fingerprint(home)}.jar"
    if not target.is_file():
        with open(cache / ".prepare.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not target.is_file():
                _build_shaded_jackson(home, target)
    return EngineJars(spark_home=home, iceberg_runtime=runtime, shaded_jackson=target)
