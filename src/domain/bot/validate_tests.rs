use serde_json::json;

use super::*;

fn trigger(v: serde_json::Value) -> TriggerDef {
    serde_json::from_value(v).unwrap()
}

fn err(v: serde_json::Value) -> String {
    trigger(v.clone())
        .validate()
        .expect_err(&format!("{v} should be refused"))
        .to_string()
}

#[test]
fn json_shape_and_defaults() {
    let t = trigger(
        json!({"match": "starts_with", "pattern": "oi", "action": "reply", "response": "Olá!"}),
    );
    assert_eq!(t.match_kind, MatchKind::StartsWith);
    assert!(t.active, "active defaults to true");
    assert!(!t.case_sensitive && !t.accent_sensitive);
    assert_eq!((t.priority, t.id), (0, 0));
    assert!(t.keywords.is_empty());
    assert_eq!(t.validate(), Ok(()));
    let back = serde_json::to_value(&t).unwrap();
    assert_eq!(back["match"], "starts_with");
    assert_eq!(back["action"], "reply");
    // An unknown match kind is refused by serde, naming the variant.
    let e = serde_json::from_value::<TriggerDef>(json!({"match": "fuzzy", "action": "reply"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("fuzzy"), "{e}");
}

#[test]
fn patterns_are_required_and_not_empty() {
    for kind in ["exact", "contains", "word", "starts_with", "regex"] {
        assert_eq!(
            err(json!({"match": kind, "action": "handoff"})),
            format!("pattern: required for {kind}")
        );
    }
    assert_eq!(
        err(json!({"match": "contains", "pattern": "  \t", "action": "handoff"})),
        "pattern: empty"
    );
    assert_eq!(
        err(json!({"match": "regex", "pattern": "", "action": "handoff"})),
        "pattern: empty"
    );
    let long = "a".repeat(MAX_PATTERN_CHARS + 1);
    assert_eq!(
        err(json!({"match": "word", "pattern": long, "action": "handoff"})),
        "pattern: longer than 1000 characters"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "keywords": ["y"], "action": "handoff"})),
        "keywords: only for any_keyword, not word"
    );
}

#[test]
fn keywords_are_checked_one_by_one() {
    assert_eq!(
        err(json!({"match": "any_keyword", "action": "handoff"})),
        "keywords: at least one keyword for any_keyword"
    );
    assert_eq!(
        err(json!({"match": "any_keyword", "keywords": ["a", "b", " "], "action": "handoff"})),
        "keywords[2]: empty"
    );
    assert_eq!(
        err(
            json!({"match": "any_keyword", "pattern": "a", "keywords": ["a"], "action": "handoff"})
        ),
        "pattern: any_keyword takes keywords, not a pattern"
    );
    let ok = trigger(json!({"match": "any_keyword", "keywords": ["a"], "action": "handoff"}));
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn regexes_are_compiled_and_capped() {
    let e = err(json!({"match": "regex", "pattern": "(a", "action": "handoff"}));
    assert!(e.starts_with("pattern: invalid regex: "), "{e}");
    let e = err(json!({"match": "regex", "pattern": "(?:\\w{100}){100}", "action": "handoff"}));
    assert!(e.starts_with("pattern: invalid regex: too large"), "{e}");
    let ok = trigger(json!({"match": "regex", "pattern": "\\d{5}-\\d{3}", "action": "handoff"}));
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn actions_need_their_fields() {
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "reply"})),
        "response: required for reply"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "reply_and_handoff"})),
        "response: required for reply_and_handoff"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "add_tag"})),
        "tag: required for add_tag"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "add_tag", "tag": " "})),
        "tag: required for add_tag"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "set_contact_field", "value": "v"})),
        "field: required for set_contact_field"
    );
    for bad in ["phone", "attributes.", "attributes.a b", "Name", ""] {
        assert_eq!(
            err(
                json!({"match": "word", "pattern": "x", "action": "set_contact_field", "field": bad, "value": "v"})
            ),
            "field: must be name, email, notes or attributes.<key>",
            "{bad}"
        );
    }
    assert_eq!(
        err(
            json!({"match": "word", "pattern": "x", "action": "set_contact_field", "field": "email"})
        ),
        "value: required for set_contact_field"
    );
    assert_eq!(
        err(
            json!({"match": "word", "pattern": "x", "action": "set_contact_field", "field": "notes", "value": "{{x}}"})
        ),
        "value: unknown variable {{x}}"
    );
    for field in ["name", "email", "notes", "attributes.plan"] {
        let ok = trigger(
            json!({"match": "word", "pattern": "x", "action": "set_contact_field", "field": field, "value": "gold"}),
        );
        assert_eq!(ok.validate(), Ok(()), "{field}");
    }
    let ok = trigger(json!({"match": "word", "pattern": "x", "action": "handoff"}));
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn responses_are_parsed_templates() {
    assert_eq!(
        err(
            json!({"match": "word", "pattern": "x", "action": "reply", "response": "Hello there {{contact.name"})
        ),
        "response: unclosed {{ at 12"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "reply", "response": "{{ foo }}"})),
        "response: unknown variable {{foo}}"
    );
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "handoff", "response": " "})),
        "response: empty"
    );
    let long = "a".repeat(MAX_TEMPLATE_CHARS + 1);
    assert_eq!(
        err(json!({"match": "word", "pattern": "x", "action": "reply", "response": long})),
        "response: longer than 4096 characters"
    );
}

fn bot(v: serde_json::Value) -> BotDef {
    let mut base = json!({"name": "Front desk"});
    base.as_object_mut()
        .unwrap()
        .extend(v.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

#[test]
fn bot_templates_name_their_field() {
    assert_eq!(bot(json!({})).validate(), Ok(()));
    assert_eq!(
        bot(json!({"greeting": "Hi {{contact.nam e}}"}))
            .validate_templates()
            .map_err(|e| e.to_string()),
        Err("greeting: unknown variable {{contact.nam e}}".into())
    );
    assert_eq!(
        bot(json!({"fallback": "{{"}))
            .validate_templates()
            .map_err(|e| e.to_string()),
        Err("fallback: unclosed {{ at 0".into())
    );
    assert_eq!(
        bot(json!({"after_hours_message": "{{business.when}}"}))
            .validate_templates()
            .map_err(|e| e.to_string()),
        Err("after_hours_message: unknown variable {{business.when}}".into())
    );
}

#[test]
fn bot_validation_covers_every_part() {
    let b = bot(json!({}));
    assert!(b.active && !b.handoff_immediately && !b.answer_groups);
    assert_eq!(
        bot(json!({"name": " "}))
            .validate()
            .map_err(|e| e.to_string()),
        Err("name: required".into())
    );
    assert_eq!(
        bot(json!({"handoff_keywords": ["agent", ""]}))
            .validate()
            .map_err(|e| e.to_string()),
        Err("handoff_keywords[1]: empty".into())
    );
    assert_eq!(
        bot(json!({"handoff_after_misses": 0}))
            .validate()
            .map_err(|e| e.to_string()),
        Err("handoff_after_misses: at least 1".into())
    );
    assert_eq!(
        bot(json!({"business_hours": {"time_zone": "UTC", "weekly": {}, "holidays": ["x", "2026-02-29"]}}))
            .validate()
            .map_err(|e| e.to_string()),
        Err("business_hours.holidays[0]: not a date YYYY-MM-DD".into())
    );
    assert_eq!(
        bot(json!({"business_hours": {"time_zone": "UTC", "weekly": {}, "holidays": ["2026-12-25", "2026-02-29"]}}))
            .validate()
            .map_err(|e| e.to_string()),
        Err("business_hours.holidays[1]: not a date YYYY-MM-DD".into())
    );
    assert_eq!(
        bot(json!({"triggers": [
            {"match": "word", "pattern": "a", "action": "handoff"},
            {"match": "regex", "pattern": "(", "action": "handoff"}
        ]}))
        .validate()
        .unwrap_err()
        .field,
        "triggers[1].pattern"
    );
}
