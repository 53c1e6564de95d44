#!/usr/bin/env bash
# Installs Nimbus and serves the example functions.
#
#   scripts/demo.sh            # build, install `nimbus`, serve on 127.0.0.1:9000, deploy examples
#
# Environment: NIMBUS_LISTEN (default 127.0.0.1:9000), NIMBUS_DATA_DIR (default ./.nimbus).
# Full isolation (namespaces, cgroups, disk-backed /tmp) needs root: the server is started
# with sudo when you are not root; without sudo it runs in a reduced-isolation mode and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

listen="${NIMBUS_LISTEN:-127.0.0.1:9000}"
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

echo "demo: building the Rust custom-runtime example"
cargo build --release --quiet -p example-rust-hello
rust_pkg="$(mktemp -d)"
cp target/release/bootstrap "$rust_pkg/bootstrap"

server_cmd=("$nimbus_bin" serve --listen "$listen" --data-dir "$data_dir")
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then
  echo "demo: starting the server with sudo (sandboxes need root)"
  sudo "${server_cmd[@]}" &
else
  "${server_cmd[@]}" &
fi
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$rust_pkg"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$endpoint/health" >/dev/null 2>&1 && break
  python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/health')" >/dev/null 2>&1 && break
  sleep 0.1
done

export NIMBUS_ENDPOINT="$endpoint"
deploy() { # name runtime handler dir
  "$nimbus_bin" delete "$1" >/dev/null 2>&1 || true
  "$nimbus_bin" create "$1" --runtime "$2" --handler "$3" --code "$4" >/dev/null
  echo "demo: deployed $1 ($2)"
}
deploy hello-python python3.12 app.handler examples/python-hello
deploy hello-node nodejs20.x index.handler examples/node-hello
deploy hello-rust provided.al2023 bootstrap "$rust_pkg"

for fn in hello-python hello-node hello-rust; do
  echo "demo: nimbus invoke $fn --payload '{\"name\":\"Nimbus\"}'"
  "$nimbus_bin" invoke "$fn" --payload '{"name":"Nimbus"}'
done

cat <<MSG

Nimbus is serving on $endpoint (data in $data_dir). Try:
  nimbus list
  nimbus invoke hello-python --payload '{"name":"you"}'
  nimbus logs hello-python --follow
  aws --endpoint-url $endpoint --region us-east-1 lambda list-functions   # any credentials
Ctrl-C stops the server.
MSG
wait $server_pid
