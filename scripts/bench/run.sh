#!/usr/bin/env bash
# Performance harness (issue 7): `just bench` = `bash scripts/bench/run.sh`.
#
# 1. builds the release binary and starts `alphapulse serve` on its own throw-away data dir
#    (the binary starts and stops its own local PostgreSQL cluster) on a free loopback port;
# 2. loads a scaled fixture (scripts/bench/fixture.sql: 50 tenants x 1000 positions) and
#    mints one token per tenant with `alphapulse token`;
# 3. closed loop with wrk (32 connections, BENCH_SECONDS) on GET /health and
#    GET /api/v1/positions/spot (tokens of all 50 tenants in rotation), then an open loop at
#    half the measured maximum with scripts/bench/openloop.rs (wrk2/oha are not packaged);
# 4. pgbench with the same database work at the same concurrency (the database's own limit);
# 5. RLS overhead: pgbench as the tenant role (RLS) vs the BYPASSRLS platform role with the
#    explicit tenant_id filter, and the API with RLS disabled on the bench's throw-away
#    cluster only (ALTER TABLE ... DISABLE ROW LEVEL SECURITY; no production switch);
# 6. prints one table and writes it to target/bench/report.md (median of BENCH_RUNS runs).
#
# Environment: BENCH_SECONDS (15) per measurement, BENCH_RUNS (1), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2: wrk threads and pgbench -j), BENCH_PREPARED (1: also pgbench -M prepared),
# BENCH_SKIP_BUILD (0), ALPHAPULSE_DB_POOL_SIZE (the server's default when unset),
# BENCH_DATASET (fixture; demo = `serve --demo` with the tokens of every demo user and one
# pgbench script per user, burst limit scaled by ALPHAPULSE_BURST_SCALE=1000), BENCH_SIMPLE
# (1: pgbench -M simple), BENCH_RLS_COMPARE (1: the no-RLS rows), BENCH_PERF (a file: perf
# record -g of the server during one extra closed loop, summary written there), BENCH_BIN
# (the binary; default $CARGO_TARGET_DIR/release/alphapulse). Server settings such as
# ALPHAPULSE_BLOCKING_THREADS are passed through.
# Loopback only; every tool runs for a bounded time; the server is stopped by its PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=$ROOT/scripts/bench
DUR=${BENCH_SECONDS:-15}
RUNS=${BENCH_RUNS:-1}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
PREPARED=${BENCH_PREPARED:-1}
SIMPLE=${BENCH_SIMPLE:-1}            # 0: skip pgbench -M simple
RLS_COMPARE=${BENCH_RLS_COMPARE:-1}  # 0: skip the no-RLS measurements (API and pgbench)
PERF_OUT=${BENCH_PERF:-}             # a path: perf record -g of the server during one extra closed loop
DATASET=${BENCH_DATASET:-fixture}    # fixture (50 tenants x 1000 positions) or demo (serve --demo, every demo user)
case $DATASET in
    fixture) ;;
    demo) RLS_COMPARE=0 ;;  # the no-RLS pgbench scripts exist for the fixture's ids only
    *) echo "BENCH_DATASET must be fixture or demo" >&2; exit 1 ;;
esac
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BENCH_BIN:-$TARGET_DIR/release/alphapulse}
OUT=$ROOT/target/bench
HOST=127.0.0.1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in DUR RUNS CONNS THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done

# The bench must run on its own cluster, whatever the caller's environment says.
unset ALPHAPULSE_DATABASE_URL ALPHAPULSE_JWT_SECRET ALPHAPULSE_JWT_KEYS_FILE ALPHAPULSE_BIND \
    ALPHAPULSE_JWT_ISSUER ALPHAPULSE_JWT_AUDIENCE PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing wrk (Debian package)"
        apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    fi
    command -v wrk >/dev/null || die "wrk not found: apt-get install wrk"
fi
for tool in psql curl rustc timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
PG_BIN=${ALPHAPULSE_PG_BIN_DIR:-}
if [[ -z $PG_BIN ]]; then
    if command -v pg_config >/dev/null && [[ -x $(pg_config --bindir)/pgbench ]]; then
        PG_BIN=$(pg_config --bindir)
    else
        PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
fi
PGBENCH=$PG_BIN/pgbench
[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench || true)
[[ -x $PGBENCH ]] || die "pgbench not found (PostgreSQL binaries: apt-get install postgresql)"

# --- build -------------------------------------------------------------------------------
mkdir -p "$OUT"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release -p alphapulse"
    cargo build --release -p alphapulse
fi
[[ -x $BIN ]] || die "$BIN missing (cargo build --release -p alphapulse)"
OPENLOOP=$OUT/openloop
if [[ ! -x $OPENLOOP || $HERE/openloop.rs -nt $OPENLOOP ]]; then
    log "rustc -O scripts/bench/openloop.rs"
    rustc -O --edition 2021 "$HERE/openloop.rs" -o "$OPENLOOP"
fi

# --- server on its own data dir -----------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/alphapulse-bench.XXXXXX")
# As root the cluster runs as `postgres`, which must reach the data dir (else the binary
# relocates the cluster outside WORK and this script could not clean it up).
chmod 755 "$WORK"
DATA=$WORK/data
mkdir -p "$DATA"
chmod 755 "$DATA"
export ALPHAPULSE_DATA_DIR=$DATA ALPHAPULSE_LOG=warn
SERVER_PID=
PGDATA_DIR=$DATA/pg/data

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        log "stopping the server (pid $SERVER_PID, SIGINT)"
        kill -INT "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "server still running after 30 s: SIGTERM"
            kill -TERM "$SERVER_PID" 2>/dev/null || true
            for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
        fi
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "server still running: SIGKILL"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    # A cluster the server failed to stop (killed above) is stopped by its data dir.
    if [[ -f $PGDATA_DIR/postmaster.pid ]]; then
        log "stopping the leftover cluster in $PGDATA_DIR"
        if [[ $(id -u) -eq 0 ]]; then
            runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
        else
            "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
        fi
    fi
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [[ $rc -ne 0 && -f $WORK/server.log ]]; then
        log "server log (last 20 lines):"; tail -20 "$WORK/server.log" >&2 || true
    fi
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
PORT=$(free_port) || die "no free port"
BASE=http://$HOST:$PORT
log "starting alphapulse serve on $HOST:$PORT (data dir $DATA)"
SERVE_ARGS=()
if [[ $DATASET == demo ]]; then
    # The demo's plans allow 20-500 req/s per tenant: the harness measures the request path,
    # so the burst limit is scaled out of the way (and the daily quotas raised below).
    SERVE_ARGS=(--demo)
    export ALPHAPULSE_BURST_SCALE=${ALPHAPULSE_BURST_SCALE:-1000}
fi
ALPHAPULSE_METRICS_BIND=127.0.0.1:0 "$BIN" serve --bind "$HOST:$PORT" "${SERVE_ARGS[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 240); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
    curl -sf -o /dev/null "$BASE/ready" && break
    [[ $i -lt 240 ]] || die "the server did not become ready in 120 s"
    sleep 0.5
done
DB_URL=$("$BIN" db url)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DB_URL")
PG_VERSION=$("${PSQL[@]}" -At -c "SHOW server_version")
IS_SUPER=$("${PSQL[@]}" -At -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
POOL_SIZE=${ALPHAPULSE_DB_POOL_SIZE:-$((2 * $(nproc) + 4)) (default)}

# --- fixture and tokens -------------------------------------------------------------------
TOKENS=$WORK/tokens.txt
if [[ $DATASET == demo ]]; then
FIXTURE_S=0
# Every active user of the demo tenants (admin, trader, viewer of each), out of the daily quota.
"${PSQL[@]}" -c "UPDATE tenants SET max_api_calls_per_day = 2000000000 WHERE slug <> 'platform'" >/dev/null
"${PSQL[@]}" -At -F ' ' -c "SELECT u.id, u.tenant_id FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.email LIKE '%.demo' AND u.active ORDER BY u.email" >"$WORK/demo_users.txt"
DEMO_USERS=$(grep -c . "$WORK/demo_users.txt")
[[ $DEMO_USERS -gt 0 ]] || die "no demo users"
cut -d' ' -f1 "$WORK/demo_users.txt" | xargs -P 4 -I{} "$BIN" token --user {} --ttl 3600 >"$TOKENS"
[[ $(grep -c . "$TOKENS") -eq $DEMO_USERS ]] || die "expected $DEMO_USERS tokens"
# pgbench: the same transaction per demo user (one script each, picked at random per transaction).
i=0
while read -r uid tid; do
    i=$((i + 1))
    for base in spot_rls spot_rls_prepared; do
        grep -v -e '^\\set' -e '^--' "$HERE/$base.sql" | sed \
            -e "s/'00000000-0000-4000-8000-0000000000' || :t/'$tid'/g" \
            -e "s/'00000000-0000-4000-9000-0000000000' || :t/'$uid'/g" \
            -e "s/'00000000-0000-4000-8000-0000000000:t'/'$tid'/g" \
            -e "s/'00000000-0000-4000-9000-0000000000:t'/'$uid'/g" >"$WORK/${base}_demo_$i.sql"
        ! grep -q ':t' "$WORK/${base}_demo_$i.sql" || die "unsubstituted :t in ${base}_demo_$i.sql"
    done
done <"$WORK/demo_users.txt"
EXPLAIN_TID=$(head -1 "$WORK/demo_users.txt" | cut -d' ' -f2)
else
EXPLAIN_TID=00000000-0000-4000-8000-000000000033
log "loading the fixture (50 tenants x 1000 positions)"
t0=$(date +%s.%N)
"${PSQL[@]}" -f "$HERE/fixture.sql" >"$WORK/fixture.out"
"${PSQL[@]}" -c "CREATE TABLE bench_rls_tables AS SELECT c.oid::regclass::text AS t FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity"
FIXTURE_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
log "fixture loaded in ${FIXTURE_S} s: $(tail -3 "$WORK/fixture.out" | head -1 | tr -s ' ')"

"${PSQL[@]}" -At -c "SELECT user_id FROM bench_tenants ORDER BY n" \
    | xargs -P 4 -I{} "$BIN" token --user {} --ttl 3600 >"$TOKENS"
[[ $(grep -c . "$TOKENS") -eq 50 ]] || die "expected 50 tokens, got $(grep -c . "$TOKENS")"
fi
export BENCH_TOKENS_FILE=$TOKENS

# One answer must be a 200 with the 20 spot positions.
SAMPLE=$WORK/sample.json
code=$(curl -s -o "$SAMPLE" -w '%{http_code}' -H "Authorization: Bearer $(head -1 "$TOKENS")" \
    "$BASE/api/v1/positions/spot")
[[ $code == 200 ]] || die "GET /api/v1/positions/spot answered $code: $(head -c 300 "$SAMPLE")"
ROWS=$(grep -o '"symbol"' "$SAMPLE" | wc -l)
if [[ $DATASET == demo ]]; then
    [[ $ROWS -gt 0 ]] || die "expected spot positions, got none"
else
    [[ $ROWS -eq 20 ]] || die "expected 20 spot positions, got $ROWS"
fi
log "GET /api/v1/positions/spot: 200, $ROWS positions, $(wc -c <"$SAMPLE") bytes"

# --- measurement helpers --------------------------------------------------------------------
RESULTS=$WORK/results.tsv   # run key rps p50_ms p99_ms max_ms errors
: >"$RESULTS"
CLK_TCK=$(getconf CLK_TCK)

proc_ticks() { # utime+stime of the given pids (all their threads)
    local sum=0 p f
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] || continue
        f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a a <<<"$f"
        sum=$((sum + a[11] + a[12]))
    done
    echo "$sum"
}
pg_pids() {
    local pm
    pm=$(head -1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm"; ps -o pid= --ppid "$pm" 2>/dev/null || true
}
machine_busy() { # busy and total jiffies of all CPUs
    awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat
}

# wrk closed loop: wrk_run KEY PATH SECONDS [record]
wrk_run() {
    local key=$1 path=$2 secs=$3 record=${4:-1} out line
    out=$WORK/wrk_$key.out
    timeout $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s \
        -s "$HERE/wrk_tokens.lua" "$BASE$path" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    [[ $record == 1 ]] || return 0
    line=$(grep '^WRKRESULT' "$out") || die "no wrk result: $(cat "$out")"
    # shellcheck disable=SC2086
    local $(echo "${line#WRKRESULT }")
    local errors=$((connect + read + write + status + timeout))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$RUN" "$key" \
        "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.1f", r / (d / 1e6)}')" \
        "$(awk -v v="$p50_us" 'BEGIN{printf "%.2f", v / 1000}')" \
        "$(awk -v v="$p99_us" 'BEGIN{printf "%.2f", v / 1000}')" \
        "$(awk -v v="$max_us" 'BEGIN{printf "%.2f", v / 1000}')" \
        "$errors" >>"$RESULTS"
    log "$key: $(tail -1 "$RESULTS" | cut -f3-)"
}

# API closed loop on the spot endpoint with the CPU split recorded.
spot_closed() {
    local key=$1 s0 p0 m0 s1 p1 m1
    s0=$(proc_ticks "$SERVER_PID"); p0=$(proc_ticks $(pg_pids)); m0=$(machine_busy)
    wrk_run "$key" /api/v1/positions/spot "$DUR"
    s1=$(proc_ticks "$SERVER_PID"); p1=$(proc_ticks $(pg_pids)); m1=$(machine_busy)
    awk -v run="$RUN" -v key="cpu_$key" -v s="$((s1 - s0))" -v p="$((p1 - p0))" \
        -v hz="$CLK_TCK" -v d="$DUR" -v m0="$m0" -v m1="$m1" 'BEGIN{
            split(m0, a, " "); split(m1, b, " "); n = '"$(nproc)"';
            busy = (b[1] - a[1]) / (b[2] - a[2]) * n;
            printf "%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t0\n", run, key, s / hz / d, p / hz / d, busy, busy - s / hz / d - p / hz / d
        }' >>"$RESULTS"
}

# Open loop at a fixed rate: open_run KEY PATH RATE
open_run() {
    local key=$1 path=$2 rate=$3 out line
    out=$WORK/open_$key.out
    timeout $((DUR + 40)) "$OPENLOOP" --addr "$HOST:$PORT" --path "$path" --tokens "$TOKENS" \
        --rate "$rate" --duration "$DUR" --connections "$CONNS" --grace 10 >"$out" 2>&1 \
        || die "openloop failed: $(cat "$out")"
    line=$(tail -1 "$out")
    # shellcheck disable=SC2086
    local $line
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$RUN" "$key" "$rps" "$(printf %.2f "$p50_ms")" \
        "$(printf %.2f "$p99_ms")" "$(printf %.2f "$max_ms")" \
        "$((non2xx + socket_errors + unsent))" >>"$RESULTS"
    echo "$rate" >"$WORK/open_rate_$RUN"
    log "$key at $rate req/s: $(tail -1 "$RESULTS" | cut -f3-)"
}

# pgbench -f arguments for SCRIPT: the file itself, or its per-user copies (demo dataset).
pg_scripts() {
    if [[ $DATASET == demo ]]; then
        local f
        for f in "$WORK/${1%.sql}"_demo_*.sql; do printf -- '-f %s ' "$f"; done
    else
        printf -- '-f %s' "$HERE/$1"
    fi
}

# pgbench: pg_run KEY SCRIPT MODE
pg_run() {
    local key=$1 script=$2 mode=$3 out prefix tps failed lat
    out=$WORK/pgbench_$key.out
    prefix=$WORK/pgblog_$key
    rm -f "$prefix".*
    timeout $((DUR + 60)) "$PGBENCH" -n -c "$CONNS" -j "$THREADS" -T "$DUR" -M "$mode" \
        $(pg_scripts "$script") -l --log-prefix="$prefix" "$DB_URL" >"$out" 2>&1 \
        || die "pgbench $key failed: $(tail -20 "$out")"
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
    [[ -n $tps ]] || die "no tps in pgbench output: $(cat "$out")"
    # Per-transaction log: field 3 is the latency in microseconds.
    lat=$(cat "$prefix".* | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n | awk '
        {v[NR] = $1} END {
            if (NR == 0) { print "nan nan nan"; exit }
            i50 = int(0.50 * (NR - 1) + 0.5) + 1; i99 = int(0.99 * (NR - 1) + 0.5) + 1;
            printf "%.2f %.2f %.2f", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }')
    rm -f "$prefix".*
    read -r p50 p99 mx <<<"$lat"
    printf '%s\t%s\t%.1f\t%s\t%s\t%s\t%s\n' "$RUN" "$key" "$tps" "$p50" "$p99" "$mx" "${failed:-0}" >>"$RESULTS"
    log "$key: $(tail -1 "$RESULTS" | cut -f3-)"
}

rls_off() {
    "${PSQL[@]}" -c "SET lock_timeout = '10s'" -c "DO \$\$ DECLARE r record; BEGIN
        FOR r IN SELECT t FROM bench_rls_tables LOOP
            EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.t); END LOOP; END \$\$"
}
rls_on() {
    "${PSQL[@]}" -c "SET lock_timeout = '10s'" -c "DO \$\$ DECLARE r record; BEGIN
        FOR r IN SELECT t FROM bench_rls_tables LOOP
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.t); END LOOP; END \$\$"
}
api_norls() {
    rls_off
    wrk_run warm_norls /api/v1/positions/spot 2 0
    spot_closed spot_norls
    rls_on
    wrk_run warm_rls /api/v1/positions/spot 2 0
}

# --- what one request does in the database (statement log of two requests) ----------------
trace_request() {
    local pglog=$DATA/pg/postgres.log tok off1 off2 off3
    TRACE=$WORK/trace.txt
    : >"$TRACE"
    if [[ $IS_SUPER != t || ! -r $pglog ]]; then
        echo "(not traced: the owner is not a superuser or the cluster log is not readable)" >"$TRACE"
        return 0
    fi
    tok=$(sed -n 2p "$TOKENS")
    "${PSQL[@]}" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    # Let every pooled connection see the reload, then wait out short-lived caches (the
    # router's per-tenant account cache is 5 s in the current code) for a "cold" request.
    wrk_run warm_trace /api/v1/positions/spot 1 0
    sleep 6
    off1=$(stat -c %s "$pglog")
    curl -sf -o /dev/null -H "Authorization: Bearer $tok" "$BASE/api/v1/positions/spot"
    sleep 0.5
    off2=$(stat -c %s "$pglog")
    curl -sf -o /dev/null -H "Authorization: Bearer $tok" "$BASE/api/v1/positions/spot"
    sleep 0.5
    off3=$(stat -c %s "$pglog")
    "${PSQL[@]}" -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
    summarize() { # log excerpt -> numbered statements (simple queries and extended executes)
        grep -E 'duration: [0-9.]+ ms  (statement|execute [^:]*):' | sed -E 's/^.*duration: ([0-9.]+ ms)  /\1  /' \
            | cut -c1-220 | awk '{printf "  %d. %s\n", NR, $0}'
    }
    {
        echo "first request for a tenant after > 5 s idle:"
        tail -c +"$((off1 + 1))" "$pglog" | head -c "$((off2 - off1))" | summarize
        echo "the same request again at once:"
        tail -c +"$((off2 + 1))" "$pglog" | head -c "$((off3 - off2))" | summarize
    } >"$TRACE"
}

# --- the spot query's plan and its planning vs execution time (tenant 33) --------------------
explain_query() {
    local q tid=$EXPLAIN_TID
    q=$(grep '^SELECT symbol' "$HERE/spot_rls.sql" | sed "s/00000000-0000-4000-8000-0000000000:t/$tid/g; s/;\$//")
    EXPLAIN=$WORK/explain.txt
    {
        echo "As alphapulse_tenant (RLS policies applied), second execution in the transaction:"
        "${PSQL[@]}" <<SQL
\\o /dev/null
BEGIN;
SELECT set_config('role', 'alphapulse_tenant', true), set_config('app.current_tenant_id', '$tid', true);
EXPLAIN (ANALYZE) $q;
\\o
EXPLAIN (ANALYZE, BUFFERS) $q;
COMMIT;
SQL
        echo "As alphapulse_platform (BYPASSRLS, explicit tenant_id filter only), second execution:"
        "${PSQL[@]}" <<SQL | grep -E 'Planning Time|Execution Time'
\\o /dev/null
BEGIN;
SELECT set_config('role', 'alphapulse_platform', true);
EXPLAIN (ANALYZE) $q;
\\o
EXPLAIN (ANALYZE, BUFFERS) $q;
COMMIT;
SQL
    } >"$EXPLAIN" 2>&1 || true
}

# --- runs -------------------------------------------------------------------------------------
log "warm-up (3 s)"
wrk_run warmup /api/v1/positions/spot 3 0
trace_request
explain_query
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for RUN in $(seq 1 "$RUNS"); do
    log "run $RUN/$RUNS (${DUR} s per measurement)"
    wrk_run health /health "$DUR"
    # Alternate the order of the RLS / no-RLS pairs between runs (drift cancels out).
    if [[ $RLS_COMPARE != 1 ]]; then
        spot_closed spot
    elif ((RUN % 2 == 1)); then
        spot_closed spot; api_norls
    else
        api_norls; spot_closed spot
    fi
    max=$(awk -v r="$RUN" '$1 == r && $2 == "spot" {print $3}' "$RESULTS")
    rate=$(awk -v m="$max" 'BEGIN{r = int(m / 2); print (r < 1 ? 1 : r)}')
    open_run spot_open /api/v1/positions/spot "$rate"
    if [[ $SIMPLE != 1 ]]; then
        :
    elif [[ $RLS_COMPARE != 1 ]]; then
        pg_run pg_rls spot_rls.sql simple
    elif ((RUN % 2 == 1)); then
        pg_run pg_rls spot_rls.sql simple; pg_run pg_norls spot_norls.sql simple
    else
        pg_run pg_norls spot_norls.sql simple; pg_run pg_rls spot_rls.sql simple
    fi
    if [[ $PREPARED == 1 ]]; then
        if [[ $RLS_COMPARE != 1 ]]; then
            pg_run pg_rls_prep spot_rls_prepared.sql prepared
        elif ((RUN % 2 == 1)); then
            pg_run pg_rls_prep spot_rls_prepared.sql prepared; pg_run pg_norls_prep spot_norls_prepared.sql prepared
        else
            pg_run pg_norls_prep spot_norls_prepared.sql prepared; pg_run pg_rls_prep spot_rls_prepared.sql prepared
        fi
    fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n $PERF_OUT ]]; then
    # One more closed loop (not in the table) with the server sampled by perf.
    command -v perf >/dev/null || die "BENCH_PERF set but perf is not installed"
    log "perf record -g of the server during a ${DUR} s closed loop -> $PERF_OUT"
    perf record -F 499 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep "$DUR" >/dev/null 2>&1 &
    PERF_PID=$!
    wrk_run perf_spot /api/v1/positions/spot "$DUR" 0
    wait "$PERF_PID" || true
    (
        set +o pipefail  # head closes the pipe early
        echo "# perf report --no-children --sort dso,sym (server, ${DUR} s closed loop, c=$CONNS)"
        perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -60
        echo
        echo "# kernel vs user samples"
        perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -12
        echo
        echo "# samples by thread name"
        perf report -i "$WORK/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -12
        echo
        echo "# callers of finish_task_switch (where the threads slept)"
        perf report -i "$WORK/perf.data" --no-children --stdio -G -S finish_task_switch.isra.0 \
            --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
    ) >"$PERF_OUT"
fi
SERVER_RSS=$(ps -o rss= -p "$SERVER_PID" | tr -d ' ')

# --- report -------------------------------------------------------------------------------------
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v k="$1" -v c="$2" '$2 == k {print $c}' "$RESULTS" | median; }
has() { awk -v k="$1" '$2 == k {f = 1} END {exit !f}' "$RESULTS"; }
ratio_median() { # median over runs of key1.rps / key2.rps
    awk -v a="$1" -v b="$2" '$2 == a {x[$1] = $3} $2 == b {y[$1] = $3}
        END {for (r in x) if (r in y && y[r] > 0) printf "%.4f\n", x[r] / y[r]}' "$RESULTS" | median
}
pct() { awk -v v="$1" 'BEGIN{ if (v == "nan" || v == "") print "n/a"; else printf "%.1f%%", v * 100 }'; }
verdict() { if awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN{exit !((op == ">=") ? v >= t : v <= t)}'; then echo met; else echo "NOT met"; fi; }

label() {
    case $1 in
        health) echo "GET /health, closed loop c=$CONNS" ;;
        spot) echo "GET /api/v1/positions/spot, closed loop c=$CONNS (RLS)" ;;
        spot_open) echo "GET /api/v1/positions/spot, open loop at half max (~$(median <<<"$(cat "$WORK"/open_rate_*)") req/s)" ;;
        spot_norls) echo "GET /api/v1/positions/spot, closed loop, RLS disabled (bench cluster only)" ;;
        pg_rls) echo "pgbench -M simple, tenant role + RLS, c=$CONNS" ;;
        pg_norls) echo "pgbench -M simple, BYPASSRLS role + WHERE tenant_id only" ;;
        pg_rls_prep) echo "pgbench -M prepared, tenant role + RLS" ;;
        pg_norls_prep) echo "pgbench -M prepared, BYPASSRLS role + WHERE tenant_id only" ;;
    esac
}

API_PG=$(ratio_median spot pg_rls)
API_PG_PREP=$(has pg_rls_prep && ratio_median spot pg_rls_prep || echo nan)
API_RLS=$(ratio_median spot spot_norls)
PG_RLS=$(ratio_median pg_rls pg_norls)
PG_RLS_PREP=$(has pg_rls_prep && ratio_median pg_rls_prep pg_norls_prep || echo nan)
OPEN_P99=$(col spot_open 5)
OPEN_ERR=$(col spot_open 7)
overhead() { awk -v v="$1" 'BEGIN{ if (v == "nan" || v == "") print "n/a"; else printf "%.1f%%", (1 - v) * 100 }'; }

REPORT=$OUT/report.md
{
    echo "# AlphaPulse performance harness (\`just bench\`)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && echo ' + uncommitted changes')."
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load average before/after: $LOAD_BEFORE / $LOAD_AFTER;"
    echo "PostgreSQL $PG_VERSION (the binary's local cluster, loopback TCP); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $("$PGBENCH" --version)."
    echo "Server: release build, ALPHAPULSE_LOG=warn, pool size $POOL_SIZE; RSS after the runs $((${SERVER_RSS:-0} / 1024)) MiB."
    echo "Load: $CONNS connections, $THREADS wrk threads / pgbench -j $THREADS, $DUR s per measurement, $RUNS run(s) (figures are medians per column; ratios are medians of per-run ratios)."
    echo "Closed loop: wrk + scripts/bench/wrk_tokens.lua; open loop: scripts/bench/openloop.rs (wrk2 and oha are not Debian packages), latency from each request's due time."
    if [[ $DATASET == demo ]]; then
    echo "Data: \`serve --demo\` (burst limit x${ALPHAPULSE_BURST_SCALE}, daily quotas raised); tokens of all $DEMO_USERS demo users in rotation; pgbench runs one script per demo user (its tenant and user ids inlined); the answer has $ROWS positions ($(wc -c <"$SAMPLE") bytes)."
    else
    echo "Fixture (loaded in ${FIXTURE_S} s): 50 tenants x (1 admin, 1 paper account, 20 spot + 980 futures positions), 20 symbols x 30 daily candles; tokens of all 50 tenants in rotation; the answer has $ROWS positions ($(wc -c <"$SAMPLE") bytes)."
    fi
    echo "Server settings: ALPHAPULSE_HTTP_WORKERS=${ALPHAPULSE_HTTP_WORKERS:-default} ALPHAPULSE_BLOCKING_THREADS=${ALPHAPULSE_BLOCKING_THREADS:-default} ALPHAPULSE_DB_POOL_SIZE=${ALPHAPULSE_DB_POOL_SIZE:-default}; binary $BIN."
    echo
    echo "| what | req/s (tx/s) | p50 ms | p99 ms | max ms | errors |"
    echo "|---|---:|---:|---:|---:|---:|"
    for key in health spot spot_open spot_norls pg_rls pg_norls pg_rls_prep pg_norls_prep; do
        has "$key" || continue
        printf '| %s | %s | %s | %s | %s | %s |\n' "$(label "$key")" "$(col "$key" 3)" "$(col "$key" 4)" \
            "$(col "$key" 5)" "$(col "$key" 6)" "$(col "$key" 7)"
    done
    echo
    echo "| ratio | value | target | verdict |"
    echo "|---|---:|---:|---|"
    has pg_rls && echo "| API / pgbench -M simple (BEGIN+settings batch, SELECT, COMMIT: the round trips of TenantScope; SELECT planned every time), closed loop c=$CONNS | $(pct "$API_PG") | >= 50% | $(verdict "$API_PG" 0.5 '>=') |"
    [[ $API_PG_PREP == nan ]] || echo "| API / pgbench -M prepared (plans cached, BEGIN separate: the database's best here) | $(pct "$API_PG_PREP") | >= 75% (issue 16) | $(verdict "$API_PG_PREP" 0.75 '>=') |"
    echo "| open loop at half max: p99 / errors | $OPEN_P99 ms / $OPEN_ERR | <= 5 ms / 0 (issue 16) | $( [[ $(verdict "$OPEN_P99" 5 '<=') == met && $OPEN_ERR == 0 ]] && echo met || echo 'NOT met') |"
    has spot_norls && echo "| API RLS / no-RLS (overhead) | $(pct "$API_RLS") ($(overhead "$API_RLS")) | overhead <= 10% | $(verdict "$API_RLS" 0.9 '>=') |"
    has pg_norls && echo "| pgbench -M simple RLS / no-RLS (overhead) | $(pct "$PG_RLS") ($(overhead "$PG_RLS")) | (database only) | |"
    [[ $PG_RLS_PREP == nan ]] || echo "| pgbench -M prepared RLS / no-RLS (overhead) | $(pct "$PG_RLS_PREP") ($(overhead "$PG_RLS_PREP")) | (database only) | |"
    echo
    echo "CPU during the closed loop on the spot endpoint (cores of $(nproc), median): server $(col cpu_spot 3),"
    echo "PostgreSQL $(col cpu_spot 4), whole machine $(col cpu_spot 5) (load generator and everything else: $(col cpu_spot 6))."
    echo "Without RLS: server $(col cpu_spot_norls 3), PostgreSQL $(col cpu_spot_norls 4)."
    echo
    echo "Statements one \`GET /api/v1/positions/spot\` sends (log_min_duration_statement = 0; each line is one statement; the blocking path sends each in its own round trip, the async read (\`BEGIN READ ONLY\`) its three in one write once the connection has prepared the query):"
    echo
    echo '```'
    cat "$WORK/trace.txt"
    echo '```'
    echo
    echo "EXPLAIN ANALYZE of the spot query (planning is paid on every execution of an unnamed or simple-protocol statement; the trace above shows how the API sends it):"
    echo
    echo '```'
    cat "$WORK/explain.txt"
    echo '```'
    echo
    echo "Per run (run, row, req/s, p50, p99, max, errors; cpu_* rows: server, PostgreSQL, machine, other cores):"
    echo
    echo '```'
    cat "$RESULTS"
    echo '```'
} >"$REPORT"
cat "$REPORT"
log "report written to ${REPORT#"$ROOT"/}"
