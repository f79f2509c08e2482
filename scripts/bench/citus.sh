#!/usr/bin/env bash
# Plain PostgreSQL vs a local Citus cluster (coordinator + 2 workers on loopback) for the same
# request: GET /api/v1/positions/spot as the demo trader, wrk closed loop (BENCH_CONNECTIONS,
# BENCH_SECONDS), BENCH_RUNS runs each, medians of req/s, p50 and p99. Same binary, same
# --demo data, same pool size; only the database differs. One machine shows the per-request
# cost of the distributed path, not scale-out (docs/scale-out.md).
# Run from the workspace root after `cargo build --release -p alphapulse` (BIN to override).
# Needs Citus installed (bash ../shared/vendor/citus/build.sh) and wrk.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/alphapulse}
DUR=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
DATA=$(mktemp -d)
PID=
cleanup() {
  if [[ -n $PID ]]; then kill -INT "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  "$BIN" --data-dir "$DATA/citus-data" cluster citus down >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_KEYS_FILE ALPHAPULSE_BIND
export ALPHAPULSE_LOG=warn ALPHAPULSE_METRICS_BIND=off
export ALPHAPULSE_JWT_SECRET=bench-only-secret-0123456789abcdef0123456789abcdef
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT

measure() { # $1 = label; the server is up on $B
  local token h
  token=$(curl -sf -X POST "$B/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"email":"trader@acme-capital.demo","password":"demo-trader-acme-capital"}' |
    sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  h="Authorization: Bearer $token"
  curl -sf -o /dev/null "$B/api/v1/positions/spot" -H "$h"
  echo "positions in the answer: $(curl -sf "$B/api/v1/positions/spot" -H "$h" | grep -o '"symbol"' | wc -l)" >&2
  wrk -t2 -c"$CONNS" -d2s -H "$h" "$B/api/v1/positions/spot" >/dev/null # warm-up
  for _ in $(seq "$RUNS"); do
    wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -H "$h" "$B/api/v1/positions/spot" |
      awk -v l="$1" '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
                     /Non-2xx/ {bad=$NF} END {print l, r, p50, p99, (bad ? bad : 0)}'
  done
}

wait_ready() {
  for _ in $(seq 600); do
    curl -sf "$B/ready" >/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || { echo "server exited" >&2; cat "$DATA/serve.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "server not ready" >&2; exit 1
}

echo "label req/s p50 p99 non2xx" > "$DATA/results"
# Plain PostgreSQL: the binary's own local cluster.
ALPHAPULSE_DATA_DIR=$DATA/plain-data "$BIN" serve --demo --bind "127.0.0.1:$PORT" \
  >"$DATA/serve.out" 2>"$DATA/serve.err" &
PID=$!
wait_ready
measure postgres >>"$DATA/results"
kill -INT "$PID"; wait "$PID" || true; PID=

# Citus: coordinator + 2 workers; the server migrates (distributes) and seeds the demo data.
URL=$("$BIN" --data-dir "$DATA/citus-data" cluster citus up 2>/dev/null | sed -n 's/^ALPHAPULSE_DATABASE_URL=//p')
ALPHAPULSE_DATABASE_URL=$URL "$BIN" serve --demo --demo-anywhere --bind "127.0.0.1:$PORT" \
  >"$DATA/serve.out" 2>"$DATA/serve.err" &
PID=$!
wait_ready
measure citus >>"$DATA/results"
kill -INT "$PID"; wait "$PID" || true; PID=

cat "$DATA/results"
python3 - "$DATA/results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
med = {}
for label in ("postgres", "citus"):
    r = [x for x in rows if x[0] == label]
    med[label] = (statistics.median(float(x[1]) for x in r), statistics.median(ms(x[2]) for x in r),
                  statistics.median(ms(x[3]) for x in r), sum(int(x[4]) for x in r))
    print(f"{label}: median of {len(r)} runs: {med[label][0]:.0f} req/s, p50 {med[label][1]:.2f} ms, "
          f"p99 {med[label][2]:.2f} ms, non-2xx {med[label][3]}")
p, c = med["postgres"], med["citus"]
print(f"citus/postgres: req/s x{c[0]/p[0]:.2f}, p50 x{c[1]/p[1]:.2f}, p99 x{c[2]/p[2]:.2f}")
EOF
