#!/usr/bin/env bash
# The async read path per route (issue 16): each route with ALPHAPULSE_ASYNC_READS on and off,
# in one run, alternating, on the same demo database.
#
# 1. starts `alphapulse serve --demo` (async reads on) on its own throw-away data dir, raises
#    the demo tenants' daily quotas out of the way (ALPHAPULSE_BURST_SCALE=1000 for the burst
#    limit, as the harness does; any non-2xx fails the run) and mints a token for every demo
#    user;
# 2. starts a second server over the same database and key with ALPHAPULSE_ASYNC_READS=false;
# 3. for every route, wrk (BENCH_CONNECTIONS, BENCH_SECONDS, tokens of all demo users in
#    rotation) on each server in turn, BENCH_RUNS times (on, off, off, on, ...: the order
#    alternates per run), and prints per route the medians and the median of the per-run
#    ratios on/off.
# The routes: the ones the async path serves (positions spot/futures/metrics, hedge analysis,
# risk exposure, the alert list; portfolio and risk metrics when cached) and one it does not
# (GET /api/v1/risk/limits, a control: its ratio should stay near 1).
#
# Environment: BENCH_SECONDS (10), BENCH_RUNS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_SKIP_BUILD (0), BENCH_ROUTES (space-separated paths, default above), BENCH_BIN.
# Loopback only; the servers are stopped by their PIDs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=$ROOT/scripts/bench
DUR=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/alphapulse}
ROUTES=${BENCH_ROUTES:-/api/v1/positions/spot /api/v1/positions/futures /api/v1/positions/metrics /api/v1/hedging/analysis /api/v1/risk/exposure /api/v1/portfolio /api/v1/risk/metrics /api/v1/alerts /api/v1/risk/limits}
HOST=127.0.0.1

log() { printf '[async-routes %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE ALPHAPULSE_BIND \
    ALPHAPULSE_ASYNC_READS PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
for tool in wrk psql curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
for v in DUR RUNS CONNS THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release -p alphapulse"
    cargo build --release -p alphapulse
fi
[[ -x $BIN ]] || die "$BIN missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/alphapulse-async-routes.XXXXXX")
chmod 755 "$WORK"
DATA=$WORK/data
mkdir -p "$DATA"
chmod 755 "$DATA"
export ALPHAPULSE_DATA_DIR=$DATA ALPHAPULSE_LOG=warn ALPHAPULSE_METRICS_BIND=off \
    ALPHAPULSE_BURST_SCALE=${ALPHAPULSE_BURST_SCALE:-1000}
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
ALPHAPULSE_ASYNC_READS=true "$BIN" serve --demo --bind "$HOST:$ON_PORT" >"$WORK/on.log" 2>&1 &
ON_PID=$!
wait_ready "$ON_PID" "http://$HOST:$ON_PORT"
DB_URL=$("$BIN" db url)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DB_URL")
"${PSQL[@]}" -c "UPDATE tenants SET max_api_calls_per_day = 2000000000 WHERE slug <> 'platform'" >/dev/null
TOKENS=$WORK/tokens.txt
"${PSQL[@]}" -At -c "SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.email LIKE '%.demo' AND u.active ORDER BY u.email" \
    | xargs -P 4 -I{} "$BIN" token --user {} --ttl 3600 >"$TOKENS"
[[ $(grep -c . "$TOKENS") -gt 0 ]] || die "no demo tokens"
export BENCH_TOKENS_FILE=$TOKENS

OFF_PORT=$(free_port)
ALPHAPULSE_ASYNC_READS=false ALPHAPULSE_JWT_SECRET=$(cat "$DATA/jwt-secret") \
    ALPHAPULSE_CREDENTIALS_KEY=$(cat "$DATA/credentials-key") \
    "$BIN" serve --bind "$HOST:$OFF_PORT" --database-url "$DB_URL" >"$WORK/off.log" 2>&1 &
OFF_PID=$!
wait_ready "$OFF_PID" "http://$HOST:$OFF_PORT"

# Every route answers 200 on both servers with the same body for the first token (the
# blocking path's answer and the async one must agree), and every token warms its tenant's
# account cache (the async path serves cached paper accounts only).
token=$(head -1 "$TOKENS")
for path in $ROUTES; do
    for port in "$ON_PORT" "$OFF_PORT"; do
        while read -r t; do
            code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" \
                "http://$HOST:$port$path")
            [[ $code == 200 ]] || die "$path on port $port answered $code"
        done <"$TOKENS"
        # The time of the read (portfolio) and of the cached computation (risk metrics) are
        # each server's own.
        curl -sf -H "Authorization: Bearer $token" "http://$HOST:$port$path" \
            | sed -E 's/"(fetched_at|calculated_at)":"[^"]*"/"\1":"-"/g' >"$WORK/body_$port"
    done
    cmp -s "$WORK/body_$ON_PORT" "$WORK/body_$OFF_PORT" || die "$path: on and off answer differently"
    log "$path: 200 on both, same body ($(wc -c <"$WORK/body_$ON_PORT") bytes)"
done

RESULTS=$WORK/results.tsv # run route mode rps p99_ms
: >"$RESULTS"
measure() { # RUN PATH MODE PORT
    local out=$WORK/wrk.out line
    wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 5s -s "$HERE/wrk_tokens.lua" \
        "http://$HOST:$4$2" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    line=$(grep '^WRKRESULT' "$out") || die "no wrk result: $(cat "$out")"
    # shellcheck disable=SC2086
    local $(echo "${line#WRKRESULT }")
    local errors=$((connect + read + write + status + timeout))
    [[ $errors -eq 0 ]] || die "$2 ($3): $errors errors or non-2xx answers"
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
        "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.1f", r / (d / 1e6)}')" \
        "$(awk -v v="$p99_us" 'BEGIN{printf "%.2f", v / 1000}')" >>"$RESULTS"
    log "run $1 $2 $3: $(tail -1 "$RESULTS" | cut -f4-) (req/s, p99 ms)"
}
for run in $(seq 1 "$RUNS"); do
    for path in $ROUTES; do
        if ((run % 2)); then
            measure "$run" "$path" on "$ON_PORT"; measure "$run" "$path" off "$OFF_PORT"
        else
            measure "$run" "$path" off "$OFF_PORT"; measure "$run" "$path" on "$ON_PORT"
        fi
    done
done

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf '\n| route | async on req/s | off req/s | ratio on/off (per run) | p99 on / off ms |\n|---|---:|---:|---|---|\n'
for path in $ROUTES; do
    col() { awk -F'\t' -v p="$path" -v m="$1" -v c="$2" '$2 == p && $3 == m {print $c}' "$RESULTS" | median; }
    ratios=$(for run in $(seq 1 "$RUNS"); do
        awk -F'\t' -v p="$path" -v r="$run" '$1 == r && $2 == p {v[$3] = $4} END{printf "%.2f\n", v["on"] / v["off"]}' "$RESULTS"
    done)
    printf '| `GET %s` | %s | %s | **%s** (%s) | %s / %s |\n' "$path" "$(col on 4)" "$(col off 4)" \
        "$(echo "$ratios" | median)" "$(echo "$ratios" | paste -sd/)" "$(col on 5)" "$(col off 5)"
done
printf '\n%s runs of %s s, %s connections, %s demo tokens; load average %s\n' "$RUNS" "$DUR" \
    "$CONNS" "$(grep -c . "$TOKENS")" "$(cut -d' ' -f1-3 /proc/loadavg)"
