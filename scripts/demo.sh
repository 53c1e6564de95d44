#!/usr/bin/env bash
# Installs Nimbus and runs the example app with `nimbus dev` (serve, deploy, watch).
#
#   scripts/demo.sh            # build, install `nimbus`, then `nimbus dev examples/sam-app/template.yaml`
#
# Environment: NIMBUS_LISTEN (default 127.0.0.1:9000), NIMBUS_GATEWAY_LISTEN (default
# 127.0.0.1:3000), NIMBUS_DATA_DIR (default ./.nimbus), NIMBUS_TEMPLATE (default the example app).
# Full isolation (namespaces, cgroups, disk-backed /tmp) needs root: the server is started
# with sudo when you are not root; without sudo it runs in a reduced-isolation mode and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

listen="${NIMBUS_LISTEN:-127.0.0.1:9000}"
gateway="${NIMBUS_GATEWAY_LISTEN:-127.0.0.1:3000}"
data_dir="${NIMBUS_DATA_DIR:-$PWD/.nimbus}"
endpoint="http://$listen"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# System packages the examples need: interpreters for the managed runtimes and mke2fs for /tmp.
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v node >/dev/null || missing+=(nodejs)
command -v mke2fs >/dev/null || [ -x /usr/sbin/mke2fs ] || [ -x /sbin/mke2fs ] || missing+=(e2fsprogs)
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo: installing ${missing[*]} (apt)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "demo: building and installing nimbus (cargo install)"
cargo install --locked --path crates/nimbus --quiet
nimbus_bin="$(command -v nimbus || echo "$HOME/.cargo/bin/nimbus")"

template="${NIMBUS_TEMPLATE:-examples/sam-app/template.yaml}"
dev_cmd=("$nimbus_bin" dev "$template" --listen "$listen" --gateway-listen "$gateway" --data-dir "$data_dir")
cat <<MSG
demo: nimbus dev $template
      serves the APIs on $endpoint and the HTTP routes on http://$gateway, deploys the
      example app (an HTTP API, an SQS queue with a worker, a schedule, a canary alias),
      prints its URLs and redeploys when you edit a file under $(dirname "$template").
      Try:  curl http://$gateway/hello/you
            curl -X POST http://$gateway/orders -d '{"item":"book","quantity":2}'
            nimbus deployments      # after editing src/hello.py: the canary shifting traffic
      Ctrl-C stops it.
MSG
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then
  echo "demo: running with sudo (sandboxes need root)"
  exec sudo "${dev_cmd[@]}"
fi
exec "${dev_cmd[@]}"
