#!/bin/bash
# Latency of issue 11's two heaviest reads on the demo data (release binary, loopback, wrk
# 32 connections, BENCH_SECONDS each, default 15): GET /api/v1/risk/metrics (the acme-capital
# book: 3 holdings, 252 days, VaR three ways incl. 10 000 Monte Carlo draws) and
# GET /api/v1/correlation/matrix for the 10 demo symbols over 252 days (Pearson and Kendall).
# Run from the workspace root after `cargo build --release -p alphapulse`.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/alphapulse}
SECONDS_EACH=${BENCH_SECONDS:-15}
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
# One tenant's load is far above its plan's burst limit: with quotas on, most answers would
# be (cheap) 429s. The quota check's own cost is measured by scripts/bench/quotas.sh.
export ALPHAPULSE_DATA_DIR=$DATA/data ALPHAPULSE_LOG=warn ALPHAPULSE_QUOTAS=false
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
$BIN serve --demo --bind 127.0.0.1:$PORT > "$DATA/serve.out" 2> "$DATA/serve.err" &
PID=$!
until curl -sf $B/ready >/dev/null; do
  kill -0 $PID 2>/dev/null || { echo "the server exited:"; tail -5 "$DATA/serve.err"; exit 2; }
  sleep 0.05
done
TOKEN=$(curl -s -X POST $B/api/v1/auth/token -H 'Content-Type: application/json' -d '{"email":"trader@acme-capital.demo","password":"demo-trader-acme-capital"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
H="Authorization: Bearer $TOKEN"
SYMS="symbols=BTCUSDT&symbols=ETHUSDT&symbols=SOLUSDT&symbols=BNBUSDT&symbols=XRPUSDT&symbols=ADAUSDT&symbols=DOGEUSDT&symbols=AVAXUSDT&symbols=DOTUSDT&symbols=LINKUSDT"
PATHS=(
  "/api/v1/risk/metrics?lookback_days=252&confidence=0.95"
  "/api/v1/correlation/matrix?$SYMS&lookback_days=252&method=pearson"
  "/api/v1/correlation/matrix?$SYMS&lookback_days=252&method=kendall"
)
for p in "${PATHS[@]}"; do
  curl -s -o /dev/null -w "first call: %{http_code} %{time_total}s $p\n" "$B$p" -H "$H"
done
for p in "${PATHS[@]}"; do
  echo "== GET $p"
  wrk -t2 -c32 -d"${SECONDS_EACH}s" --latency -H "$H" "$B$p" | grep -E "Requests/sec|^     50%|^     99%|Non-2xx|Socket"
done
kill -INT $PID; wait $PID
