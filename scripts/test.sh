#!/usr/bin/env bash
# Everything the project tests: prepares the end-to-end environment (scripts/setup-test-env.sh:
# Debian packages, <repo>/.venv with the real AWS clients, awslambdaric wheels), then runs
# `cargo test --workspace` with any extra arguments passed through, e.g.
#   scripts/test.sh -p nimbus --test e2e_clients -- --nocapture
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

echo "test.sh: scripts/setup-test-env.sh"
scripts/setup-test-env.sh

VENV="${NIMBUS_TEST_VENV:-$REPO/.venv}"
export NIMBUS_TEST_VENV="$VENV"
export NIMBUS_RIC_DIR="${NIMBUS_RIC_DIR:-$VENV/lambda-ric}"

echo "test.sh: cargo test --workspace --no-fail-fast $*"
# --no-fail-fast: one failing test binary must not hide the others' results.
exec cargo test --workspace --no-fail-fast "$@"
