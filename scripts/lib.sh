# Shared set-up for scripts/test and scripts/demo: system packages, virtualenvs. Sourced, not run.
# Idempotent: a second run on the same machine installs nothing new.

PACKAGES=(tap-quickbooks-online tap-quickbooks-desktop target-databricks target-looker-warehouse target-powerbi target-salesforce)
VENV=.venv
MELTANO_VENV=.venv-meltano
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\n==> %s\n' "$*" >&2; }

quiet_pip() {  # pip's own chatter goes to a log, shown only when it fails
  local pip=$1; shift
  local pip_log; pip_log=$(mktemp)
  if ! "$pip" install -q "$@" >"$pip_log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$pip_log" | tail -40 >&2
    rm -f "$pip_log"; return 1
  fi
  rm -f "$pip_log"
}

pick_python() {
  # The full suite runs on the oldest supported Python (3.11) when there is one; tests/test_pythons.py
  # installs and exercises every plugin on 3.12 and 3.13 as well.
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11, 3.12 or 3.13 is required: install one (e.g. pyenv install 3.12) and rerun" >&2
  return 1
}

install_system_packages() {
  # PostgreSQL (warehouse tests), Java 17 + jarjar (the local Spark SQL engine).
  local missing=()
  [ -x /usr/lib/postgresql/15/bin/initdb ] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  [ -e /usr/share/java/jarjar.jar ] || compgen -G '/usr/share/java/jarjar*.jar' >/dev/null || missing+=(libjarjar-java)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing system packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_scale_out_tools() {
  # haproxy: the round-robin balancer in front of two QBWC replicas (tests/test_scale_out.py);
  # orchestration/.venv: Dagster for the fan-out project, kept apart from the plugins' venv.
  if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
    log "installing system packages: haproxy"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
  fi
  local python; python=$(pick_python)
  if [ ! -x orchestration/.venv/bin/dagster ]; then
    log "installing Dagster into orchestration/.venv"
    "$python" -m venv orchestration/.venv
    quiet_pip orchestration/.venv/bin/pip -r orchestration/requirements.txt
  fi
}

make_venv() {
  local python; python=$(pick_python)
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $python"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed"
  local inputs; inputs=$(cat sandboxes/pyproject.toml plugin_kit/pyproject.toml "${PACKAGES[@]/%//pyproject.toml}" 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$inputs" ]; then
    log "installing the plugins, the sandboxes and the test tools into $VENV"
    # The kit first: every plugin depends on quickbooks-connectors-plugin-kit>=0.2,<0.3, which
    # this editable copy satisfies, so pip never looks for the kit on a registry.
    quiet_pip "$VENV/bin/pip" -e "./plugin_kit[test]"
    local args=(-e "./sandboxes[spark,powerbi,looker]")
    for pkg in "${PACKAGES[@]}"; do
      [ -f "$pkg/pyproject.toml" ] && args+=(-e "./$pkg[test]")
    done
    # build, twine and hatchling: tests/test_packaging.py builds and checks every package.
    quiet_pip "$VENV/bin/pip" "${args[@]}" pytest pytest-xdist ruff mypy pyyaml types-PyYAML \
      types-requests build twine "hatchling>=1.25" packaging
    echo "$inputs" > "$stamp"
  fi
}

make_meltano_venv() {
  local python; python=$(pick_python)
  if [ ! -x "$MELTANO_VENV/bin/meltano" ]; then
    log "installing meltano into $MELTANO_VENV"
    "$python" -m venv "$MELTANO_VENV"
    quiet_pip "$MELTANO_VENV/bin/pip" "meltano==4.4.1"
  fi
}

fill_reference_cache() {  # the vendor reference files the sandboxes read (reference/MANIFEST.json)
  log "vendor reference files (from ../shared/reference, else their URLs; sha256 checked)"
  "$(pick_python)" scripts/reference_cache.py
}
