#!/usr/bin/env bash
# Start a fresh tickhub cluster on this machine — a fresh PostgreSQL database, a redis-server
# of its own, the WAHA simulator, NODES release `tickhub serve` nodes (node-a, node-b, …) and
# nginx in front (round robin, websocket upgrade, no stickiness) — create the bench admin,
# wait for /readyz on every node, run `loadtest` with webhooks through nginx and the agents'
# sockets on the nodes, stop everything.
#
#   loadtest/cluster.sh --agents 50 --rate 1000 --seconds 10 --presence 20
#   KILL_AFTER=5 loadtest/cluster.sh --agents 50 --rate 1000 --seconds 10 --presence 20
#   TICKHUB_SEND_RATE=5000 loadtest/cluster.sh --agents 50 --rate 1000 --seconds 10 --bot
#
# Knobs (environment):
#   NODES (3)            cluster nodes
#   WS=nodes|lb          where the agents' sockets connect: round robin over the nodes' own URLs
#                        (default: agents on every node whatever nginx does), or through nginx
#   HOOKS=lb|owner       where the webhooks go: through nginx (default), or straight to the
#                        node owning `default` (a diagnostic: no webhook is forwarded)
#   KILL_AFTER=S         S seconds into the measured phase, kill -9 the node that owns session
#                        `default` (asked with GET /api/admin/cluster through nginx), then report
#                        how long until another node owns it
#   KILL_NODE=owner|coordinator|node-X  which node KILL_AFTER kills (default owner: the owner of
#                        `default`; coordinator: the node keeping presence)
#   POST_RETRIES (3)     loadtest --retries: re-POST a webhook nginx answered 5xx or that got no
#                        answer, as WAHA does (a node killed mid-request answers nothing)
#   DATABASE_URL         default: drop + create `tickhub_cluster_bench` on 127.0.0.1:5432 as user
#                        postgres (trust auth) with psql. When set, it is used as is.
#   LB_PORT (8190)  NODE_PORT (8191: nodes on 8191, 8192, …)  SIM_PORT (3998)
#   REDIS_PORT (the first free port from 6391)
#   NGINX_KEEPALIVE (32) idle keep-alive connections nginx keeps per worker to the nodes;
#                        0 = a new upstream connection per request (as tests/common/nginx.rs)
#   TICKHUB_LEASE_TTL_MS the nodes' session lease (the hub's default, 5000, when unset)
#   TICKHUB_SEND_RATE    the hub's sends per second per session (a --bot run sets e.g. 5000)
#   HMAC_KEY             sets WAHA_WEBHOOK_HMAC_KEY on the nodes and passes --hmac-key
#   RUST_LOG (warn)  SKIP_BUILD=1  TICKHUB_BIN  KEEP_LOGS=DIR (copy every log there at the end)
# loadtest gets --url (nginx), --ws-urls (WS=nodes), --sim-url, --retries and --phase-file from
# here; do not repeat them.
# Exit status: loadtest's (0 pass, 1 a check failed, 2 its setup failed); 3 when this script's
# own setup failed (build, ports busy, database, nginx, create-admin, /readyz), 4 when
# KILL_AFTER was set but no node could be killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NODES="${NODES:-3}"
WS="${WS:-nodes}"
LB_PORT="${LB_PORT:-8190}"
NODE_PORT="${NODE_PORT:-8191}"
SIM_PORT="${SIM_PORT:-3998}"
POST_RETRIES="${POST_RETRIES:-3}"
NGINX_KEEPALIVE="${NGINX_KEEPALIVE:-32}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TICKHUB_BIN="${TICKHUB_BIN:-$TARGET_DIR/release/tickhub}"
LOADTEST_BIN="$TARGET_DIR/release/loadtest"
ADMIN_EMAIL="bench@acme.test"
ADMIN_PASSWORD="s3cret-Passw0rd"
SESSION="default"

die() { echo "cluster.sh: $*" >&2; exit 3; }
say() { echo "cluster.sh: $*" >&2; }

TMP="$(mktemp -d /tmp/tickhub-cluster.XXXXXX)"
chmod 755 "$TMP" # nginx's workers run as nobody when started by root
SIM_PID=""
LOADTEST_PID=""
CPU_PID=""
REDIS_PID=""
NGINX_PID=""
KILLER_PID=""
NODE_PIDS=()
NODE_IDS=()
NODE_PORTS=()

# TERM, up to `limit` tenths of a second, then KILL; only processes this script started
stop_pid() {
    local pid=$1 limit=$2
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$limit"); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    stop_pid "$KILLER_PID" 10
    stop_pid "$CPU_PID" 10
    # the nodes drain (hand their sessions over) before nginx, Redis and the simulator go
    for pid in "${NODE_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${NODE_PIDS[@]}"; do
        stop_pid "$pid" 100
    done
    stop_pid "$NGINX_PID" 50
    stop_pid "$SIM_PID" 50
    stop_pid "$REDIS_PID" 50
    if [[ -n "${KEEP_LOGS:-}" ]]; then
        mkdir -p "$KEEP_LOGS" && cp "$TMP"/*.log "$TMP/nginx/nginx.conf" "$KEEP_LOGS"/ 2>/dev/null
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

# the node's name: node-a, node-b, …
node_id() { printf 'node-%b' "\\x$(printf '%x' $((97 + $1)))"; }

[[ "$NODES" =~ ^[1-9][0-9]?$ && "$NODES" -le 26 ]] || die "NODES must be 1..26 (got '$NODES')"
case "${KILL_NODE:-owner}" in owner | coordinator | node-?) ;; *) die "KILL_NODE must be owner, coordinator or node-X" ;; esac
case "$WS" in nodes | lb) ;; *) die "WS must be nodes or lb (got '$WS')" ;; esac
HOOKS="${HOOKS:-lb}"
case "$HOOKS" in lb | owner) ;; *) die "HOOKS must be lb or owner (got '$HOOKS')" ;; esac
if [[ -n "${KILL_AFTER:-}" ]]; then
    [[ "$KILL_AFTER" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "KILL_AFTER must be a number of seconds"
    [[ "$NODES" -ge 2 ]] || die "KILL_AFTER needs at least 2 nodes"
fi
for tool in nginx redis-server psql curl jq; do
    command -v "$tool" >/dev/null || [[ -x "/usr/sbin/$tool" ]] \
        || die "$tool is needed (Debian: apt-get install -y nginx redis-server postgresql-client curl jq)"
done
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"

# ---------------------------------------------------------------- build
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --workspace || die "cargo build failed"
fi
[[ -x "$TICKHUB_BIN" ]] || die "no hub binary at $TICKHUB_BIN"
[[ -x "$LOADTEST_BIN" ]] || die "no loadtest binary at $LOADTEST_BIN"

for i in $(seq 0 $((NODES - 1))); do
    NODE_IDS+=("$(node_id "$i")")
    NODE_PORTS+=($((NODE_PORT + i)))
done
for p in "$LB_PORT" "$SIM_PORT" "${NODE_PORTS[@]}"; do
    port_busy "$p" && die "127.0.0.1:$p is already in use"
done
if [[ -z "${REDIS_PORT:-}" ]]; then
    REDIS_PORT=6391
    while port_busy "$REDIS_PORT"; do REDIS_PORT=$((REDIS_PORT + 1)); done
fi
port_busy "$REDIS_PORT" && die "127.0.0.1:$REDIS_PORT is already in use"

# ---------------------------------------------------------------- database
if [[ -z "${DATABASE_URL:-}" ]]; then
    PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -q)
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS tickhub_cluster_bench WITH (FORCE)" \
        || die "cannot reach PostgreSQL on 127.0.0.1:5432 as postgres"
    "${PSQL[@]}" -c "CREATE DATABASE tickhub_cluster_bench" \
        || die "CREATE DATABASE tickhub_cluster_bench failed"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/tickhub_cluster_bench"
fi
DB_NAME="${DATABASE_URL##*/}"
DB_NAME="${DB_NAME%%\?*}"
[[ "$DATABASE_URL" == postgres* ]] || die "a cluster needs PostgreSQL (DATABASE_URL=$DATABASE_URL)"

# ---------------------------------------------------------------- Redis, simulator
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG \
    || { show_log redis.log; die "redis-server did not answer on :$REDIS_PORT"; }

"$TICKHUB_BIN" waha-sim --listen "127.0.0.1:$SIM_PORT" >"$TMP/waha-sim.log" 2>&1 &
SIM_PID=$!

export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export WAHA_URL="http://127.0.0.1:$SIM_PORT"
# WAHA calls nginx back, so the simulator's webhooks (echoes, acks) spread over the nodes too
export TICKHUB_PUBLIC_URL="http://127.0.0.1:$LB_PORT"
export RUST_LOG="${RUST_LOG:-warn}"
if [[ -n "${HMAC_KEY:-}" ]]; then
    export WAHA_WEBHOOK_HMAC_KEY="$HMAC_KEY"
else
    unset WAHA_WEBHOOK_HMAC_KEY
fi
[[ -n "${TICKHUB_SEND_RATE:-}" ]] && export TICKHUB_SEND_RATE
[[ -n "${TICKHUB_LEASE_TTL_MS:-}" ]] && export TICKHUB_LEASE_TTL_MS
say "NODES=$NODES WS=$WS DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL nginx=$TICKHUB_PUBLIC_URL" \
    "nodes=${NODE_PORTS[*]} sim=$WAHA_URL KILL_AFTER=${KILL_AFTER:-(none)}" \
    "TICKHUB_SEND_RATE=${TICKHUB_SEND_RATE:-(default)} TICKHUB_LEASE_TTL_MS=${TICKHUB_LEASE_TTL_MS:-(default)}"
for arg in "$@"; do
    if [[ "$arg" == --bot && -z "${TICKHUB_SEND_RATE:-}" ]]; then
        say "warning: --bot without TICKHUB_SEND_RATE: replies leave at the hub's default rate"
    fi
done

# ---------------------------------------------------------------- schema, admin, nodes
"$TICKHUB_BIN" migrate >"$TMP/migrate.log" 2>&1 || { show_log migrate.log; die "tickhub migrate failed"; }
"$TICKHUB_BIN" create-admin --email "$ADMIN_EMAIL" --name Bench --password "$ADMIN_PASSWORD" \
    >"$TMP/create-admin.log" 2>&1 || { show_log create-admin.log; die "tickhub create-admin failed"; }

for i in "${!NODE_IDS[@]}"; do
    TICKHUB_NODE_ID="${NODE_IDS[$i]}" TICKHUB_BIND="127.0.0.1:${NODE_PORTS[$i]}" \
        "$TICKHUB_BIN" serve >"$TMP/${NODE_IDS[$i]}.log" 2>&1 &
    NODE_PIDS+=($!)
done
for i in "${!NODE_IDS[@]}"; do
    ready=0
    for _ in $(seq 1 300); do # up to 30 s
        if ! kill -0 "${NODE_PIDS[$i]}" 2>/dev/null; then
            show_log "${NODE_IDS[$i]}.log"
            die "${NODE_IDS[$i]} exited during startup"
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${NODE_PORTS[$i]}/readyz" || true)"
        if [[ "$code" == 200 ]]; then
            ready=1
            break
        fi
        sleep 0.1
    done
    [[ $ready == 1 ]] || { show_log "${NODE_IDS[$i]}.log"; die "${NODE_IDS[$i]}: /readyz not 200 within 30 s"; }
done
kill -0 "$SIM_PID" 2>/dev/null || { show_log waha-sim.log; die "tickhub waha-sim exited"; }

# ---------------------------------------------------------------- nginx
# The directives of tests/common/nginx.rs (round robin, websocket upgrade, a dead node skipped),
# plus keep-alive to the nodes: without it nginx opens a connection per webhook.
mkdir -p "$TMP/nginx"
chmod 755 "$TMP/nginx"
servers=""
for p in "${NODE_PORTS[@]}"; do
    servers+="        server 127.0.0.1:$p max_fails=1 fail_timeout=1s;"$'\n'
done
if [[ "$NGINX_KEEPALIVE" -gt 0 ]]; then
    keepalive="        keepalive $NGINX_KEEPALIVE;"
    no_upgrade='""' # an empty Connection header: nginx keeps the upstream connection
else
    keepalive=""
    no_upgrade="close"
fi
cat >"$TMP/nginx/nginx.conf" <<EOF
# Generated by loadtest/cluster.sh
worker_processes 1;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/client_body_temp;
    proxy_temp_path $TMP/nginx/proxy_temp;
    fastcgi_temp_path $TMP/nginx/fastcgi_temp;
    uwsgi_temp_path $TMP/nginx/uwsgi_temp;
    scgi_temp_path $TMP/nginx/scgi_temp;

    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ""      $no_upgrade;
    }

    upstream tickhub {
$servers$keepalive
    }

    server {
        listen 127.0.0.1:$LB_PORT;
        client_max_body_size 16m;

        location / {
            proxy_pass http://tickhub;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_next_upstream error timeout;
            add_header X-Tickhub-Upstream \$upstream_addr always;
        }
    }
}
EOF
NGINX_ARGS=(-p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g "daemon off; pid $TMP/nginx/nginx.pid; error_log $TMP/nginx-error.log;")
"$NGINX_BIN" "${NGINX_ARGS[@]}" -t >"$TMP/nginx-test.log" 2>&1 \
    || { show_log nginx-test.log; cat "$TMP/nginx/nginx.conf" >&2; die "nginx refuses the generated config"; }
"$NGINX_BIN" "${NGINX_ARGS[@]}" >"$TMP/nginx.log" 2>&1 &
NGINX_PID=$!
ready=0
for _ in $(seq 1 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || { show_log nginx.log; show_log nginx-error.log; die "nginx exited"; }
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$TICKHUB_PUBLIC_URL/readyz")" == 200 ]]; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ $ready == 1 ]] || { show_log nginx-error.log; die "nginx: /readyz not 200 within 10 s"; }

# ---------------------------------------------------------------- the killer
api_token() {
    curl -sf --max-time 5 -H 'Content-Type: application/json' \
        -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
        "$TICKHUB_PUBLIC_URL/api/auth/login" | jq -r .token || true
}

# GET /api/admin/cluster through nginx (empty when it fails).
cluster_view() {
    curl -sf --max-time 2 -H "Authorization: Bearer $1" "$TICKHUB_PUBLIC_URL/api/admin/cluster" || true
}

# The owner of $SESSION in a cluster view, or nothing.
owner_in() {
    jq -r --arg s "$SESSION" '.sessions[]? | select(.name == $s) | .owner // empty' <<<"$1" 2>/dev/null || true
}

now_ms() { date +%s%3N; }

# The CPU each part of the stack used in the measured phase and its drain, in total and per
# 1,000 webhooks (the peers' driver's unit; stack = nodes + nginx + Redis + PostgreSQL).
cpu_report() {
    [[ -s "$TMP/cpu.out" ]] || { say "no CPU figures (the run did not reach its drain)"; return 0; }
    local sent
    sent="$(grep '^{' "$TMP/loadtest.out" | tail -1 | jq -r '.sent // 0' 2>/dev/null || echo 0)"
    awk -v sent="$sent" '{
        printf "cluster.sh: CPU s over the measured phase + drain (%s s; %d PostgreSQL backends):", $2, $4
        for (i = 5; i < NF; i += 2) { cpu[$i] = $(i + 1); printf " %s %s", $i, $(i + 1) }
        printf "\n"
        nodes = 0; for (c in cpu) if (c ~ /^node-/) nodes += cpu[c]
        stack = nodes + cpu["nginx"] + cpu["redis"] + cpu["postgres"]
        if (sent > 0)
            printf "cluster.sh: per 1,000 webhooks: nodes %.3f s, stack (nodes + nginx + redis + postgres) %.3f s, driver %.3f s\n",
                nodes * 1000 / sent, stack * 1000 / sent, cpu["loadtest"] * 1000 / sent
    }' "$TMP/cpu.out" >&2
}

# Waits (up to 10 minutes: setup, warm-up, the run) until loadtest wrote `$2 <ms>` in $1.
wait_phase() {
    for _ in $(seq 1 12000); do
        grep -q "^$2 " "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# One line per process of the stack and beside it: `component pid ticks` (utime + stime of
# all its threads, /proc/PID/stat fields 14 and 15).
cpu_snapshot() {
    local comp pid
    {
        for i in "${!NODE_IDS[@]}"; do echo "${NODE_IDS[$i]} ${NODE_PIDS[$i]}"; done
        echo "nginx $NGINX_PID"
        for pid in $(pgrep -P "$NGINX_PID" 2>/dev/null); do echo "nginx $pid"; done
        echo "redis $REDIS_PID"
        echo "waha-sim $SIM_PID"
        echo "loadtest $LOADTEST_PID"
        # the machine's PostgreSQL serves others too: only the backends of this database
        for pid in $(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc \
            "SELECT pid FROM pg_stat_activity WHERE datname = '$DB_NAME'" 2>/dev/null); do
            echo "postgres $pid"
        done
    } | while read -r comp pid; do
        [[ -r "/proc/$pid/stat" ]] || continue
        awk -v c="$comp" -v p="$pid" '{ sub(/^.*\) /, ""); print c, p, $12 + $13 }' "/proc/$pid/stat" 2>/dev/null
    done
}

# Runs in the background: CPU seconds of each part of the stack from the start of the
# measured phase to the end of its drain (the window the peers' driver measures).
cpu_watch() {
    local phase=$1
    wait_phase "$phase" measure || return 0
    cpu_snapshot >"$TMP/cpu.0"
    wait_phase "$phase" drained || return 0
    cpu_snapshot >"$TMP/cpu.1"
    local t0 t1
    t0="$(awk '$1 == "measure" { print $2 }' "$phase")"
    t1="$(awk '$1 == "drained" { print $2 }' "$phase")"
    # a process gone by the end (a killed node) counts for nothing: its ticks went with it
    awk -v hz="$(getconf CLK_TCK)" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" '
        FNR == NR { start[$1 " " $2] = $3; next }
        { d = $3 - start[$1 " " $2]; cpu[$1] += d; if ($1 == "postgres") n++ }
        END {
            line = ""
            for (c in cpu) line = line sprintf("%s %.2f ", c, cpu[c] / hz)
            printf "window_s %s postgres_backends %d %s\n", secs, n, line
        }' "$TMP/cpu.0" "$TMP/cpu.1" >"$TMP/cpu.out"
}

# Runs in the background: waits for the measured phase, kills the owner of $SESSION, reports.
killer() {
    local phase=$1 token victim="" idx="" t_kill owner=""
    wait_phase "$phase" measure || { say "killer: the measured phase never started"; return 4; }
    local t0
    t0="$(awk '$1 == "measure" { print $2 }' "$phase")"
    token="$(api_token)" || true
    [[ -n "$token" && "$token" != null ]] || { say "killer: cannot log in through nginx"; return 4; }
    # sleep until t0 + KILL_AFTER (the login took some of it)
    local wait_s
    wait_s="$(awk -v t0="$t0" -v k="$KILL_AFTER" -v now="$(now_ms)" \
        'BEGIN { w = (t0 + k * 1000 - now) / 1000; printf "%.3f", (w > 0 ? w : 0) }')"
    sleep "$wait_s"
    local view coordinator
    view="$(cluster_view "$token")"
    owner="$(owner_in "$view")"
    coordinator="$(jq -r '.coordinator // empty' <<<"$view" 2>/dev/null || true)"
    case "${KILL_NODE:-owner}" in
    owner) victim="$owner" ;;
    coordinator) victim="$coordinator" ;;
    *) victim="$KILL_NODE" ;;
    esac
    for i in "${!NODE_IDS[@]}"; do
        [[ "${NODE_IDS[$i]}" == "$victim" ]] && idx=$i
    done
    [[ -n "$idx" ]] || { say "killer: no node to kill (KILL_NODE=${KILL_NODE:-owner}: '$victim'; view: $view)"; return 4; }
    kill -KILL "${NODE_PIDS[$idx]}"
    t_kill="$(now_ms)"
    echo "killed $victim pid ${NODE_PIDS[$idx]} at +$((t_kill - t0)) ms (owner of $SESSION: ${owner:-none}, coordinator: ${coordinator:-none})" >"$TMP/kill.out"
    say "killed $victim (pid ${NODE_PIDS[$idx]}) $((t_kill - t0)) ms into the measured phase;" \
        "$SESSION was owned by ${owner:-none}, the coordinator was ${coordinator:-none}"
    [[ "$owner" == "$victim" ]] || return 0
    # how long until another node owns the session
    for _ in $(seq 1 600); do
        owner="$(owner_in "$(cluster_view "$token")")"
        if [[ -n "$owner" && "$owner" != "$victim" ]]; then
            echo "owner $owner after $(($(now_ms) - t_kill)) ms" >>"$TMP/kill.out"
            say "$SESSION now owned by $owner, $(($(now_ms) - t_kill)) ms after the kill"
            return 0
        fi
        sleep 0.1
    done
    say "killer: $SESSION still not owned by another node 60 s after the kill"
    return 4
}

# ---------------------------------------------------------------- load
args=(--url "$TICKHUB_PUBLIC_URL" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"
    --sim-url "$WAHA_URL" --retries "$POST_RETRIES" --phase-file "$TMP/phase")
if [[ "$WS" == nodes ]]; then
    urls=""
    for p in "${NODE_PORTS[@]}"; do urls+="${urls:+,}http://127.0.0.1:$p"; done
    args+=(--ws-urls "$urls")
fi
[[ -n "${HMAC_KEY:-}" ]] && args+=(--hmac-key "$HMAC_KEY")
if [[ "$HOOKS" == owner ]]; then
    # register the session first (loadtest finds it there) to learn which node owns it
    token="$(api_token)"
    [[ -n "$token" && "$token" != null ]] || die "cannot log in through nginx"
    curl -sf --max-time 5 -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$SESSION\"}" "$TICKHUB_PUBLIC_URL/api/sessions" || die "POST /api/sessions failed"
    owner=""
    for _ in $(seq 1 100); do
        owner="$(owner_in "$(cluster_view "$token")")"
        [[ -n "$owner" ]] && break
        sleep 0.1
    done
    for i in "${!NODE_IDS[@]}"; do
        [[ "${NODE_IDS[$i]}" == "$owner" ]] && args+=(--hook-url "http://127.0.0.1:${NODE_PORTS[$i]}")
    done
    [[ " ${args[*]} " == *" --hook-url "* ]] || die "no node owns $SESSION after 10 s"
    say "webhooks go straight to $owner, the owner of $SESSION"
fi
if [[ -n "${KILL_AFTER:-}" ]]; then
    killer "$TMP/phase" &
    KILLER_PID=$!
fi
set +e
"$LOADTEST_BIN" "${args[@]}" "$@" > >(tee "$TMP/loadtest.out") &
LOADTEST_PID=$!
cpu_watch "$TMP/phase" &
CPU_PID=$!
wait "$LOADTEST_PID"
rc=$?
LOADTEST_PID=""
wait "$CPU_PID"
CPU_PID=""
sleep 0.2 # tee's last lines
cpu_report
kill_rc=0
if [[ -n "$KILLER_PID" ]]; then
    wait "$KILLER_PID"
    kill_rc=$?
    KILLER_PID=""
    [[ -s "$TMP/kill.out" ]] && sed 's/^/cluster.sh: /' "$TMP/kill.out" >&2
fi
set -e
# each node's /metrics after the run (forwarded webhooks, bus lag, leases), kept with KEEP_LOGS
for i in "${!NODE_IDS[@]}"; do
    curl -s --max-time 2 "http://127.0.0.1:${NODE_PORTS[$i]}/metrics" >"$TMP/${NODE_IDS[$i]}.metrics.log" 2>/dev/null || true
done
for i in "${!NODE_IDS[@]}"; do
    if ! kill -0 "${NODE_PIDS[$i]}" 2>/dev/null; then
        if [[ -z "${KILL_AFTER:-}" ]] || ! grep -q "killed ${NODE_IDS[$i]} " "$TMP/kill.out" 2>/dev/null; then
            say "${NODE_IDS[$i]} died during the run"
            show_log "${NODE_IDS[$i]}.log"
        fi
    fi
done
if [[ $rc == 0 && $kill_rc != 0 ]]; then
    exit 4
fi
exit "$rc"
