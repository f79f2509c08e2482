#!/bin/bash
# Throughput and latency of GET /api/v1/alerts and GET /api/v1/metrics/portfolio_value (issue
# 12) on the demo data plus 30 days of hourly snapshots and 200 alerts per tenant
# (ops_fixture.sql): release binary, loopback, wrk at 32 connections, 15 s each.
# Run from the workspace root after `cargo build --release -p alphapulse`.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/alphapulse}
DURATION=${DURATION:-15s}
DATA=$(mktemp -d)
chmod 755 "$DATA"
trap 'rm -rf "$DATA"' EXIT
export ALPHAPULSE_DATA_DIR=$DATA/data ALPHAPULSE_LOG=warn
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE
B=http://127.0.0.1:18084
$BIN serve --demo --bind 127.0.0.1:18084 > "$DATA/serve.out" 2> "$DATA/serve.err" &
PID=$!
until curl -sf $B/ready >/dev/null; do sleep 0.05; done
sleep 1  # let the server finish initialising the data dir before `db url` reads it
URL=$($BIN db url)
psql -q "$URL" -f "$HERE/ops_fixture.sql"
psql -Atq "$URL" -c "SELECT 'snapshots: ' || count(*) FROM portfolio_snapshots; SELECT 'alerts: ' || count(*) FROM alerts;"
TOKEN=$(curl -s -X POST $B/api/v1/auth/token -H 'Content-Type: application/json' -d '{"email":"viewer@acme-capital.demo","password":"demo-viewer-acme-capital"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
H="Authorization: Bearer $TOKEN"
START=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
for p in "/api/v1/alerts" "/api/v1/metrics/portfolio_value?interval=1h" "/api/v1/metrics/portfolio_value?interval=1h&start_time=$START"; do
  curl -s -o "$DATA/body" -w "$p: %{http_code} %{size_download} bytes\n" "$B$p" -H "$H"
  echo "== GET $p"
  wrk -t2 -c32 -d"$DURATION" --latency -H "$H" "$B$p" | grep -E "Requests/sec|^     50%|^     99%|Non-2xx|Socket"
done
kill -INT $PID; wait $PID
