#!/usr/bin/env bash
# Prepares everything the end-to-end tests need beyond the Rust toolchain:
#   - Debian packages (when missing and we are root): python3-venv, e2fsprogs, nodejs, chromium;
#   - tests/console/node_modules (playwright-core, from its package-lock.json);
#   - <repo>/.venv (newest python3 >= 3.10 found) with tests/python/requirements.txt;
#   - the awslambdaric wheels for the interpreter functions see inside the sandbox
#     (/usr/bin/python3) in <repo>/.venv/lambda-ric (tests read it from NIMBUS_RIC_DIR).
# Idempotent: a stamp keyed by the requirement files and the sandbox interpreter's version
# makes a second run a no-op (well under a second).
#
# Environment: NIMBUS_TEST_VENV (default <repo>/.venv), NIMBUS_RIC_DIR (default
# <venv>/lambda-ric), NIMBUS_SANDBOX_PYTHON (default /usr/bin/python3).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${NIMBUS_TEST_VENV:-$REPO/.venv}"
RIC_DIR="${NIMBUS_RIC_DIR:-$VENV/lambda-ric}"
SANDBOX_PYTHON="${NIMBUS_SANDBOX_PYTHON:-/usr/bin/python3}"
REQUIREMENTS="$REPO/tests/python/requirements.txt"
RIC_REQUIREMENTS="$REPO/tests/python/requirements-ric.txt"
STAMP="$VENV/.nimbus-setup-stamp"
# Bump when this script changes what it installs.
SETUP_VERSION=1

say() { printf 'setup-test-env: %s\n' "$*"; }

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

APT_UPDATED=0
apt_install() {
    if ! is_debian || ! is_root; then
        say "cannot install $* (needs Debian and root); install it yourself"
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
    say "apt-get install -y --no-install-recommends $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# --- Debian packages --------------------------------------------------------------------
if ! command -v mkfs.ext4 >/dev/null && ! [ -x /sbin/mkfs.ext4 ]; then
    apt_install e2fsprogs
fi
if ! command -v node >/dev/null; then
    apt_install nodejs
fi
if ! [ -x "$SANDBOX_PYTHON" ]; then
    # Functions run the host's /usr/bin/python3 inside their sandbox.
    apt_install python3
fi
if ! [ -x /usr/bin/chromium ]; then
    # The web console's tests drive Debian's Chromium headless (tests/console).
    apt_install chromium
fi

# --- playwright-core for the console tests (no browser download: it drives /usr/bin/chromium)
if ! [ -d "$REPO/tests/console/node_modules/playwright-core" ]; then
    say "npm ci in tests/console"
    (cd "$REPO/tests/console" && npm ci --no-audit --no-fund --silent)
fi

# --- The sandbox interpreter's version (the awslambdaric wheels must match it) ------------
SANDBOX_PY_VERSION="$("$SANDBOX_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
SANDBOX_PY_TAG="cp${SANDBOX_PY_VERSION/./}"
say "sandbox interpreter: $SANDBOX_PYTHON (Python $SANDBOX_PY_VERSION, $SANDBOX_PY_TAG)"

# --- Is everything already in place? -----------------------------------------------------
stamp_value() {
    {
        echo "setup=$SETUP_VERSION"
        echo "sandbox=$SANDBOX_PY_VERSION"
        echo "ric_dir=$RIC_DIR"
        cat "$REQUIREMENTS" "$RIC_REQUIREMENTS"
    } | sha256sum | cut -d' ' -f1
}
WANT_STAMP="$(stamp_value)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_STAMP" ] \
    && "$VENV/bin/python" -c 'import boto3, pytest' 2>/dev/null \
    && [ -x "$VENV/bin/aws" ] \
    && ls "$RIC_DIR"/awslambdaric-*.whl >/dev/null 2>&1; then
    say "up to date ($VENV)"
    exit 0
fi

# --- Pick the newest python3 >= 3.10 for the venv -----------------------------------------
find_python() {
    local candidates=() best="" best_key=0 c key
    for c in python3.14 python3.13 python3.12 python3.11 python3.10 python3; do
        if command -v "$c" >/dev/null; then candidates+=("$(command -v "$c")"); fi
    done
    # pyenv installs that are not the global version are not on PATH as working shims.
    for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3.* /usr/bin/python3.* /usr/local/bin/python3.*; do
        case "$c" in *-config | *m) continue ;; esac
        if [ -x "$c" ]; then candidates+=("$c"); fi
    done
    for c in "${candidates[@]}"; do
        # Shims that cannot run (pyenv "command not found") fail here and are skipped.
        key="$("$c" -c 'import sys; v = sys.version_info; print(v[0] * 100 + v[1] if v >= (3, 10) else 0)' 2>/dev/null)" || continue
        if [ "$key" -gt "$best_key" ]; then
            best_key="$key"
            best="$c"
        fi
    done
    [ -n "$best" ] && echo "$best"
}

if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    PY="$(find_python)" || {
        say "no python3 >= 3.10 found; installing python3"
        apt_install python3 python3-venv
        PY="$(find_python)"
    }
    say "creating $VENV with $PY ($("$PY" --version 2>&1))"
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV"; then
        # Debian's python3 needs python3-venv (and python3.N-venv) for ensurepip.
        rm -rf "$VENV"
        apt_install python3-venv "python$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv" || true
        "$PY" -m venv "$VENV"
    fi
else
    say "reusing $VENV ($("$VENV/bin/python" --version 2>&1))"
fi

say "pip install -r tests/python/requirements.txt"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"

# --- awslambdaric wheels for the sandbox interpreter ---------------------------------------
say "downloading awslambdaric wheels for $SANDBOX_PY_TAG into $RIC_DIR"
rm -rf "$RIC_DIR"
mkdir -p "$RIC_DIR"
"$VENV/bin/python" -m pip download -q --disable-pip-version-check \
    --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version "$SANDBOX_PY_VERSION" --implementation cp --abi "$SANDBOX_PY_TAG" \
    -d "$RIC_DIR" -r "$RIC_REQUIREMENTS"
echo "$SANDBOX_PY_VERSION" >"$RIC_DIR/python-version"

echo "$WANT_STAMP" >"$STAMP"
say "done: venv $VENV, awslambdaric wheels in $RIC_DIR"
