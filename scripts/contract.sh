#!/usr/bin/env bash
# The OpenAPI contract check: serve the demo on a throw-away cluster, log in as a tenant
# admin, and run schemathesis (PyPI, in a venv) with every check against /openapi.json.
#
#   scripts/contract.sh                     # admin@acme-capital.demo, 50 examples per operation
#   CONTRACT_USER=owner CONTRACT_EXAMPLES=100 scripts/contract.sh
#
# Env: CONTRACT_VENV (default target/contract/venv), CONTRACT_PROFILE (debug|release, default
# debug), CONTRACT_USER (admin|owner, default admin), CONTRACT_EXAMPLES (50), CONTRACT_SEED,
# CONTRACT_CARGO_FLAGS (default -p alphapulse).
# Exit code: schemathesis's (0 = no failures). The report is target/contract/report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/contract"
mkdir -p "$out"
venv=${CONTRACT_VENV:-$out/venv}
profile=${CONTRACT_PROFILE:-debug}
examples=${CONTRACT_EXAMPLES:-50}
who=${CONTRACT_USER:-admin}

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis>=4,<5"
fi

# CONTRACT_CARGO_FLAGS: what to build (default `-p alphapulse`). CI passes the flags of its
# test step (`--workspace --all-features --bins`) so the binary that step built is reused
# instead of its dependencies being rebuilt with other features.
flags=${CONTRACT_CARGO_FLAGS:--p alphapulse}
echo "== building the server ($profile)"
if [ "$profile" = release ]; then
  # shellcheck disable=SC2086
  cargo build -q --release $flags
else
  # shellcheck disable=SC2086
  cargo build -q $flags
fi
bin="${CARGO_TARGET_DIR:-$root/target}/$profile/alphapulse"

work=$(mktemp -d /tmp/alphapulse-contract.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== serving the demo on 127.0.0.1:$port (data in $work)"
ALPHAPULSE_DATA_DIR="$work/data" ALPHAPULSE_BIND="127.0.0.1:$port" ALPHAPULSE_LOG=warn ALPHAPULSE_METRICS_BIND=off \
  ALPHAPULSE_LOGIN_PER_MINUTE=100000 "$bin" serve --demo >"$out/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 240); do
  curl -fsS "$base/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:"; tail -20 "$out/server.log"; exit 2; }
  sleep 0.5
done
curl -fsS "$base/ready" >/dev/null

case "$who" in
  owner) creds='{"email":"owner@alphapulse.local","password":"demo-owner"}' ;;
  *) creds='{"email":"admin@acme-capital.demo","password":"demo-admin-acme-capital"}' ;;
esac
token=$(curl -fsS -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' -d "$creds" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== schemathesis ($who token, $examples examples per operation; settings: schemathesis.toml)"
cd "$root"
seed=()
[ -n "${CONTRACT_SEED:-}" ] && seed=(--seed "$CONTRACT_SEED")
set +e
"$venv/bin/schemathesis" run "$base/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --max-examples "$examples" "${seed[@]}" >"$out/report.txt" 2>&1
rc=$?
set -e
tail -25 "$out/report.txt"
echo "== full report: $out/report.txt (exit $rc)"
exit $rc
