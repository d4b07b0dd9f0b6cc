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
#   BOTS, BOT_EVENTS  bots and what they did over the year, for the bots report
#                  (default 10 bots, 5 M bot events over the seeded conversations)
#   CAMPAIGNS, RECIPIENTS  campaigns over the year and the recipients of each, for the
#                  campaigns report (default 200 campaigns of 10,000: 2 M recipients)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MESSAGES=${MESSAGES:-10000000}
CONVERSATIONS=${CONVERSATIONS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
RUNS=${RUNS:-5}
BOTS=${BOTS:-10}
BOT_EVENTS=${BOT_EVENTS:-5000000}
CAMPAIGNS=${CAMPAIGNS:-200}
RECIPIENTS=${RECIPIENTS:-10000}
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

# The bots' part of the year: each conversation's events go to one bot, five kinds of
# what a bot does (matches on two triggers of each bot, misses, greetings, handoffs with
# their reasons, resolutions), spread evenly over the year.
say "seeding $BOT_EVENTS bot events of $BOTS bots"
SECONDS=0
psql "$URL" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO bots (name, created_at, updated_at)
SELECT 'Bench bot ' || b, 0, 0 FROM generate_series(1, $BOTS) b;
WITH span AS (
  SELECT (SELECT MIN(id) FROM bots) AS first_bot,
         (SELECT MIN(id) FROM conversations) AS first_conv,
         (SELECT COUNT(*) FROM conversations) AS convs,
         (EXTRACT(EPOCH FROM now()) * 1000)::bigint - 365::bigint * 86400000 AS year_ago
)
INSERT INTO bot_events (bot_id, trigger_id, conversation_id, kind, reason, created_at)
SELECT span.first_bot + (c % $BOTS),
       CASE WHEN e % 7 < 3 THEN (c % $BOTS) * 2 + e % 2 + 1 END,
       span.first_conv + c,
       (ARRAY['match','match','match','miss','greeting','handoff','resolved'])[1 + e % 7],
       CASE WHEN e % 7 = 5 THEN (ARRAY['trigger','keyword','misses'])[1 + c % 3] END,
       span.year_ago + e * (365::bigint * 86400000 / $BOT_EVENTS)
FROM span, generate_series(0, $BOT_EVENTS - 1) e,
     LATERAL (SELECT (e / 5) % GREATEST(span.convs, 1) AS c) conv;
ANALYZE bot_events;
SQL
say "bot events seeded in $SECONDS s"

# The campaigns' part of the year: CAMPAIGNS campaigns spread evenly over it, taking turns
# over the sessions, each to the first RECIPIENTS contacts of its session, every recipient
# in a final state (read, delivered, sent, replied, failed, skipped), for the campaigns
# report (it counts each campaign's recipients by state).
say "seeding $CAMPAIGNS campaigns of up to $RECIPIENTS recipients each"
SECONDS=0
psql "$URL" -q -v ON_ERROR_STOP=1 <<SQL
WITH span AS (SELECT (EXTRACT(EPOCH FROM now()) * 1000)::bigint - 365::bigint * 86400000 AS year_ago),
     sessions AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, COUNT(*) OVER () AS total
                  FROM wa_sessions)
INSERT INTO campaigns (name, session_id, template, status, time_zone, rate_per_minute, jitter,
                       created_at, updated_at, started_at, completed_at)
SELECT 'Bench campaign ' || k, s.id, 'Hi {{contact.name}}', 'completed', 'UTC', 600, 0,
       t.at, t.at, t.at, t.at + 3600000
FROM span
CROSS JOIN generate_series(1, $CAMPAIGNS) k
JOIN sessions s ON s.n = k % s.total
CROSS JOIN LATERAL (SELECT span.year_ago + k * (365::bigint * 86400000 / ($CAMPAIGNS + 1)) AS at) t;
INSERT INTO campaign_sessions (campaign_id, session_id, position)
SELECT id, session_id, 0 FROM campaigns;
INSERT INTO campaign_recipients (campaign_id, contact_id, chat_id, state, reason, session_id,
                                 sent_at, created_at, updated_at)
SELECT c.id, ct.id, ct.chat_id, st.state,
       CASE WHEN st.state IN ('failed', 'skipped') THEN 'bench' END, c.session_id,
       CASE WHEN st.state NOT IN ('failed', 'skipped') THEN c.started_at + 1000 END,
       c.started_at, c.started_at + 1000
FROM campaigns c
CROSS JOIN LATERAL (SELECT id, chat_id FROM contacts WHERE session_id = c.session_id
                    ORDER BY id LIMIT $RECIPIENTS) ct
CROSS JOIN LATERAL (SELECT (ARRAY['read', 'read', 'delivered', 'sent', 'replied', 'failed', 'skipped'])
                           [1 + (ct.id % 7)::int] AS state) st;
ANALYZE campaigns;
ANALYZE campaign_recipients;
SQL
say "campaigns seeded in $SECONDS s: $(psql "$URL" -qAt -c 'SELECT COUNT(*) FROM campaign_recipients') recipients"

say "rebuilding the analytics tables"
/usr/bin/time -f "[analytics-bench] rebuild: %e s, peak RSS %M KiB" \
  env DATABASE_URL="$URL" "$BIN/tickhub" analytics-rebuild
psql "$URL" -qAt -c "SELECT 'analytics_days rows: ' || COUNT(*) FROM analytics_days" \
  -c "SELECT 'cycles: ' || COUNT(*) FROM analytics_cycles" \
  -c "SELECT 'responses: ' || COUNT(*) FROM analytics_responses" \
  -c "SELECT 'bot day rows: ' || COUNT(*) FROM analytics_bot_days" \
  -c "SELECT 'bot conversation days: ' || COUNT(*) FROM analytics_bot_conversations" >&2

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
