#!/usr/bin/env bash
# Plain PostgreSQL vs a local Citus cluster (coordinator + 2 workers on loopback) for the same
# request: GET /api/v1/positions/spot over the issue-7 fixture (50 tenants x 1000 positions,
# tokens of all 50 in rotation), wrk closed loop (BENCH_CONNECTIONS,
# BENCH_SECONDS), BENCH_RUNS runs each, medians of req/s, p50 and p99. Same binary, same
# fixture (no demo data), same pool size; only the database differs. One machine shows the per-request
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

measure() { # $1 = label, $2 = owner URL; the server is up on $B and its env is exported
  local tokens=$DATA/tokens-$1.txt
  # The issue-7 fixture: 50 tenants x 1000 positions (20 spot with candles). Enterprise plan
  # and no daily quota, so the per-tenant burst buckets (500/s) and quotas do not answer 429.
  psql -qX "$2" -f "$ROOT/scripts/bench/fixture.sql" >/dev/null
  psql -qX "$2" -c "UPDATE tenants SET subscription_tier = 'enterprise',
      max_api_calls_per_day = 2147483647 WHERE slug LIKE 'bench-%'" >/dev/null
  psql -qXAt "$2" -c "SELECT user_id FROM bench_tenants ORDER BY n" |
    xargs -P 2 -I{} "$BIN" token --user {} --ttl 3600 2>/dev/null >"$tokens"
  [[ $(grep -c . "$tokens") -eq 50 ]] || { echo "expected 50 tokens" >&2; exit 1; }
  echo "$1: spot positions in one answer: $(curl -sf "$B/api/v1/positions/spot" \
    -H "Authorization: Bearer $(head -1 "$tokens")" | grep -o '"symbol"' | wc -l)" >&2
  export BENCH_TOKENS_FILE=$tokens
  wrk -t2 -c"$CONNS" -d2s -s "$ROOT/scripts/bench/wrk_tokens.lua" "$B/api/v1/positions/spot" >/dev/null
  for _ in $(seq "$RUNS"); do
    wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$ROOT/scripts/bench/wrk_tokens.lua" "$B/api/v1/positions/spot" |
      sed -n 's/^WRKRESULT //p' |
      awk -v l="$1" '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
        printf "%s %.1f %.3f %.3f %d\n", l, v["requests"] / (v["duration_us"] / 1e6),
               v["p50_us"] / 1000, v["p99_us"] / 1000, v["status"] + v["timeout"]}'
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

echo "label req/s p50_ms p99_ms non2xx+timeouts" > "$DATA/results"
# Plain PostgreSQL: the binary's own local cluster.
export ALPHAPULSE_DATA_DIR=$DATA/plain-data
"$BIN" serve --bind "127.0.0.1:$PORT" \
  >"$DATA/serve.out" 2>"$DATA/serve.err" &
PID=$!
wait_ready
measure postgres "$("$BIN" db url 2>/dev/null)" >>"$DATA/results"
kill -INT "$PID"; wait "$PID" || true; PID=
unset ALPHAPULSE_DATA_DIR

# Citus: coordinator + 2 workers; the server migrates (distributes the tables).
URL=$("$BIN" --data-dir "$DATA/citus-data" cluster citus up 2>/dev/null | sed -n 's/^ALPHAPULSE_DATABASE_URL=//p')
export ALPHAPULSE_DATABASE_URL=$URL
"$BIN" serve --bind "127.0.0.1:$PORT" \
  >"$DATA/serve.out" 2>"$DATA/serve.err" &
PID=$!
wait_ready
measure citus "$URL" >>"$DATA/results"
kill -INT "$PID"; wait "$PID" || true; PID=

cat "$DATA/results"
python3 - "$DATA/results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
def ms(v):
    return float(v)
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
