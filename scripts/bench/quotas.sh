#!/usr/bin/env bash
# Cost of the per-request quota and burst check (issue 14): GET /api/v1/positions/spot with
# quotas on and off, in one run, alternating, on the same database.
#
# 1. starts `alphapulse serve` (quotas on) on its own throw-away data dir, loads the bench
#    fixture (scripts/bench/fixture.sql: 50 tenants x 1000 positions, enterprise plans with
#    2^31-1 calls a day, so the load stays under every limit: a 429 would be a cheaper answer
#    and flatter the "on" side; any non-2xx fails the run), mints one token per tenant;
# 2. starts a second server over the same database and key with ALPHAPULSE_QUOTAS=false;
# 3. wrk (BENCH_CONNECTIONS, BENCH_SECONDS) on each server in turn, BENCH_RUNS times
#    (on, off, on, off, ...), and prints the medians and the ratio on/off.
#
# Environment: BENCH_SECONDS (10), BENCH_RUNS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_SKIP_BUILD (0). Loopback only; the servers are stopped by their PIDs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=$ROOT/scripts/bench
DUR=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/alphapulse
HOST=127.0.0.1

log() { printf '[quotas %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE ALPHAPULSE_BIND \
    ALPHAPULSE_QUOTAS PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
for tool in wrk psql curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release -p alphapulse"
    cargo build --release -p alphapulse
fi
[[ -x $BIN ]] || die "$BIN missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/alphapulse-quotas.XXXXXX")
chmod 755 "$WORK"
DATA=$WORK/data
mkdir -p "$DATA"
chmod 755 "$DATA"
export ALPHAPULSE_DATA_DIR=$DATA ALPHAPULSE_LOG=warn ALPHAPULSE_METRICS_BIND=off
ON_PID= OFF_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in $OFF_PID $ON_PID; do # the "on" server owns the cluster: it stops last
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}
wait_ready() { # PID BASE
    for _ in $(seq 1 240); do
        kill -0 "$1" 2>/dev/null || die "a server exited during start-up"
        curl -sf -o /dev/null "$2/ready" && return 0
        sleep 0.5
    done
    die "a server did not become ready in 120 s"
}

ON_PORT=$(free_port)
"$BIN" serve --bind "$HOST:$ON_PORT" >"$WORK/on.log" 2>&1 &
ON_PID=$!
wait_ready "$ON_PID" "http://$HOST:$ON_PORT"
DB_URL=$("$BIN" db url)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DB_URL")
log "loading the fixture"
"${PSQL[@]}" -f "$HERE/fixture.sql" >/dev/null
TOKENS=$WORK/tokens.txt
"${PSQL[@]}" -At -c "SELECT user_id FROM bench_tenants ORDER BY n" \
    | xargs -P 4 -I{} "$BIN" token --user {} --ttl 3600 >"$TOKENS"
export BENCH_TOKENS_FILE=$TOKENS

OFF_PORT=$(free_port)
ALPHAPULSE_QUOTAS=false ALPHAPULSE_JWT_SECRET=$(cat "$DATA/jwt-secret") \
    ALPHAPULSE_CREDENTIALS_KEY=$(cat "$DATA/credentials-key") \
    "$BIN" serve --bind "$HOST:$OFF_PORT" --database-url "$DB_URL" >"$WORK/off.log" 2>&1 &
OFF_PID=$!
wait_ready "$OFF_PID" "http://$HOST:$OFF_PORT"

token=$(head -1 "$TOKENS")
for port in "$ON_PORT" "$OFF_PORT"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        "http://$HOST:$port/api/v1/positions/spot")
    [[ $code == 200 ]] || die "port $port answered $code"
done
curl -s -D - -o /dev/null -H "Authorization: Bearer $token" \
    "http://$HOST:$ON_PORT/api/v1/positions/spot" | grep -qi '^x-ratelimit-limit' \
    || die "the 'on' server sent no quota headers"

RESULTS=$WORK/results.tsv
: >"$RESULTS"
measure() { # KEY PORT
    local out=$WORK/wrk.out line
    wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 5s -s "$HERE/wrk_tokens.lua" \
        "http://$HOST:$2/api/v1/positions/spot" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    line=$(grep '^WRKRESULT' "$out") || die "no wrk result: $(cat "$out")"
    # shellcheck disable=SC2086
    local $(echo "${line#WRKRESULT }")
    local errors=$((connect + read + write + status + timeout))
    [[ $errors -eq 0 ]] || die "$1: $errors errors or non-2xx answers (a 429 would flatter 'on')"
    printf '%s\t%s\t%s\n' "$1" \
        "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.1f", r / (d / 1e6)}')" \
        "$(awk -v v="$p99_us" 'BEGIN{printf "%.2f", v / 1000}')" >>"$RESULTS"
    log "$1: $(tail -1 "$RESULTS" | cut -f2-) (req/s, p99 ms)"
}
log "warm-up"
DUR_SAVED=$DUR; DUR=3; measure warm "$ON_PORT"; measure warm "$OFF_PORT"; DUR=$DUR_SAVED
for run in $(seq 1 "$RUNS"); do
    measure on "$ON_PORT"
    measure off "$OFF_PORT"
done
median() { grep "^$1	" "$RESULTS" | cut -f"$2" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
on=$(median on 2); off=$(median off 2)
printf '\n| quotas | req/s (median of %s) | p99 ms (median) |\n|---|---|---|\n' "$RUNS"
printf '| on | %s | %s |\n| off | %s | %s |\n' "$on" "$(median on 3)" "$off" "$(median off 3)"
awk -v a="$on" -v b="$off" 'BEGIN{printf "\nratio on/off: %.3f (load average %s)\n", a / b, "'"$(cut -d' ' -f1-3 /proc/loadavg)"'"}'
