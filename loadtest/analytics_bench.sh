#!/usr/bin/env bash
# Issue 19's benchmark: a year of messages (10 M by default) seeded into PostgreSQL with
# their assignments and resolves, the analytics tables rebuilt from them with
# `tickhub analytics-rebuild`, then each report over the whole year timed through HTTP.
#
#   loadtest/analytics_bench.sh                       # 10 M messages, 1 M conversations
#   MESSAGES=1000000 CONVERSATIONS=100000 loadtest/analytics_bench.sh
#
#   SKIP_BUILD=1   use the release binaries already built
#   PG             the server (default postgres://postgres@127.0.0.1:5432); the database
#                  tickhub_analytics_bench is dropped and created
#   RUNS           timed requests per report (default 5)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MESSAGES=${MESSAGES:-10000000}
CONVERSATIONS=${CONVERSATIONS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
RUNS=${RUNS:-5}
DB=tickhub_analytics_bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
say() { echo "[analytics-bench] $*" >&2; }

if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --locked -p tickhub -p tickhub-loadtest
fi
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
URL="$PG/$DB"

say "seeding $MESSAGES messages in $CONVERSATIONS conversations"
SECONDS=0
"$BIN/loadtest" seed --database-url "$URL" --conversations "$CONVERSATIONS" \
  --messages "$MESSAGES" --log-rows 1000
say "seeded in $SECONDS s"

say "rebuilding the analytics tables"
/usr/bin/time -f "[analytics-bench] rebuild: %e s, peak RSS %M KiB" \
  env DATABASE_URL="$URL" "$BIN/tickhub" analytics-rebuild
psql "$URL" -qAt -c "SELECT 'analytics_days rows: ' || COUNT(*) FROM analytics_days" \
  -c "SELECT 'cycles: ' || COUNT(*) FROM analytics_cycles" \
  -c "SELECT 'responses: ' || COUNT(*) FROM analytics_responses" >&2

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL="$URL" TICKHUB_BIND="127.0.0.1:$PORT" WAHA_URL="http://127.0.0.1:9" \
  RUST_LOG=warn "$BIN/tickhub" serve >/dev/null 2>&1 &
HUB=$!
trap 'kill $HUB 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
TOKEN=$(curl -fsS "http://127.0.0.1:$PORT/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email": "bench@acme.test", "password": "s3cret-Passw0rd"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
FROM=$(date -u -d '365 days ago' +%F)
TO=$(date -u +%F)
for report in agents sessions bots campaigns; do
  times=()
  for _ in $(seq 1 "$RUNS"); do
    t=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$PORT/api/analytics/$report?from=$FROM&to=$TO&tz=Europe/London")
    times+=("$t")
  done
  say "GET /api/analytics/$report over a year (Europe/London): ${times[*]} s"
done
t=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/dashboard")
say "GET /api/dashboard: $t s"
