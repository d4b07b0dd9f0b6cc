#!/usr/bin/env bash
# Build tickhub, start `tickhub waha-sim` + `tickhub serve` on a fresh database, create the bench
# admin, wait for /readyz, run `loadtest` with the given arguments, stop everything.
#
#   DB=sqlite   loadtest/run.sh --agents 50 --rate 2000 --seconds 10
#   DB=postgres loadtest/run.sh --rate 5000 --json-out results.jsonl --label pg-5k
#   TICKHUB_SEND_RATE=5000 DB=sqlite loadtest/run.sh --bot --rate 1000   # a bot answers every message
#   SEED_FROM=/tmp/seeded.db loadtest/run.sh queries          # the inbox's reads on a seeded database
#   DB=postgres loadtest/run.sh import --rows 100000          # a contact CSV import; the hub's peak RSS
#   DB=postgres loadtest/run.sh campaign    # plan a 100,000-recipient campaign, then its CPU per message
#                                           # (loadtest/campaign_bench.sh: CONTACTS, SEND_SECONDS, IDLE_SECONDS)
#
# Knobs (environment):
#   DB=sqlite|postgres   database (default sqlite: a fresh file in a temp dir)
#   DATABASE_URL         postgres only; default: drop + create `tickhub_bench` on 127.0.0.1:5432 as
#                        user postgres (trust auth) with psql. When set, it is used as is.
#   BENCH_DB             postgres only: the database re-created for the run (default tickhub_bench;
#                        another name lets runs of two checkouts share the server)
#   SEED_FROM            start from a database `loadtest seed` filled instead of an empty one: for
#                        sqlite the file (copied for the run), for postgres a database name (the run's
#                        `tickhub_bench` is created from it as TEMPLATE). The seed made the bench admin.
#                        The seeded original is left as it was.
#   HMAC_KEY             sets WAHA_WEBHOOK_HMAC_KEY on the hub and passes --hmac-key to loadtest
#   BENCH_PORT (8091)  SIM_PORT (3999)  RUST_LOG (warn)
#   SKIP_BUILD=1         do not run cargo build
#   TICKHUB_BIN          hub binary (default $CARGO_TARGET_DIR or target, then release/tickhub)
#   KEEP_LOGS=DIR        copy the hub and simulator logs there at the end (and, with CALLGRIND=1,
#                        each phase's callgrind dump, for callgrind_annotate)
#   TICKHUB_SECRET_KEY   the hub's key for secrets at rest (default: a throwaway one per run;
#                        `--hook-sink` stores its subscription's secret with it)
#   REPORT_CPU=1         print the CPU seconds the run's load cost: the hub, PostgreSQL's processes
#                        (DB=postgres) and the driver (with its --hook-sink, if any)
#   CALLGRIND=1          `campaign` only: run the hub under valgrind's callgrind and count the
#                        instructions of each phase (deterministic, unlike its CPU time)
#   TICKHUB_SEND_RATE    the hub's sends per second per session (its default, 5, is far below a
#                        bot answering 1,000 webhooks/s: a --bot run at that rate sets e.g. 5000)
# loadtest always gets --sim-url (the simulator started here), which --bot needs.
# Exit status: loadtest's (0 pass, 1 a check failed, 2 its setup failed); 3 when this script's
# own setup failed (build, ports busy, database, create-admin, /readyz).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DB="${DB:-sqlite}"
BENCH_PORT="${BENCH_PORT:-8091}"
SIM_PORT="${SIM_PORT:-3999}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TICKHUB_BIN="${TICKHUB_BIN:-$TARGET_DIR/release/tickhub}"
LOADTEST_BIN="$TARGET_DIR/release/loadtest"
ADMIN_EMAIL="bench@acme.test"
ADMIN_PASSWORD="s3cret-Passw0rd"

die() { echo "run.sh: $*" >&2; exit 3; }

TMP="$(mktemp -d /tmp/tickhub-loadtest.XXXXXX)"
SIM_PID=""
HUB_PID=""

cleanup() {
    local rc=$?
    for pid in "$HUB_PID" "$SIM_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in "$HUB_PID" "$SIM_PID"; do
        [[ -n "$pid" ]] || continue
        for _ in $(seq 1 50); do # up to 5 s, then SIGKILL
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_LOGS:-}" ]]; then
        mkdir -p "$KEEP_LOGS" && cp "$TMP"/*.log "$KEEP_LOGS"/ 2>/dev/null || true
        cp "$TMP"/callgrind.out.* "$KEEP_LOGS"/ 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
    echo "---- last lines of $1" >&2
    tail -n 30 "$TMP/$1" >&2 || true
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$DB" in sqlite | postgres) ;; *) die "DB must be sqlite or postgres (got '$DB')" ;; esac

# ---------------------------------------------------------------- build
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --workspace || die "cargo build failed"
fi
[[ -x "$TICKHUB_BIN" ]] || die "no hub binary at $TICKHUB_BIN"
[[ -x "$LOADTEST_BIN" ]] || die "no loadtest binary at $LOADTEST_BIN"

port_busy "$BENCH_PORT" && die "127.0.0.1:$BENCH_PORT is already in use"
port_busy "$SIM_PORT" && die "127.0.0.1:$SIM_PORT is already in use"

# ---------------------------------------------------------------- database
case "$DB" in
sqlite)
    export DATABASE_URL="sqlite://$TMP/bench.db"
    if [[ -n "${SEED_FROM:-}" ]]; then
        [[ -f "$SEED_FROM" ]] || die "SEED_FROM=$SEED_FROM is no file"
        cp "$SEED_FROM" "$TMP/bench.db" || die "copying $SEED_FROM failed"
    fi
    ;;
postgres)
    if [[ -z "${DATABASE_URL:-}" ]]; then
        PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -q)
        BENCH_DB="${BENCH_DB:-tickhub_bench}"
        [[ "$BENCH_DB" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"
        "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" \
            || die "cannot reach PostgreSQL on 127.0.0.1:5432 as postgres"
        template=""
        [[ -n "${SEED_FROM:-}" ]] && template=" TEMPLATE \"$SEED_FROM\""
        "${PSQL[@]}" -c "CREATE DATABASE $BENCH_DB$template" || die "CREATE DATABASE $BENCH_DB$template failed"
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$BENCH_DB"
    fi
    ;;
*) die "DB must be sqlite or postgres (got '$DB')" ;;
esac

export TICKHUB_BIND="127.0.0.1:$BENCH_PORT"
export WAHA_URL="http://127.0.0.1:$SIM_PORT"
export RUST_LOG="${RUST_LOG:-warn}"
# --hook-sink stores a webhook secret, which needs a key: a throwaway one unless given.
export TICKHUB_SECRET_KEY="${TICKHUB_SECRET_KEY:-$(head -c 32 /dev/urandom | base64)}"
unset REDIS_URL
if [[ -n "${HMAC_KEY:-}" ]]; then
    export WAHA_WEBHOOK_HMAC_KEY="$HMAC_KEY"
else
    unset WAHA_WEBHOOK_HMAC_KEY
fi
if [[ "${1:-}" == campaign ]]; then
    # A campaign sends at most 600 a minute, and never faster than its session.
    TICKHUB_SEND_RATE="${TICKHUB_SEND_RATE:-10}"
fi
if [[ -n "${TICKHUB_SEND_RATE:-}" ]]; then
    export TICKHUB_SEND_RATE
fi
echo "run.sh: DB=$DB DATABASE_URL=$DATABASE_URL SEED_FROM=${SEED_FROM:-(empty database)} hub=$TICKHUB_BIND sim=$WAHA_URL" \
    "TICKHUB_SEND_RATE=${TICKHUB_SEND_RATE:-(default)}" >&2
for arg in "$@"; do
    if [[ "$arg" == --bot && -z "${TICKHUB_SEND_RATE:-}" ]]; then
        echo "run.sh: warning: --bot without TICKHUB_SEND_RATE: replies leave at the hub's default rate" >&2
    fi
done

# ---------------------------------------------------------------- simulator, schema, admin, hub
"$TICKHUB_BIN" waha-sim --listen "127.0.0.1:$SIM_PORT" >"$TMP/waha-sim.log" 2>&1 &
SIM_PID=$!

"$TICKHUB_BIN" migrate >"$TMP/migrate.log" 2>&1 || { show_log migrate.log; die "tickhub migrate failed"; }
if [[ -z "${SEED_FROM:-}" ]]; then
    "$TICKHUB_BIN" create-admin --email "$ADMIN_EMAIL" --name Bench --password "$ADMIN_PASSWORD" \
        >"$TMP/create-admin.log" 2>&1 || { show_log create-admin.log; die "tickhub create-admin failed"; }
fi

READY_TENTHS=300 # 30 s
if [[ -n "${CALLGRIND:-}" ]]; then
    command -v callgrind_control >/dev/null || die "CALLGRIND=1 needs valgrind"
    # Counting starts at each phase of the benchmark (`callgrind_control --zero`).
    valgrind --tool=callgrind --callgrind-out-file="$TMP/callgrind.out" \
        "$TICKHUB_BIN" serve >"$TMP/serve.log" 2>&1 &
    READY_TENTHS=3000
else
    "$TICKHUB_BIN" serve >"$TMP/serve.log" 2>&1 &
fi
HUB_PID=$!

ready=0
for _ in $(seq 1 "$READY_TENTHS"); do
    if ! kill -0 "$HUB_PID" 2>/dev/null; then
        show_log serve.log
        die "tickhub serve exited during startup"
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$TICKHUB_BIND/readyz")" == 200 ]]; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ $ready == 1 ]] || { show_log serve.log; die "GET /readyz did not answer 200 within $((READY_TENTHS / 10)) s"; }
kill -0 "$SIM_PID" 2>/dev/null || { show_log waha-sim.log; die "tickhub waha-sim exited"; }

# ---------------------------------------------------------------- load
if [[ "${1:-}" == campaign ]]; then
    # shellcheck source=campaign_bench.sh
    source "$ROOT/loadtest/campaign_bench.sh"
    campaign_bench
    exit 0
fi
if [[ "${1:-}" == queries ]]; then
    # the inbox's reads instead of the webhook load: `run.sh queries [--requests N …]`
    shift
    args=(queries --url "http://$TICKHUB_BIND" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD")
elif [[ "${1:-}" == import ]]; then
    # a contact CSV import instead: `run.sh import [--rows N …]`; the hub's peak RSS after it
    shift
    args=(import --url "http://$TICKHUB_BIND" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD")
    REPORT_RSS=1
else
    args=(--url "http://$TICKHUB_BIND" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" --sim-url "$WAHA_URL")
    [[ -n "${HMAC_KEY:-}" ]] && args+=(--hmac-key "$HMAC_KEY")
fi
# utime + stime of the given processes, in clock ticks (a process gone since counts 0).
ticks_of() {
    local t=0 p
    for p in "$@"; do
        [[ -r "/proc/$p/stat" ]] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
pg_pids() { [[ "$DB" == postgres ]] && pgrep -u postgres || true; }
if [[ "${REPORT_CPU:-0}" == 1 ]]; then
    hub_before=$(ticks_of "$HUB_PID")
    # shellcheck disable=SC2046
    pg_before=$(ticks_of $(pg_pids))
fi
set +e
if [[ "${REPORT_CPU:-0}" == 1 ]]; then
    /usr/bin/time -o "$TMP/driver.time" -f '%U %S' "$LOADTEST_BIN" "${args[@]}" "$@"
else
    "$LOADTEST_BIN" "${args[@]}" "$@"
fi
rc=$?
set -e
if [[ "${REPORT_CPU:-0}" == 1 ]]; then
    hz=$(getconf CLK_TCK)
    hub_cpu=$(( $(ticks_of "$HUB_PID") - hub_before ))
    # shellcheck disable=SC2046
    pg_cpu=$(( $(ticks_of $(pg_pids)) - pg_before ))
    echo "run.sh: CPU s during the load: hub $(awk -v t="$hub_cpu" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')," \
        "postgres $(awk -v t="$pg_cpu" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')," \
        "driver $(awk '{ printf "%.2f", $1 + $2 }' "$TMP/driver.time")"
fi
if [[ "${REPORT_RSS:-0}" == 1 ]] && [[ -r "/proc/$HUB_PID/status" ]]; then
    echo "run.sh: hub $(grep -E '^(VmHWM|VmRSS)' "/proc/$HUB_PID/status" | tr -s ' \t' ' ' | paste -sd ' ')"
fi
if ! kill -0 "$HUB_PID" 2>/dev/null; then
    echo "run.sh: tickhub serve died during the run" >&2
    show_log serve.log
fi
exit "$rc"
