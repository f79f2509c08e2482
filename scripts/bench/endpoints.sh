#!/bin/bash
# Latency of the seed-000/001 endpoints on the demo data (release binary, loopback, 32
# connections, 10 s each): positions/spot, regime/current, hedging/analysis and ensemble
# predict. Run from the workspace root after `cargo build --release -p alphapulse`.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/alphapulse}
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
export ALPHAPULSE_DATA_DIR=$DATA/data ALPHAPULSE_LOG=warn
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE
B=http://127.0.0.1:18083
ALPHAPULSE_METRICS_BIND=127.0.0.1:0 $BIN serve --demo --bind 127.0.0.1:18083 > "$DATA/serve.out" 2> "$DATA/serve.err" &
PID=$!
until curl -sf $B/ready >/dev/null; do sleep 0.05; done
TOKEN=$(curl -s -X POST $B/api/v1/auth/token -H 'Content-Type: application/json' -d '{"email":"trader@acme-capital.demo","password":"demo-trader-acme-capital"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
H="Authorization: Bearer $TOKEN"
ENS=$(curl -s -X POST $B/api/v1/ensemble/create -H "$H" -H 'Content-Type: application/json' -d '{"name":"bench","method":"weighted_average"}' | sed 's/.*"ensemble_id":"\([^"]*\)".*/\1/')
for a in momentum meanrev sentiment; do curl -s -o /dev/null -w "register $a %{http_code}\n" -X POST $B/api/v1/ensemble/$ENS/register-agent -H "$H" -H 'Content-Type: application/json' -d "{\"agent_id\":\"$a\",\"agent_type\":\"technical\"}"; done
for p in /api/v1/regime/current /api/v1/positions/spot /api/v1/hedging/analysis; do curl -s -o /dev/null -w "$p first call: %{http_code} %{time_total}s\n" $B$p -H "$H"; done
for p in /api/v1/positions/spot /api/v1/regime/current /api/v1/hedging/analysis; do
  echo "== GET $p"
  wrk -t2 -c32 -d10s --latency -H "$H" $B$p | grep -E "Requests/sec|^     50%|^     99%|Non-2xx|Socket"
done
echo "== POST /api/v1/ensemble/{id}/predict"
wrk -t2 -c32 -d10s --latency -s "$HERE/predict.lua" -H "$H" $B/api/v1/ensemble/$ENS/predict | grep -E "Requests/sec|^     50%|^     99%|Non-2xx|Socket"
kill -INT $PID; wait $PID
