# The campaign benchmark (issue 18), sourced by run.sh (`loadtest/run.sh campaign`) once the
# hub and the simulator are up:
#   1. CONTACTS (default 100,000) contacts through the CSV import, all tagged `promo`;
#   2. a campaign to the segment `tags contains promo`: the time `POST …/start` takes to plan
#      every recipient, and the hub's peak RSS across it (VmHWM, reset just before);
#   3. the hub's CPU per message while the campaign sends at its fastest (600 a minute) for
#      SEND_SECONDS (default 60), less the hub's idle CPU over IDLE_SECONDS (default 20)
#      before it started. That counts the whole way of a message (the queue job, the send to
#      WAHA, its three acks); the same way for an agent's reply is measured beside it
#      (replies posted at the same 10 a second for REPLY_SECONDS, default 30), so that the
#      difference is the campaign's own overhead.
# With CALLGRIND=1 the hub runs under callgrind, and each phase also counts the hub's
# instructions (repeatable, whatever else the machine does; slow, so use a small CONTACTS).
# SETTLE_SECONDS (default 2): the wait after each phase's setup and after the replies.
# Needs curl and jq. Prints one JSON line with the figures.

campaign_bench() {
    local url="http://$TICKHUB_BIND" n="${CONTACTS:-100000}" secs="${SEND_SECONDS:-60}"
    local idle_secs="${IDLE_SECONDS:-20}" tck
    tck=$(getconf CLK_TCK)
    command -v jq >/dev/null || die "the campaign benchmark needs jq"
    local token
    token=$(curl -sf "$url/api/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token) || die "login failed"
    local auth=(-H "Authorization: Bearer $token")
    api() { # METHOD PATH [JSON]
        if [[ -n "${3:-}" ]]; then
            curl -sf -X "$1" "${auth[@]}" -H 'content-type: application/json' -d "$3" "$url$2"
        else
            curl -sf -X "$1" "${auth[@]}" "$url$2"
        fi
    }
    cpu_ticks() { awk '{print $14 + $15}' "/proc/$HUB_PID/stat"; }
    # Under CALLGRIND=1 (run.sh started the hub under callgrind): `ir_mark` zeroes the
    # count, `ir_since` prints the instructions the hub ran since (all its threads, user
    # space: SQLite's work is in it, PostgreSQL's and the kernel's are not).
    ir_mark() { [[ -z "${CALLGRIND:-}" ]] || callgrind_control --zero "$HUB_PID" >/dev/null 2>&1; }
    ir_since() {
        [[ -n "${CALLGRIND:-}" ]] || { echo 0; return; }
        callgrind_control --dump=phase "$HUB_PID" >/dev/null 2>&1
        # (run in a subshell by `$(…)`: the newest dump, not a counter)
        awk '/^totals:/ {print $2; exit}' "$(ls -v "$TMP"/callgrind.out.* | tail -n 1)"
    }
    local settle="${SETTLE_SECONDS:-2}"
    now_ms() { date +%s%3N; }

    api POST /api/sessions '{"name": "default"}' >/dev/null || die "registering the session failed"
    for _ in $(seq 1 200); do
        [[ "$(api GET /api/sessions/default | jq -r .status)" == WORKING ]] && break
        sleep 0.1
    done

    awk -v n="$n" 'BEGIN { print "phone,name,tags"; for (i = 0; i < n; i++) printf "+4477%08d,Person %d,promo\n", i, i }' \
        >"$TMP/contacts.csv"
    local import t0 t1
    t0=$(now_ms)
    import=$(curl -sf "${auth[@]}" -H 'content-type: text/csv' --data-binary @"$TMP/contacts.csv" \
        "$url/api/contacts/imports?session=default&on_duplicate=skip" | jq -r .id) || die "the import was refused"
    local status=""
    for _ in $(seq 1 1200); do
        status=$(api GET "/api/contacts/imports/$import" | jq -r .status)
        [[ "$status" == completed || "$status" == failed ]] && break
        sleep 0.5
    done
    [[ "$status" == completed ]] || die "the import did not complete ($status)"
    t1=$(now_ms)
    echo "campaign: $n contacts imported in $(( (t1 - t0) / 1000 )) s" >&2

    local seg camp
    seg=$(api POST /api/segments '{"name": "bench", "filter": {"all": [{"field": "tags", "op": "contains", "value": "promo"}]}}' | jq .id)
    camp=$(api POST /api/campaigns "{\"name\": \"bench\", \"session\": \"default\", \"segment_id\": $seg,
        \"template\": \"Hi {{contact.first_name}}, the bench offer\", \"rate_per_minute\": 600, \"jitter\": 0}" | jq .id)
    [[ "$camp" =~ ^[0-9]+$ ]] || die "creating the campaign failed"

    # The hub's idle CPU (presence, the supervisor's look, pings), to subtract.
    local idle0 idle1
    ir_mark
    idle0=$(cpu_ticks)
    sleep "$idle_secs"
    idle1=$(cpu_ticks)
    local idle_ir
    idle_ir=$(ir_since)

    # Baseline: an agent's replies at the campaign's pace, the same way to WhatsApp.
    local reply_secs="${REPLY_SECONDS:-30}" conv r0 r1 replies=0
    curl -sf -X POST -H 'content-type: application/json' "$WAHA_URL/sim/inbound" \
        -d '{"session": "default", "from": "447799000001@c.us", "body": "hello"}' >/dev/null || die "sim inbound failed"
    for _ in $(seq 1 100); do
        conv=$(api GET "/api/conversations?limit=1" | jq '.items[0].id // empty')
        [[ -n "$conv" ]] && break
        sleep 0.1
    done
    [[ -n "$conv" ]] || die "no conversation for the reply baseline"
    sleep "$settle" # the customer's message and its acks, out of the count
    ir_mark
    r0=$(cpu_ticks)
    local end=$(( $(now_ms) + reply_secs * 1000 )) posts=()
    while [[ $(now_ms) -lt $end ]]; do
        api POST "/api/conversations/$conv/messages" "{\"text\": \"baseline $replies\"}" >/dev/null &
        posts+=($!)
        replies=$((replies + 1))
        sleep 0.1
    done
    # (Only these: a bare `wait` would wait for the hub and the simulator too.)
    wait "${posts[@]}"
    sleep "$settle" # the last replies' acks
    r1=$(cpu_ticks)
    local reply_ir reply_us reply_ir_per=0
    reply_ir=$(ir_since)
    reply_us=$(awk -v c="$((r1 - r0))" -v i="$((idle1 - idle0))" -v s="$((reply_secs + settle))" -v is="$idle_secs" -v m="$replies" -v t="$tck" \
        'BEGIN { printf "%.0f", ((c - i * s / is) / t) / m * 1e6 }')
    echo "campaign: baseline, $replies agent replies in $reply_secs s; hub CPU per reply $reply_us µs (idle subtracted)" >&2
    if [[ -n "${CALLGRIND:-}" ]]; then
        reply_ir_per=$(awk -v c="$reply_ir" -v i="$idle_ir" -v s="$((reply_secs + settle))" -v is="$idle_secs" -v m="$replies" \
            'BEGIN { printf "%.0f", (c - i * s / is) / m }')
        echo "campaign: instructions per reply $reply_ir_per (idle subtracted)" >&2
    fi

    echo 5 >"/proc/$HUB_PID/clear_refs" 2>/dev/null || echo "campaign: cannot reset VmHWM; the peak includes the import" >&2
    local planned plan_ms peak_kb
    t0=$(now_ms)
    planned=$(api POST "/api/campaigns/$camp/start" | jq .counts.total) || die "starting the campaign failed"
    t1=$(now_ms)
    plan_ms=$((t1 - t0))
    peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$HUB_PID/status")
    echo "campaign: $planned recipients planned in $plan_ms ms, peak RSS $((peak_kb / 1024)) MiB" >&2

    local c0 c1 sent0 sent1
    sleep "$settle" # the planning's own work, out of the count
    sent0=$(api GET "/api/campaigns/$camp" | jq '.counts.total - .counts.queued - .counts.skipped')
    ir_mark
    c0=$(cpu_ticks)
    sleep "$secs"
    c1=$(cpu_ticks)
    local send_ir
    send_ir=$(ir_since)
    sent1=$(api GET "/api/campaigns/$camp" | jq '.counts.total - .counts.queued - .counts.skipped')
    api POST "/api/campaigns/$camp/cancel" >/dev/null || true
    local msgs=$((sent1 - sent0))
    [[ $msgs -gt 0 ]] || die "no message was sent in $secs s"
    local us
    us=$(awk -v c="$((c1 - c0))" -v i="$((idle1 - idle0))" -v s="$secs" -v is="$idle_secs" -v m="$msgs" -v t="$tck" \
        'BEGIN { printf "%.0f", ((c - i * s / is) / t) / m * 1e6 }')
    echo "campaign: $msgs messages in $secs s; hub CPU per message $us µs (idle subtracted)" >&2
    local send_ir_per=0
    if [[ -n "${CALLGRIND:-}" ]]; then
        send_ir_per=$(awk -v c="$send_ir" -v i="$idle_ir" -v s="$secs" -v is="$idle_secs" -v m="$msgs" \
            'BEGIN { printf "%.0f", (c - i * s / is) / m }')
        echo "campaign: instructions per message $send_ir_per (idle subtracted)" >&2
    fi
    printf '{"db":"%s","contacts":%s,"planned":%s,"plan_ms":%s,"peak_rss_mib":%s,"messages":%s,"seconds":%s,"cpu_us_per_message":%s,"cpu_us_per_reply":%s,"campaign_overhead_us":%s,"ir_per_message":%s,"ir_per_reply":%s,"campaign_overhead_ir":%s}\n' \
        "$DB" "$n" "$planned" "$plan_ms" "$((peak_kb / 1024))" "$msgs" "$secs" "$us" "$reply_us" "$((us - reply_us))" \
        "$send_ir_per" "$reply_ir_per" "$((send_ir_per - reply_ir_per))"
}
