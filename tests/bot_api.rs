//! Contract §3b, the bots' API against a real hub: bots and triggers with every bad value a
//! 422 naming its field, the tester (each match kind, folding, priorities and ties,
//! templates with missing variables, business hours across time zones, a daylight-saving
//! change and a holiday, at a chosen moment), the replay of a real conversation, which
//! sends nothing, and the bots' figures.

mod common;

use common::{assert_error, Backend, Setup};
use serde_json::{json, Value};

async fn bot(s: &Setup, body: Value) -> i64 {
    let (code, b) = s.post("/api/bots", body).await;
    assert_eq!(code, 201, "{b}");
    b["id"].as_i64().expect("bot id")
}

async fn trigger(s: &Setup, bot_id: i64, body: Value) -> i64 {
    let mut body = body;
    body["bot_id"] = json!(bot_id);
    let (code, t) = s.post("/api/triggers", body).await;
    assert_eq!(code, 201, "{t}");
    t["id"].as_i64().expect("trigger id")
}

async fn test(s: &Setup, bot_id: i64, body: Value) -> Value {
    let (code, r) = s.post(&format!("/api/bots/{bot_id}/test"), body).await;
    assert_eq!(code, 200, "{r}");
    r
}

async fn fires(s: &Setup, bot_id: i64, text: &str) -> Option<i64> {
    test(s, bot_id, json!({"text": text})).await["trigger_id"].as_i64()
}

fn reply(kind: &str, pattern: &str, priority: i64) -> Value {
    json!({"match": kind, "pattern": pattern, "priority": priority, "response": format!("{kind}:{pattern}"), "action": "reply"})
}

async fn every_match_kind_folds_case_and_accents(b: Backend) {
    let s = Setup::new(b).await;
    let id = bot(&s, json!({"name": "kinds", "sessions": []})).await;
    let exact = trigger(&s, id, reply("exact", "opening hours", 1)).await;
    let contains = trigger(&s, id, reply("contains", "preço", 1)).await;
    let word = trigger(&s, id, reply("word", "price", 1)).await;
    let starts = trigger(&s, id, reply("starts_with", "track", 1)).await;
    let regex = trigger(&s, id, reply("regex", r"order\s*#?\d{4,}", 1)).await;
    let any = trigger(
        &s,
        id,
        json!({"match": "any_keyword", "keywords": ["refund", "devolução"], "priority": 1,
            "response": "any", "action": "reply"}),
    )
    .await;
    let sensitive = trigger(
        &s,
        id,
        json!({"match": "word", "pattern": "VIP", "case_sensitive": true, "priority": 1,
            "response": "vip", "action": "reply"}),
    )
    .await;

    assert_eq!(fires(&s, id, "  Opening   HOURS ").await, Some(exact));
    assert_eq!(
        fires(&s, id, "opening hours please").await,
        None,
        "exact is exact"
    );
    assert_eq!(fires(&s, id, "qual o PRECO disto?").await, Some(contains));
    assert_eq!(fires(&s, id, "what's the price?").await, Some(word));
    assert_eq!(
        fires(&s, id, "that was priceless").await,
        None,
        "word boundaries"
    );
    assert_eq!(fires(&s, id, "Track my parcel").await, Some(starts));
    assert_eq!(fires(&s, id, "please track my parcel").await, None);
    assert_eq!(fires(&s, id, "where is ORDER #12345").await, Some(regex));
    assert_eq!(fires(&s, id, "quero uma devolucao").await, Some(any));
    assert_eq!(fires(&s, id, "a REFUND now").await, Some(any));
    assert_eq!(fires(&s, id, "I am a VIP").await, Some(sensitive));
    assert_eq!(fires(&s, id, "I am a vip").await, None, "case-sensitive");
    let r = test(&s, id, json!({"text": "what's the price?"})).await;
    assert_eq!(r["action"], "reply");
    assert_eq!(r["reply"], "word:price");
}
both!(every_match_kind_folds_case_and_accents);

async fn highest_priority_wins_and_ties_go_to_the_oldest(b: Backend) {
    let s = Setup::new(b).await;
    let id = bot(&s, json!({"name": "priorities"})).await;
    let low = trigger(&s, id, reply("contains", "delivery", 1)).await;
    let high = trigger(&s, id, reply("contains", "late delivery", 5)).await;
    let tie_old = trigger(&s, id, reply("word", "refund", 3)).await;
    let tie_new = trigger(&s, id, reply("contains", "refund", 3)).await;
    let off = trigger(&s, id, reply("contains", "cancel", 9)).await;
    let (code, _) = s
        .patch(&format!("/api/triggers/{off}"), json!({"active": false}))
        .await;
    assert_eq!(code, 200);
    assert_eq!(fires(&s, id, "my late delivery").await, Some(high));
    assert_eq!(fires(&s, id, "a delivery question").await, Some(low));
    assert_eq!(fires(&s, id, "refund please").await, Some(tie_old));
    assert_ne!(tie_old, tie_new);
    assert_eq!(fires(&s, id, "cancel it").await, None, "inactive");
    // Raising the newer one makes it win: the order is priority, then age.
    s.patch(&format!("/api/triggers/{tie_new}"), json!({"priority": 4}))
        .await;
    assert_eq!(fires(&s, id, "refund please").await, Some(tie_new));
}
both!(highest_priority_wins_and_ties_go_to_the_oldest);

async fn templates_render_missing_variables_empty(b: Backend) {
    let s = Setup::new(b).await;
    let id = bot(&s, json!({"name": "templates"})).await;
    trigger(
        &s,
        id,
        json!({"match": "word", "pattern": "hello", "priority": 1, "action": "reply",
            "response": "Hi {{contact.first_name}} ({{ contact.name }}), code {{contact.code}}, tier {{contact.tier}}, hours {{business.hours_today}}."}),
    )
    .await;
    let r = test(
        &s,
        id,
        json!({"text": "hello", "contact": {"name": "Ana Lima", "attributes": {"tier": "gold"}}}),
    )
    .await;
    assert_eq!(
        r["reply"], "Hi Ana (Ana Lima), code , tier gold, hours .",
        "{r}"
    );
    let r = test(&s, id, json!({"text": "hello"})).await;
    let text = r["reply"].as_str().expect("reply");
    assert!(!text.contains("{{") && text.starts_with("Hi  ("), "{text}");
}
both!(templates_render_missing_variables_empty);

/// Weekdays 09:00–17:00 in London, the 2026 Christmas holiday; Britain moved its clocks
/// forward on 29 March 2026 and New York on 8 March.
async fn business_hours_follow_the_time_zone_dst_and_holidays(b: Backend) {
    let s = Setup::new(b).await;
    let weekdays = json!({"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
        "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]});
    let london = bot(
        &s,
        json!({"name": "london", "fallback": "fallback", "after_hours_message": "closed now",
            "business_hours": {"time_zone": "Europe/London", "weekly": weekdays, "holidays": ["2026-12-25"]}}),
    )
    .await;
    trigger(
        &s,
        london,
        json!({"match": "word", "pattern": "hours", "priority": 1, "action": "reply",
            "response": "today {{business.hours_today}}"}),
    )
    .await;
    let at = |t: &str| json!({"text": "something else", "at": t});
    let open = |r: &Value| r["open"].as_bool().expect("open");
    // 08:30 UTC is 08:30 in London before the change (closed) and 09:30 after it (open).
    assert!(!open(&test(&s, london, at("2026-03-27T08:30:00Z")).await));
    let r = test(&s, london, at("2026-03-30T08:30:00Z")).await;
    assert!(open(&r), "{r}");
    assert_eq!(r["reply"], "fallback");
    // A holiday is closed all day: the after-hours message replaces the fallback.
    let r = test(&s, london, at("2026-12-25T12:00:00Z")).await;
    assert!(!open(&r));
    assert_eq!(r["reply"], "closed now", "{r}");
    assert_eq!(r["action"], "after_hours");
    assert!(open(&test(&s, london, at("2026-12-24T12:00:00Z")).await));
    let r = test(
        &s,
        london,
        json!({"text": "hours?", "at": "2026-12-25T12:00:00Z"}),
    )
    .await;
    assert_eq!(r["reply"], "today closed", "{r}");
    let r = test(
        &s,
        london,
        json!({"text": "hours?", "at": "2026-12-24T12:00:00Z"}),
    )
    .await;
    assert_eq!(r["reply"], "today 09:00–17:00", "{r}");

    let ny = bot(
        &s,
        json!({"name": "new york", "business_hours": {"time_zone": "America/New_York", "weekly": weekdays}}),
    )
    .await;
    // 13:30 UTC is 08:30 in New York before 8 March (EST) and 09:30 after it (EDT).
    assert!(!open(&test(&s, ny, at("2026-03-06T13:30:00Z")).await));
    assert!(open(&test(&s, ny, at("2026-03-09T13:30:00Z")).await));
    // The same instant is open in London and closed in New York.
    assert!(open(&test(&s, london, at("2026-06-01T10:00:00Z")).await));
    assert!(!open(&test(&s, ny, at("2026-06-01T10:00:00Z")).await));
}
both!(business_hours_follow_the_time_zone_dst_and_holidays);

async fn bad_values_are_422_naming_the_field(b: Backend) {
    let s = Setup::new(b).await;
    let id = bot(&s, json!({"name": "strict", "sessions": ["default"]})).await;
    let bad = |body: Value| {
        let mut body = body;
        if body.get("bot_id").is_none() {
            body["bot_id"] = json!(id);
        }
        body
    };
    let cases = [
        (
            bad(
                json!({"match": "regex", "pattern": "(unclosed", "priority": 1, "response": "x", "action": "reply"}),
            ),
            "pattern",
        ),
        (
            bad(
                json!({"match": "fuzzy", "pattern": "x", "priority": 1, "response": "x", "action": "reply"}),
            ),
            "match",
        ),
        (
            bad(
                json!({"match": "contains", "pattern": "x", "priority": 1, "response": "x", "action": "dance"}),
            ),
            "action",
        ),
        (
            json!({"bot_id": 999999, "match": "contains", "pattern": "x", "priority": 1, "response": "x", "action": "reply"}),
            "bot_id",
        ),
        (
            bad(
                json!({"match": "any_keyword", "keywords": [], "priority": 1, "response": "x", "action": "reply"}),
            ),
            "keywords",
        ),
        (
            bad(
                json!({"match": "contains", "pattern": "x", "priority": 1, "response": "Hi {{contact.name", "action": "reply"}),
            ),
            "response",
        ),
        (
            bad(json!({"match": "contains", "pattern": "x", "priority": 1, "action": "add_tag"})),
            "tag",
        ),
        (
            bad(
                json!({"match": "contains", "pattern": "x", "priority": "high", "response": "x", "action": "reply"}),
            ),
            "priority",
        ),
    ];
    for (body, field) in cases {
        let (code, r) = s.post("/api/triggers", body.clone()).await;
        assert_eq!(code, 422, "{body}: {r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(&format!("{field}: ")),
            "{body}: {field} not named in {msg:?}"
        );
        // The path on its own, for a form to show the reason beside its input.
        assert_eq!(r["error"]["field"], field, "{body}: {r}");
    }
    let bots = [
        (
            json!({"name": "x", "business_hours": {"time_zone": "Mars/Olympus", "weekly": {}}}),
            "business_hours.time_zone",
        ),
        (
            json!({"name": "x", "business_hours": {"time_zone": "Europe/Paris", "weekly": {}, "holidays": ["25/12"]}}),
            "business_hours.holidays[0]",
        ),
        (
            json!({"name": "x", "handoff_after_misses": 0}),
            "handoff_after_misses",
        ),
        (json!({"name": "x", "sessions": ["nowhere"]}), "sessions[0]"),
        // PostgreSQL cannot hold a NUL even in a value it only looks up (schemathesis
        // found the 503 this was).
        (
            json!({"name": "x", "sessions": ["default", "a\u{0}b"]}),
            "sessions[1]",
        ),
        (json!({"name": "x", "greeting": "{{oops}}"}), "greeting"),
        (json!({"name": ""}), "name"),
    ];
    for (body, field) in bots {
        let (code, r) = s.post("/api/bots", body.clone()).await;
        assert_eq!(code, 422, "{body}: {r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(&format!("{field}: ")),
            "{body}: {field} not named in {msg:?}"
        );
        // The path on its own, for a form to show the reason beside its input.
        assert_eq!(r["error"]["field"], field, "{body}: {r}");
    }
    // A session has one bot.
    let (code, r) = s
        .post(
            "/api/bots",
            json!({"name": "second", "sessions": ["default"]}),
        )
        .await;
    assert_eq!(code, 409, "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("sessions[0]"));
    assert_eq!(r["error"]["field"], "sessions[0]", "{r}");
    // Nothing half-saved: the refused bot does not exist.
    let (_, all) = s.get("/api/bots").await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "{all}");
    let (code, r) = s
        .post(
            &format!("/api/bots/{id}/test"),
            json!({"text": "x", "at": "tomorrow"}),
        )
        .await;
    assert_eq!((code, &r["error"]["field"]), (422, &json!("at")), "{r}");
    // A refusal about the whole request names no field.
    let (code, r) = s.get("/api/bots/999999").await;
    assert_eq!(code, 404, "{r}");
    assert!(r["error"].get("field").is_none(), "{r}");
    // The document's limit on a tested text (4096 characters, not bytes).
    let (code, _) = s
        .post(
            &format!("/api/bots/{id}/test"),
            json!({"text": "é".repeat(4096)}),
        )
        .await;
    assert_eq!(code, 200);
    assert_error(
        "a text too long to test",
        s.post(
            &format!("/api/bots/{id}/test"),
            json!({"text": "é".repeat(4097)}),
        )
        .await,
        422,
    );
}
both!(bad_values_are_422_naming_the_field);

async fn replay_shows_what_the_bot_would_have_said_and_sends_nothing(b: Backend) {
    let s = Setup::new(b).await;
    let chat = "447705550001@c.us";
    // WAHA delivers webhooks concurrently, so each message is awaited before the next is
    // written: the replay's order is the order the hub stored them in.
    let mut conv_id = 0;
    for (n, text) in ["hi there", "how much is it?", "ok, I want a human"]
        .into_iter()
        .enumerate()
    {
        s.customer_writes(chat, text).await;
        conv_id = s.conversation_for(chat).await["id"].as_i64().expect("id");
        s.eventually(&format!("/api/conversations/{conv_id}/messages"), |p| {
            p["items"].as_array().map(Vec::len) == Some(n + 1)
        })
        .await;
    }
    // The bot is made after the conversation: it never answered it.
    let id = bot(&s, json!({"name": "draft", "fallback": "sorry?"})).await;
    let price = trigger(
        &s,
        id,
        json!({"match": "word", "pattern": "how much", "priority": 1, "response": "5 euros", "action": "reply"}),
    )
    .await;
    let sent_before = s.sim.sent().await.len();
    let (code, r) = s
        .post(
            &format!("/api/bots/{id}/replay"),
            json!({"conversation_id": conv_id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let steps = r["items"].as_array().expect("steps");
    assert_eq!(steps.len(), 3, "{r}");
    assert_eq!(steps[0]["result"]["reply"], "sorry?");
    assert_eq!(steps[1]["result"]["trigger_id"], price);
    assert_eq!(steps[1]["result"]["reply"], "5 euros");
    assert_eq!(steps[2]["result"]["handoff"]["reason"], "keyword");
    assert_eq!(
        s.sim.sent().await.len(),
        sent_before,
        "a replay sends nothing"
    );
    let (_, msgs) = s
        .get(&format!("/api/conversations/{conv_id}/messages"))
        .await;
    assert_eq!(msgs["items"].as_array().map(Vec::len), Some(3));
}
both!(replay_shows_what_the_bot_would_have_said_and_sends_nothing);

/// `{{business.name}}` in the tester and the replay is what real replies say: the paired
/// account's name of the session (for the tester, the first session the bot serves).
async fn the_tester_and_replay_name_the_business_as_replies_do(b: Backend) {
    let s = Setup::new(b).await;
    let (_, session) = s.get("/api/sessions/default").await;
    let business = session["me_name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| panic!("the paired session has a name: {session}"))
        .to_string();
    let named = json!({"match": "contains", "pattern": "who", "priority": 1,
        "response": "This is {{business.name}}.", "action": "reply"});

    // A bot serving no session has no account to speak for.
    let idle = bot(&s, json!({"name": "idle"})).await;
    trigger(&s, idle, named.clone()).await;
    let r = test(&s, idle, json!({"text": "who are you"})).await;
    assert_eq!(r["reply"], "This is .", "{r}");

    let chat = "447705550002@c.us";
    s.customer_writes(chat, "who are you?").await;
    let conv_id = s.conversation_for(chat).await["id"].as_i64().expect("id");
    let served = bot(&s, json!({"name": "front", "sessions": ["default"]})).await;
    trigger(&s, served, named).await;
    let want = format!("This is {business}.");
    let r = test(&s, served, json!({"text": "who are you"})).await;
    assert_eq!(r["reply"], want.as_str(), "{r}");
    let (code, r) = s
        .post(
            &format!("/api/bots/{served}/replay"),
            json!({"conversation_id": conv_id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["items"][0]["result"]["reply"], want.as_str(), "{r}");
    // The replay speaks for the conversation's session even with a bot serving none.
    let (_, r) = s
        .post(
            &format!("/api/bots/{idle}/replay"),
            json!({"conversation_id": conv_id}),
        )
        .await;
    assert_eq!(r["items"][0]["result"]["reply"], want.as_str(), "{r}");
}
both!(the_tester_and_replay_name_the_business_as_replies_do);
