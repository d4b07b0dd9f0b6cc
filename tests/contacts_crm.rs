//! The contacts CRM (issue 17) against a real hub, on SQLite and PostgreSQL: profiles
//! (phones to E.164, typed attributes, types, consent, owner, WhatsApp ids, conversations
//! across sessions), every filter of `GET /api/contacts` evaluated in the database, and
//! each access denial.

mod common;

use common::{assert_error, Backend, Setup};
use serde_json::{json, Value};

async fn create(s: &Setup, body: Value) -> Value {
    let (code, c) = s.post("/api/contacts", body).await;
    assert_eq!(code, 201, "{c}");
    c
}

fn ids(list: &Value) -> Vec<i64> {
    let mut v: Vec<i64> = list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect();
    v.sort();
    v
}

async fn profiles_are_normalised_and_checked(b: Backend) {
    let s = Setup::new(b).await;
    // Every way of writing one number is one E.164 number, and one contact.
    let c = create(
        &s,
        json!({"session": "default", "phone": "+44 (0) 7700-900.123", "name": " Ann ",
            "email": "ann@example.com", "type": "customer", "tags": ["vip", " vip", "b2b"],
            "lifetime_spend": 120.5, "attributes": {"city": "Leeds", "visits": 3}}),
    )
    .await;
    assert_eq!(c["phone"], "+447700900123", "{c}");
    assert_eq!(c["chat_id"], "447700900123@c.us");
    assert_eq!(c["session"], "default");
    assert_eq!(c["name"], "Ann");
    assert_eq!(c["type"], "customer");
    assert_eq!(c["tags"], json!(["b2b", "vip"]));
    assert_eq!(c["lifetime_spend"], 120.5);
    assert_eq!(c["opted_out"], false);
    assert_eq!(c["attributes"], json!({"city": "Leeds", "visits": 3}));
    assert_eq!(c["conversation_count"], 0);
    assert!(c["last_message_at"].is_null());
    assert_eq!(c["conversations"], json!([]));
    for same in ["0044 7700 900123", "447700900123", "447700900123@c.us"] {
        let (code, r) = s
            .post(
                "/api/contacts",
                json!({"session": "default", "phone": same}),
            )
            .await;
        assert_eq!(code, 409, "{same}: {r}");
    }

    // What cannot be a number: 422 naming `phone`, with why.
    for (bad, why) in [
        ("12ab", "may hold only digits"),
        ("+999 1234 5678", "no known country calling code"),
        ("+44 7700 900123 4567", "too long"),
        ("07700 900123", "country code"),
        ("123@lid", "not a phone number"),
        ("", "is empty"),
    ] {
        let (code, r) = s
            .post("/api/contacts", json!({"session": "default", "phone": bad}))
            .await;
        assert_eq!(code, 422, "{bad:?}: {r}");
        assert_eq!(r["error"]["field"], "phone", "{bad:?}: {r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with("phone: ") && msg.contains(why),
            "{bad:?}: {msg}"
        );
    }

    // Emails, types, tags, spend, consent and owners are checked, naming the field.
    let id = c["id"].as_i64().expect("id");
    let path = format!("/api/contacts/{id}");
    for (body, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"type": "whale"}), "type"),
        (json!({"tags": ["ok", ""]}), "tags[1]"),
        (json!({"lifetime_spend": -3}), "lifetime_spend"),
        (json!({"consent": {"state": "maybe"}}), "consent.state"),
        (json!({"owner_id": 999_999}), "owner_id"),
        (
            json!({"attributes": {"nested": {"a": 1}}}),
            "attributes.nested",
        ),
        (json!({"wa_ids": ["1203@g.us"]}), "wa_ids[0]"),
    ] {
        let (code, r) = s.patch(&path, body.clone()).await;
        assert_eq!(code, 422, "{body}: {r}");
        assert_eq!(r["error"]["field"], field, "{body}: {r}");
    }
    let (_, unchanged) = s.get(&path).await;
    assert_eq!(unchanged["email"], "ann@example.com", "nothing half-saved");

    // Consent, owner and clearing with null.
    let (_, me) = s.get("/api/auth/me").await;
    let (code, r) = s
        .patch(
            &path,
            json!({"consent": {"state": "opted_out", "source": "call"}, "owner_id": me["id"],
                "email": null, "notes": "prefers mornings"}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        (
            &r["opted_out"],
            &r["consent"],
            &r["consent_source"],
            &r["owner_id"],
            &r["email"]
        ),
        (
            &json!(true),
            &json!("opted_out"),
            &json!("call"),
            &me["id"],
            &Value::Null
        ),
        "{r}"
    );
    assert!(r["consent_at"].as_i64().is_some(), "{r}");
    let (_, r) = s.patch(&path, json!({"opted_out": false})).await;
    assert_eq!(
        (&r["opted_out"], &r["consent"]),
        (&json!(false), &json!("opted_in"))
    );

    // The audit log holds the changed fields only.
    let (_, log) = s
        .get(&format!(
            "/api/audit-log?target_type=contact&target_id={id}"
        ))
        .await;
    let update = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "contact.update" && e["after"]["consent"] == "opted_in")
        .unwrap_or_else(|| panic!("the consent change is audited: {log}"));
    assert_eq!(
        update["before"],
        json!({"consent": "opted_out", "consent_source": "call"})
    );
}
both!(profiles_are_normalised_and_checked);

async fn declared_attributes_are_typed(b: Backend) {
    let s = Setup::new(b).await;
    for (name, kind) in [
        ("visits", "number"),
        ("renewal", "date"),
        ("member", "boolean"),
    ] {
        let (code, r) = s
            .post(
                "/api/contact-attributes",
                json!({"name": name, "type": kind}),
            )
            .await;
        assert_eq!(code, 201, "{r}");
        assert_eq!(r["type"], kind);
    }
    let (code, r) = s
        .post(
            "/api/contact-attributes",
            json!({"name": "plan", "type": "choice", "choices": ["gold", "silver"]}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    assert_error(
        "a declared name again",
        s.post(
            "/api/contact-attributes",
            json!({"name": "plan", "type": "text"}),
        )
        .await,
        409,
    );
    let (code, r) = s
        .post(
            "/api/contact-attributes",
            json!({"name": "x", "type": "colour"}),
        )
        .await;
    assert_eq!((code, &r["error"]["field"]), (422, &json!("type")), "{r}");
    let (code, r) = s
        .post(
            "/api/contact-attributes",
            json!({"name": "y", "type": "choice"}),
        )
        .await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("choices")),
        "{r}"
    );

    let c = create(&s, json!({"session": "default", "phone": "+447700900201"})).await;
    let path = format!("/api/contacts/{}", c["id"]);
    for (attrs, field, why) in [
        (
            json!({"visits": "many"}),
            "attributes.visits",
            "is declared number, got a text",
        ),
        (
            json!({"renewal": "2026-02-30"}),
            "attributes.renewal",
            "a date YYYY-MM-DD",
        ),
        (
            json!({"member": "yes"}),
            "attributes.member",
            "is declared boolean",
        ),
        (json!({"plan": "bronze"}), "attributes.plan", "one of"),
    ] {
        let (code, r) = s.patch(&path, json!({"attributes": attrs})).await;
        assert_eq!(code, 422, "{attrs}: {r}");
        assert_eq!(r["error"]["field"], field, "{r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with(field) && msg.contains(why), "{msg}");
    }
    let good = json!({"visits": 12, "renewal": "2027-01-31", "member": true, "plan": "gold"});
    let (code, r) = s.patch(&path, json!({"attributes": good})).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["attributes"], good);
    // A null removes one key; the others stay.
    let (_, r) = s
        .patch(&path, json!({"attributes": {"member": null}}))
        .await;
    assert_eq!(
        r["attributes"],
        json!({"visits": 12, "renewal": "2027-01-31", "plan": "gold"})
    );
    let (_, defs) = s.get("/api/contact-attributes").await;
    assert_eq!(defs["items"].as_array().map(Vec::len), Some(4), "{defs}");
    // Types are configurable; one in use cannot go.
    let (code, _) = s
        .post(
            "/api/contact-types",
            json!({"name": "partner", "label": "Partner"}),
        )
        .await;
    assert_eq!(code, 201);
    let (code, r) = s.patch(&path, json!({"type": "partner"})).await;
    assert_eq!((code, &r["type"]), (200, &json!("partner")), "{r}");
    let setup = &s;
    let delete = move |name: &'static str| async move {
        setup
            .as_user(
                &setup.token,
                "DELETE",
                &format!("/api/contact-types/{name}"),
                None,
            )
            .await
    };
    assert_error("a type in use", delete("partner").await, 409);
    assert_eq!(delete("lead").await.0, 204);
    let (_, types) = s.get("/api/contact-types").await;
    let names: Vec<&str> = types["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["customer", "vip", "partner"]);
}
both!(declared_attributes_are_typed);

async fn whatsapp_ids_and_conversations_across_sessions(b: Backend) {
    let s = Setup::new(b).await;
    let (code, _) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200);
    s.wait_session_status("second", "WORKING").await;
    // A customer writes in: a contact per chat, as before.
    s.customer_writes("447700900301@c.us", "hello").await;
    let conv = s.conversation_for("447700900301@c.us").await;
    let contact = conv["contact_id"].as_i64().expect("a contact");
    // Their hidden (@lid) id is mapped to the same contact.
    let path = format!("/api/contacts/{contact}");
    let (code, r) = s.patch(&path, json!({"wa_ids": ["99887766@lid"]})).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["wa_ids"], json!(["447700900301@c.us", "99887766@lid"]));
    s.customer_writes("99887766@lid", "from my other id").await;
    let lid_conv = s.conversation_for("99887766@lid").await;
    assert_eq!(lid_conv["contact_id"], contact, "{lid_conv}");
    // The same person in another session: their conversation shows on the contact.
    let mut env = common::envelope(
        "message",
        common::inbound_payload(
            "447700900301@c.us",
            "false_447700900301@c.us_X2",
            "hi there",
        ),
    );
    env["session"] = json!("second");
    assert_eq!(s.webhook(&env).await.0, 200);
    let detail = s
        .eventually(&path, |c| {
            c["conversations"].as_array().is_some_and(|a| a.len() == 3)
        })
        .await;
    let sessions: Vec<&str> = detail["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .filter_map(|c| c["session"].as_str())
        .collect();
    assert!(
        sessions.contains(&"second") && sessions.contains(&"default"),
        "{detail}"
    );
    assert_eq!(
        detail["conversation_count"], 2,
        "the contact's own conversations: {detail}"
    );
    assert!(detail["last_message_at"].as_i64().is_some(), "{detail}");
    // Another contact may not take an id that is this one's.
    let other = create(&s, json!({"session": "default", "phone": "+447700900302"})).await;
    let (code, r) = s
        .patch(
            &format!("/api/contacts/{}", other["id"]),
            json!({"wa_ids": ["99887766@lid"]}),
        )
        .await;
    assert_eq!((code, &r["error"]["field"]), (409, &json!("wa_ids")), "{r}");
}
both!(whatsapp_ids_and_conversations_across_sessions);

async fn every_filter_is_evaluated_in_the_database(b: Backend) {
    let s = Setup::new(b).await;
    let (_, me) = s.get("/api/auth/me").await;
    s.post(
        "/api/contact-attributes",
        json!({"name": "visits", "type": "number"}),
    )
    .await;
    let ann = create(
        &s,
        json!({"session": "default", "phone": "+447700900401", "name": "Ann Lee",
            "email": "ann@shop.example", "notes": "likes tea", "type": "vip", "tags": ["vip"],
            "lifetime_spend": 500, "attributes": {"visits": 10, "city": "Leeds"},
            "owner_id": me["id"], "opted_out": true}),
    )
    .await;
    let bob = create(
        &s,
        json!({"session": "default", "phone": "+447700900402", "name": "Bob Roe",
            "type": "lead", "tags": ["b2b"], "lifetime_spend": 20,
            "attributes": {"visits": 2, "city": "York"}}),
    )
    .await;
    s.customer_writes("447700900403@c.us", "first").await;
    let cy = s.conversation_for("447700900403@c.us").await["contact_id"]
        .as_i64()
        .expect("contact");
    let (ann, bob) = (ann["id"].as_i64().unwrap(), bob["id"].as_i64().unwrap());
    let enc = |f: Value| {
        url::form_urlencoded::byte_serialize(f.to_string().as_bytes()).collect::<String>()
    };
    let f = |field: &str, op: &str, value: Value| {
        enc(json!({"all": [{"field": field, "op": op, "value": value}]}))
    };
    let cases: Vec<(String, Vec<i64>)> = vec![
        ("tag=vip".into(), vec![ann]),
        ("type=lead".into(), vec![bob]),
        ("q=tea".into(), vec![ann]),
        ("q=shop.example".into(), vec![ann]),
        ("q=900402".into(), vec![bob]),
        (format!("owner_id={}", me["id"]), vec![ann]),
        ("opted_out=true".into(), vec![ann]),
        ("opted_out=false".into(), vec![bob, cy]),
        ("spend_min=100".into(), vec![ann]),
        ("spend_max=100".into(), vec![bob, cy]),
        ("spend_min=20&spend_max=20".into(), vec![bob]),
        ("conversations_min=1".into(), vec![cy]),
        ("conversations_max=0".into(), vec![ann, bob]),
        ("last_message_after=2000-01-01T00:00:00Z".into(), vec![cy]),
        ("last_message_before=2000-01-01T00:00:00Z".into(), vec![]),
        ("last_message_before=2100-01-01T00:00:00Z".into(), vec![cy]),
        (
            format!("filter={}", f("last_message_at", "exists", Value::Null)),
            vec![cy],
        ),
        (
            format!("filter={}", f("last_message_at", "not_exists", Value::Null)),
            vec![ann, bob],
        ),
        (
            format!("filter={}", f("attributes.visits", "gt", json!(5))),
            vec![ann],
        ),
        (
            format!("filter={}", f("attributes.visits", "lte", json!(2))),
            vec![bob],
        ),
        (
            format!("filter={}", f("attributes.city", "eq", json!("York"))),
            vec![bob],
        ),
        (
            format!("filter={}", f("attributes.city", "exists", Value::Null)),
            vec![ann, bob],
        ),
        (
            format!("filter={}", f("name", "contains", json!("lee"))),
            vec![ann],
        ),
        (
            format!("filter={}", f("name", "ne", json!("ann lee"))),
            vec![bob, cy],
        ),
        (
            format!("filter={}", f("email", "not_exists", Value::Null)),
            vec![bob, cy],
        ),
        (
            format!("filter={}", f("tags", "not_contains", json!("vip"))),
            vec![bob, cy],
        ),
        (
            format!("filter={}", f("tags", "in", json!(["b2b", "vip"]))),
            vec![ann, bob],
        ),
        (
            format!("filter={}", f("type", "in", json!(["vip", "lead"]))),
            vec![ann, bob],
        ),
        (
            format!("filter={}", f("session", "eq", json!("default"))),
            vec![ann, bob, cy],
        ),
        (
            format!("filter={}", f("consent", "eq", json!("opted_out"))),
            vec![ann],
        ),
        (
            format!("filter={}", f("last_message_at", "within_days", json!(1))),
            vec![cy],
        ),
        (
            format!(
                "filter={}",
                f("last_message_at", "not_within_days", json!(1))
            ),
            vec![ann, bob],
        ),
        (
            format!("filter={}", f("created_at", "within_days", json!(1))),
            vec![ann, bob, cy],
        ),
        (
            format!("filter={}", f("phone", "eq", json!("+447700900402"))),
            vec![bob],
        ),
        (
            format!(
                "filter={}",
                enc(
                    json!({"any": [{"field": "type", "op": "eq", "value": "vip"},
                    {"all": [{"field": "tags", "op": "contains", "value": "b2b"},
                             {"field": "lifetime_spend", "op": "lt", "value": 50}]}]})
                )
            ),
            vec![ann, bob],
        ),
        ("tag=vip&type=lead".into(), vec![]),
        // The contract's empty parameters are no filter.
        ("tag=&type=&q=".into(), vec![ann, bob, cy]),
    ];
    for (query, want) in cases {
        let (code, list) = s.get(&format!("/api/contacts?{query}")).await;
        assert_eq!(code, 200, "{query}: {list}");
        assert_eq!(ids(&list), want, "{query}: {list}");
    }
    // A bad clause is 422 naming it.
    let (code, r) = s
        .get(&format!(
            "/api/contacts?filter={}",
            enc(json!({"all": [{"field": "name", "op": "exists"}, {"field": "type", "op": "eq", "value": "vip"},
                {"field": "foo", "op": "eq", "value": 1}]}))
        ))
        .await;
    assert_eq!(code, 422, "{r}");
    assert_eq!(r["error"]["field"], "filter.all[2]");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("filter.all[2]: unknown field 'foo'")));
    let (code, r) = s.get("/api/contacts?last_message_after=yesterday").await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("last_message_after")),
        "{r}"
    );
    let (code, r) = s.get("/api/contacts?filter=%7Bnope").await;
    assert_eq!((code, &r["error"]["field"]), (422, &json!("filter")), "{r}");

    // Pages by cursor, newest first.
    let (_, p1) = s.get("/api/contacts?limit=2").await;
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(2));
    let cursor = p1["next_cursor"].as_str().expect("a next page").to_string();
    let (_, p2) = s
        .get(&format!("/api/contacts?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&p2), vec![ann], "{p2}");
    assert!(p2["next_cursor"].is_null());
}
both!(every_filter_is_evaluated_in_the_database);

async fn each_denial(b: Backend) {
    let s = Setup::new(b).await;
    let (code, _) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200);
    s.wait_session_status("second", "WORKING").await;
    let agent = s.member("agent@crm.test", "agent", &["default"]).await;
    let sales = s.member("sales@crm.test", "sales", &["default"]).await;
    let marketing = s.member("mkt@crm.test", "marketing", &["default"]).await;
    let mine = create(
        &s,
        json!({"session": "default", "phone": "+447700900501", "tags": ["x"]}),
    )
    .await;
    let theirs = create(
        &s,
        json!({"session": "second", "phone": "+447700900502", "tags": ["x"]}),
    )
    .await;
    let mine_path = format!("/api/contacts/{}", mine["id"]);
    let theirs_path = format!("/api/contacts/{}", theirs["id"]);

    // Agents read contacts but do not write them.
    assert_eq!(
        s.as_user(&agent.token, "GET", &mine_path, None).await.0,
        200
    );
    for (method, path, body) in [
        (
            "POST",
            "/api/contacts",
            Some(json!({"session": "default", "phone": "+447700900503"})),
        ),
        ("PATCH", mine_path.as_str(), Some(json!({"name": "X"}))),
        ("DELETE", mine_path.as_str(), None),
        (
            "POST",
            "/api/segments",
            Some(json!({"name": "s", "filter": {"all": []}})),
        ),
    ] {
        assert_error(
            &format!("agent {method} {path}"),
            s.as_user(&agent.token, method, path, body).await,
            403,
        );
    }
    // Only admins and managers declare types and attributes.
    for m in [&agent, &sales, &marketing] {
        assert_error(
            "attribute by a non-supervisor",
            s.as_user(
                &m.token,
                "POST",
                "/api/contact-attributes",
                Some(json!({"name": "z", "type": "text"})),
            )
            .await,
            403,
        );
        assert_error(
            "type by a non-supervisor",
            s.as_user(
                &m.token,
                "POST",
                "/api/contact-types",
                Some(json!({"name": "z"})),
            )
            .await,
            403,
        );
    }
    // Another session's contact does not exist for them, in reads, writes and lists.
    for m in [&agent, &sales, &marketing] {
        assert_error(
            "another session's",
            s.as_user(&m.token, "GET", &theirs_path, None).await,
            404,
        );
        assert_error(
            "another session's",
            s.as_user(&m.token, "PATCH", &theirs_path, Some(json!({"name": "X"})))
                .await,
            404,
        );
        let (_, list) = s
            .as_user(&m.token, "GET", "/api/contacts?tag=x", None)
            .await;
        assert_eq!(ids(&list), vec![mine["id"].as_i64().unwrap()], "{list}");
    }
    // A segment's count covers only what the asker may see.
    let (code, seg) = s
        .post("/api/segments", json!({"name": "x", "filter": {"all": [{"field": "tags", "op": "contains", "value": "x"}]}}))
        .await;
    assert_eq!(code, 201, "{seg}");
    assert_eq!(seg["count"], 2);
    let path = format!("/api/segments/{}", seg["id"]);
    for m in [&agent, &sales, &marketing] {
        let (code, r) = s.as_user(&m.token, "GET", &path, None).await;
        assert_eq!((code, &r["count"]), (200, &json!(1)), "{r}");
    }
    // Sales and marketing write contacts and segments.
    let (code, r) = s
        .as_user(
            &marketing.token,
            "PATCH",
            &mine_path,
            Some(json!({"tags": ["x", "y"]})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s
        .as_user(
            &sales.token,
            "PATCH",
            &path,
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    // An owner must work in the contact's session.
    let (code, r) = s.patch(&theirs_path, json!({"owner_id": agent.id})).await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("owner_id")),
        "{r}"
    );
}
both!(each_denial);
