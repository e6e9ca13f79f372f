#!/usr/bin/env bash
# Creates (or reuses) the Python venv holding the pinned AWS tools that the
# tests use as an oracle (botocore, awscli, moto). Idempotent: pip runs only
# when requirements.txt changed since the last successful install.
#
#   KEYRACK_VENV   where the venv lives (default: $HOME/.cache/keyrack/venv)
#
# Stdout gets exactly one line (where the venv is); progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
venv="${KEYRACK_VENV:-$HOME/.cache/keyrack/venv}"
stamp="$venv/.keyrack-requirements.sha256"

log() { printf 'setup.sh: %s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "python3 not found; installing it with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
fi

# A venv whose interpreter no longer runs (python upgraded or removed) is rebuilt.
if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "venv at $venv is broken; recreating it"
    rm -rf -- "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
    # Debian's python3 lacks ensurepip (hence `-m venv`) until python3-venv is installed.
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        log "python3 venv support missing; installing python3-venv with apt-get"
        if [ "$(id -u)" -ne 0 ]; then
            log "not root: run 'apt-get install -y python3-venv' as root, then rerun"
            exit 1
        fi
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    fi
    log "creating venv at $venv"
    mkdir -p -- "$(dirname -- "$venv")"
    rm -rf -- "$venv"
    python3 -m venv "$venv" >&2
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    log "installing $(tr '\n' ' ' < "$req")"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2
    # Verify the pins really are what is importable before stamping.
    "$venv/bin/python" - "$req" >&2 <<'EOF'
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    name, _, pinned = line.partition('==')
    name = name.split('[')[0]
    got = version(name)
    if got != pinned:
        sys.exit(f"setup.sh: {name} is {got}, wanted {pinned}")
EOF
    printf '%s\n' "$want" > "$stamp"
fi

versions="$("$venv/bin/python" -c 'import sys, botocore; print("Python %d.%d.%d, botocore %s" % (sys.version_info[:3] + (botocore.__version__,)))')"
echo "keyrack test tools: venv at $venv ($versions)"
