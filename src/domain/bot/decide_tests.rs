use chrono::TimeZone;
use serde_json::json;

use super::*;

/// Monday 7 December 2026, 10:00 and 20:00 in London (GMT = UTC).
fn open_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
}
fn closed_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 20, 0, 0).unwrap()
}

fn bot(extra: serde_json::Value) -> CompiledBot {
    let mut def = json!({
        "id": 1, "version": 3, "name": "Front desk",
        "fallback": "Sorry, I did not get that.",
        "handoff_keywords": ["atendente", "agent", "human"],
        "business_hours": {
            "time_zone": "Europe/London",
            "weekly": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]},
            "holidays": []
        },
        "triggers": [
            {"id": 1, "match": "word", "pattern": "preço", "action": "reply",
             "response": "Cut: 30, {{contact.first_name}}."},
            {"id": 2, "match": "any_keyword", "keywords": ["hours", "horário"], "action": "reply",
             "response": "Today: {{business.hours_today}} at {{business.name}}"},
            {"id": 3, "match": "contains", "pattern": "complaint", "action": "reply_and_handoff",
             "response": "Passing you to a person."},
            {"id": 4, "match": "word", "pattern": "refund", "action": "handoff"},
            {"id": 5, "match": "word", "pattern": "vip", "action": "add_tag", "tag": "vip",
             "response": "Noted!"},
            {"id": 6, "match": "starts_with", "pattern": "my plan is gold", "action": "set_contact_field",
             "field": "attributes.plan", "value": "gold for {{contact.phone}}"},
            {"id": 7, "match": "word", "pattern": "nameless", "action": "reply",
             "response": "{{contact.name}}"},
            {"id": 8, "match": "word", "pattern": "blank value", "action": "set_contact_field",
             "field": "notes", "value": "{{contact.email}}", "response": "ok"}
        ]
    });
    let obj = def.as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        obj.insert(k.clone(), v.clone());
    }
    CompiledBot::compile(serde_json::from_value(def).unwrap()).unwrap()
}

fn ana() -> ContactVars {
    ContactVars {
        name: Some("Ana Souza".into()),
        phone: Some("5511999990000".into()),
        ..ContactVars::default()
    }
}

fn decide(bot: &CompiledBot, text: &str, at: DateTime<Utc>, state: BotState) -> Decision {
    bot.decide(&Turn {
        text,
        at,
        state,
        contact: &ana(),
        business_name: Some("Salão Bela"),
    })
}

fn texts(d: &Decision) -> Vec<(&str, ReplyKind)> {
    d.replies
        .iter()
        .map(|r| (r.text.as_str(), r.kind))
        .collect()
}

fn first() -> BotState {
    BotState {
        first_contact: true,
        ..BotState::default()
    }
}

fn misses(n: u32) -> BotState {
    BotState {
        misses: n,
        ..BotState::default()
    }
}

#[test]
fn compiled_bot_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<CompiledBot>();
    check::<std::sync::Arc<CompiledBot>>();
}

#[test]
fn a_trigger_reply_resets_misses() {
    let b = bot(json!({}));
    let d = decide(&b, "Qual o PRECO?", open_at(), misses(2));
    assert_eq!(texts(&d), vec![("Cut: 30, Ana.", ReplyKind::Trigger)]);
    assert_eq!(d.replies[0].trigger_id, Some(1));
    assert_eq!(d.matched, Some(1));
    assert_eq!(d.handoff, None);
    assert_eq!(d.state, BotState::default());
    assert!(d.open && d.failures.is_empty() && d.effects.is_empty());
}

#[test]
fn templates_see_business_hours_and_name() {
    let b = bot(json!({}));
    let d = decide(&b, "horario?", open_at(), BotState::default());
    assert_eq!(
        texts(&d),
        vec![("Today: 09:00–17:00 at Salão Bela", ReplyKind::Trigger)]
    );
    assert_eq!(b.hours_today(open_at()), "09:00–17:00");
    assert_eq!(
        bot(json!({"business_hours": null})).hours_today(open_at()),
        ""
    );
}

#[test]
fn rule_1_greeting_comes_first_on_first_contact_only() {
    let b = bot(json!({"greeting": "Welcome, {{contact.name}}!"}));
    let d = decide(&b, "preço", open_at(), first());
    assert_eq!(
        texts(&d),
        vec![
            ("Welcome, Ana Souza!", ReplyKind::Greeting),
            ("Cut: 30, Ana.", ReplyKind::Trigger)
        ]
    );
    assert!(
        !d.state.first_contact,
        "the stored state is no longer a first contact"
    );
    let d = decide(&b, "preço", open_at(), BotState::default());
    assert_eq!(texts(&d), vec![("Cut: 30, Ana.", ReplyKind::Trigger)]);
    // No greeting set: a first contact is an ordinary message.
    let d = decide(&bot(json!({})), "preço", open_at(), first());
    assert_eq!(texts(&d), vec![("Cut: 30, Ana.", ReplyKind::Trigger)]);
}

#[test]
fn rule_2_handoff_immediately_skips_triggers() {
    let b = bot(json!({"handoff_immediately": true, "greeting": "Hi!"}));
    let d = decide(&b, "preço", open_at(), first());
    assert_eq!(texts(&d), vec![("Hi!", ReplyKind::Greeting)]);
    assert_eq!(d.handoff, Some(HandoffReason::Immediately));
    assert_eq!(d.matched, None);
}

#[test]
fn rule_3_handoff_keywords_come_before_triggers() {
    let b = bot(json!({}));
    let d = decide(&b, "preço? quero um ATENDENTE", open_at(), misses(1));
    assert_eq!(d.handoff, Some(HandoffReason::Keyword("atendente".into())));
    assert_eq!(d.matched, None);
    assert!(d.replies.is_empty());
    assert_eq!(d.state.misses, 1, "no miss counted, none forgiven");
    // Only as a word.
    let d = decide(&b, "agents of change", open_at(), BotState::default());
    assert_eq!(d.handoff, None);
    // The keyword is reported as configured.
    let d = decide(&b, "HUMAN!", open_at(), BotState::default());
    assert_eq!(d.handoff, Some(HandoffReason::Keyword("human".into())));
}

#[test]
fn rule_4_each_action() {
    let b = bot(json!({}));
    let d = decide(&b, "I have a complaint", open_at(), BotState::default());
    assert_eq!(
        texts(&d),
        vec![("Passing you to a person.", ReplyKind::Trigger)]
    );
    assert_eq!(d.handoff, Some(HandoffReason::Trigger(3)));

    let d = decide(&b, "refund now", open_at(), misses(3));
    assert!(d.replies.is_empty());
    assert_eq!(d.handoff, Some(HandoffReason::Trigger(4)));
    assert_eq!((d.matched, d.state.misses), (Some(4), 0));

    let d = decide(&b, "I am VIP", open_at(), BotState::default());
    assert_eq!(d.effects, vec![Effect::AddTag("vip".into())]);
    assert_eq!(texts(&d), vec![("Noted!", ReplyKind::Trigger)]);
    assert_eq!(d.handoff, None);

    let d = decide(&b, "My plan is GOLD", open_at(), BotState::default());
    assert_eq!(
        d.effects,
        vec![Effect::SetField {
            field: "attributes.plan".into(),
            value: "gold for 5511999990000".into()
        }]
    );
    assert!(d.replies.is_empty());
    assert_eq!(d.matched, Some(6));
}

#[test]
fn handoff_trigger_with_a_response_sends_it_first() {
    let b = bot(json!({"triggers": [
        {"id": 4, "match": "word", "pattern": "refund", "action": "handoff", "response": "One moment."}
    ]}));
    let d = decide(&b, "refund", open_at(), BotState::default());
    assert_eq!(texts(&d), vec![("One moment.", ReplyKind::Trigger)]);
    assert_eq!(d.handoff, Some(HandoffReason::Trigger(4)));
}

#[test]
fn rule_5_a_greeting_turn_counts_no_miss() {
    let b = bot(json!({"greeting": "Hi!"}));
    let d = decide(&b, "blah", open_at(), first());
    assert_eq!(texts(&d), vec![("Hi!", ReplyKind::Greeting)]);
    assert_eq!(d.state.misses, 0);
    assert_eq!(d.handoff, None);
}

#[test]
fn rule_5_misses_count_then_hand_off() {
    let b = bot(json!({"handoff_after_misses": 2}));
    let d = decide(&b, "blah", open_at(), BotState::default());
    assert_eq!(
        texts(&d),
        vec![("Sorry, I did not get that.", ReplyKind::Fallback)]
    );
    assert_eq!((d.state.misses, d.handoff.clone()), (1, None));
    let d = decide(&b, "blah", open_at(), d.state);
    assert_eq!(d.handoff, Some(HandoffReason::Misses(2)));
    assert!(d.replies.is_empty(), "no fallback with the handoff");
    assert_eq!(
        d.state.misses, 2,
        "the miss that reached the threshold is counted"
    );
    // Without a threshold, misses only count.
    let d = decide(&bot(json!({})), "blah", open_at(), misses(40));
    assert_eq!((d.state.misses, d.handoff), (41, None));
    // Without a fallback, a miss says nothing.
    let d = decide(
        &bot(json!({"fallback": null})),
        "blah",
        open_at(),
        misses(0),
    );
    assert!(d.replies.is_empty() && d.failures.is_empty());
}

#[test]
fn rule_5_after_hours_message_once_per_closed_spell() {
    let b = bot(json!({"after_hours_message": "We open at 09:00 ({{business.hours_today}})."}));
    let d = decide(&b, "blah", closed_at(), BotState::default());
    assert!(!d.open);
    assert_eq!(
        texts(&d),
        vec![("We open at 09:00 (09:00–17:00).", ReplyKind::AfterHours)]
    );
    assert!(d.state.after_hours_sent);
    assert_eq!(d.state.misses, 1);
    // Sent already: the fallback answers the next miss.
    let d = decide(&b, "blah", closed_at(), d.state);
    assert_eq!(
        texts(&d),
        vec![("Sorry, I did not get that.", ReplyKind::Fallback)]
    );
    assert!(d.state.after_hours_sent);
    // A matched trigger still answers while closed.
    let d = decide(&b, "preço", closed_at(), BotState::default());
    assert_eq!(texts(&d), vec![("Cut: 30, Ana.", ReplyKind::Trigger)]);
    assert!(!d.state.after_hours_sent);
    // Without an after-hours message, the fallback.
    let d = decide(&bot(json!({})), "blah", closed_at(), BotState::default());
    assert_eq!(
        texts(&d),
        vec![("Sorry, I did not get that.", ReplyKind::Fallback)]
    );
}

#[test]
fn rule_6_a_handoff_while_closed_adds_the_after_hours_message() {
    let b = bot(json!({"after_hours_message": "A person will answer tomorrow."}));
    let d = decide(&b, "complaint", closed_at(), BotState::default());
    assert_eq!(
        texts(&d),
        vec![
            ("Passing you to a person.", ReplyKind::Trigger),
            ("A person will answer tomorrow.", ReplyKind::AfterHours)
        ]
    );
    assert_eq!(d.handoff, Some(HandoffReason::Trigger(3)));
    assert!(d.state.after_hours_sent);
    // Not twice in one closed spell.
    let sent = BotState {
        after_hours_sent: true,
        ..BotState::default()
    };
    let d = decide(&b, "agent", closed_at(), sent);
    assert_eq!(d.handoff, Some(HandoffReason::Keyword("agent".into())));
    assert!(d.replies.is_empty());
    // Nor while open.
    let d = decide(&b, "agent", open_at(), BotState::default());
    assert!(d.replies.is_empty());
    // Immediate and misses handoffs too.
    let imm = bot(json!({"handoff_immediately": true, "after_hours_message": "Closed."}));
    let d = decide(&imm, "hi", closed_at(), BotState::default());
    assert_eq!(texts(&d), vec![("Closed.", ReplyKind::AfterHours)]);
    let m = bot(json!({"handoff_after_misses": 1, "after_hours_message": "Closed."}));
    let d = decide(&m, "blah", closed_at(), BotState::default());
    assert_eq!(d.handoff, Some(HandoffReason::Misses(1)));
    assert_eq!(texts(&d), vec![("Closed.", ReplyKind::AfterHours)]);
}

#[test]
fn rule_7_opening_clears_the_after_hours_mark() {
    let b = bot(json!({"after_hours_message": "Closed."}));
    let sent = BotState {
        after_hours_sent: true,
        ..BotState::default()
    };
    let d = decide(&b, "preço", open_at(), sent);
    assert!(!d.state.after_hours_sent);
    let d = decide(&b, "blah", open_at(), sent);
    assert!(!d.state.after_hours_sent);
    assert_eq!(
        texts(&d),
        vec![("Sorry, I did not get that.", ReplyKind::Fallback)]
    );
    // So the next closed spell sends it again.
    let d = decide(&b, "blah", closed_at(), d.state);
    assert_eq!(texts(&d), vec![("Closed.", ReplyKind::AfterHours)]);
}

#[test]
fn a_holiday_is_closed() {
    let b = bot(json!({
        "after_hours_message": "Closed today.",
        "business_hours": {"time_zone": "Europe/London",
                           "weekly": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-07"]}
    }));
    assert!(!b.is_open(open_at()));
    let d = decide(&b, "blah", open_at(), BotState::default());
    assert!(!d.open);
    assert_eq!(texts(&d), vec![("Closed today.", ReplyKind::AfterHours)]);
    assert!(bot(json!({"business_hours": null})).is_open(closed_at()));
}

#[test]
fn empty_renders_are_failures_not_replies() {
    let b = bot(json!({"greeting": "{{contact.nickname}}", "fallback": " {{contact.x}} "}));
    let nobody = ContactVars::default();
    let d = b.decide(&Turn {
        text: "nameless",
        at: open_at(),
        state: first(),
        contact: &nobody,
        business_name: None,
    });
    assert!(d.replies.is_empty());
    assert_eq!(
        d.failures,
        vec![
            "bot: the greeting rendered empty".to_owned(),
            "trigger 7: the response rendered empty".to_owned()
        ]
    );
    assert_eq!(d.matched, Some(7));
    let d = decide(&b, "blah", open_at(), BotState::default());
    assert_eq!(
        d.failures,
        vec!["bot: the fallback rendered empty".to_owned()]
    );
    // A set_contact_field value that renders empty is not applied.
    let d = decide(&b, "blank value", open_at(), BotState::default());
    assert!(d.effects.is_empty());
    assert_eq!(
        d.failures,
        vec!["trigger 8: the value rendered empty".to_owned()]
    );
    assert_eq!(texts(&d), vec![("ok", ReplyKind::Trigger)]);
}

#[test]
fn compile_refuses_invalid_definitions() {
    let def: BotDef = serde_json::from_value(json!({
        "name": "x",
        "triggers": [{"id": 1, "match": "regex", "pattern": "[", "action": "handoff"}]
    }))
    .unwrap();
    let e = CompiledBot::compile(def).unwrap_err();
    assert_eq!(e.field, "triggers[0].pattern");
    assert!(e.reason.starts_with("invalid regex"), "{e}");
    let def: BotDef = serde_json::from_value(json!({"name": "x", "greeting": "{{nope}}"})).unwrap();
    assert_eq!(
        CompiledBot::compile(def).unwrap_err().to_string(),
        "greeting: unknown variable {{nope}}"
    );
}

#[test]
fn lookups_for_testers() {
    let b = bot(json!({}));
    assert_eq!(b.find_trigger("refund?").map(|t| t.id), Some(4));
    assert_eq!(b.find_trigger("hello"), None);
    assert_eq!(b.trigger(5).map(|t| t.action), Some(TriggerAction::AddTag));
    assert_eq!(b.def().version, 3);
}

#[test]
fn handoff_reasons_have_codes_and_sentences() {
    let all = [
        (
            HandoffReason::Trigger(7),
            "trigger",
            "trigger 7 hands the conversation to a person",
        ),
        (
            HandoffReason::Keyword("agent".into()),
            "keyword",
            "the customer asked for a person (\"agent\")",
        ),
        (
            HandoffReason::Misses(3),
            "misses",
            "the bot did not understand 3 messages in a row",
        ),
        (
            HandoffReason::Immediately,
            "immediately",
            "the bot hands every conversation to a person",
        ),
        (
            HandoffReason::PhoneTakeover,
            "phone_takeover",
            "someone replied from the business phone",
        ),
        (HandoffReason::AgentReply, "agent_reply", "an agent replied"),
        (
            HandoffReason::BotFailed("WAHA said 500".into()),
            "bot_failed",
            "the bot failed: WAHA said 500",
        ),
    ];
    for (reason, code, sentence) in all {
        assert_eq!(reason.code(), code);
        assert_eq!(reason.to_string(), sentence);
    }
    assert_eq!(
        serde_json::to_value(HandoffReason::Trigger(7)).unwrap(),
        json!({"trigger": 7})
    );
}
