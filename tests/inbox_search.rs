//! Finding conversations (`GET /api/conversations?q=&tag=&contact_id=`, in SQL, inside the
//! access filter and the cursor) and the contact a conversation shows (`GET
//! /api/conversations/{id}`), with contacts' tags and attributes.

mod common;

use std::time::Duration;

use common::{assert_error, urlencode, Backend, Options, Setup};
use serde_json::{json, Value};

/// A customer called `name` writes each of `texts` from `chat`, each once the one before
/// is stored (the simulator delivers in the background, so two sent at once may arrive in
/// either order); answers the conversation.
async fn customer(s: &Setup, chat: &str, name: &str, texts: &[&str]) -> Value {
    let mut conversation = Value::Null;
    for text in texts {
        s.sim
            .control_created(
                "/sim/inbound",
                json!({"session": "default", "from": chat, "body": text, "notify_name": name}),
            )
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let c = s.conversation_for(chat).await;
            if c["last_message_preview"] == *text {
                conversation = c;
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{chat}: {c}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    conversation
}

/// The chat ids a list answers, in its order.
async fn found(s: &Setup, token: &str, query: &str) -> Vec<String> {
    let (code, page) = s
        .as_user(token, "GET", &format!("/api/conversations?{query}"), None)
        .await;
    assert_eq!(code, 200, "{query}: {page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["chat_id"].as_str().expect("chat_id").to_string())
        .collect()
}

const ANN: &str = "447700900101@c.us";
const BOB: &str = "447700900202@c.us";
const CARLA: &str = "447700900303@c.us";

async fn conversations_are_found_by_text_tag_and_contact(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let ann = customer(&s, ANN, "Ann Lee", &["I need a REFUND please", "thanks"]).await;
    let bob = customer(&s, BOB, "Bob Stone", &["Where is my parcel?"]).await;
    let carla = customer(&s, CARLA, "Carla", &["hello 100%_sure"]).await;
    let ann_contact = ann["contact_id"].as_i64().expect("contact");
    let bob_contact = bob["contact_id"].as_i64().expect("contact");
    // No API tags contacts yet (bots do): set up as a trigger would have.
    s.db.exec(
        &format!(
            "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ({ann_contact}, 'vip', 1);
             UPDATE conversations SET title = 'Harbour Logistics' WHERE id = {};",
            carla["id"]
        ),
        &[
            &format!(
                "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ({ann_contact}, 'vip', 1)"
            ),
            &format!(
                "UPDATE conversations SET title = 'Harbour Logistics' WHERE id = {}",
                carla["id"]
            ),
        ],
    )
    .await;
    let t = s.token.clone();
    let everyone = vec![CARLA.to_string(), BOB.to_string(), ANN.to_string()];
    assert_eq!(found(&s, &t, "").await, everyone);
    for (query, want) in [
        // An earlier message's text, not only the preview; any case.
        ("q=refund", vec![ANN]),
        // The contact's WhatsApp name; the chat's number; the phone with its +.
        ("q=stone", vec![BOB]),
        ("q=900202", vec![BOB]),
        (&*format!("q={}", urlencode("+447700900303")), vec![CARLA]),
        // The title.
        ("q=HARBOUR", vec![CARLA]),
        // `%` and `_` are plain characters (unescaped, `_` would match anything).
        (&*format!("q={}", urlencode("0%_s")), vec![CARLA]),
        ("q=_", vec![CARLA]),
        (&*format!("q={}", urlencode("%")), vec![CARLA]),
        ("q=nowhere-to-be-found", vec![]),
        // An empty search is no search.
        ("q=", vec![CARLA, BOB, ANN]),
        ("tag=vip", vec![ANN]),
        ("tag=VIP", vec![]),
        ("tag=nobody-has-it", vec![]),
        (&*format!("contact_id={bob_contact}"), vec![BOB]),
        (&*format!("contact_id={bob_contact}&tag=vip"), vec![]),
        ("q=e&tag=vip", vec![ANN]),
        ("q=e&status=resolved", vec![]),
    ] {
        assert_eq!(found(&s, &t, query).await, want, "?{query}");
    }
    // Searches page like the plain list.
    let (_, first) = s.get("/api/conversations?q=4477009&limit=2").await;
    let ids: Vec<&str> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["chat_id"].as_str())
        .collect();
    assert_eq!(ids, [CARLA, BOB]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        found(
            &s,
            &t,
            &format!("q=4477009&limit=2&cursor={}", urlencode(cursor))
        )
        .await,
        [ANN]
    );
    assert_error("NUL in q", s.get("/api/conversations?q=a%00b").await, 400);
    assert_error(
        "NUL in tag",
        s.get("/api/conversations?tag=a%00b").await,
        400,
    );
    assert_error(
        "contact_id not a number",
        s.get("/api/conversations?contact_id=bob").await,
        400,
    );

    // Inside the access filter: an agent does not find a colleague's conversation.
    let agent = s.member("agent@search.test", "agent", &["default"]).await;
    let colleague = s
        .member("colleague@search.test", "agent", &["default"])
        .await;
    let (code, r) = s
        .post(
            &format!("/api/conversations/{}/assign", bob["id"]),
            json!({"assignee_id": colleague.id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        found(&s, &agent.token, "q=stone").await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&s, &agent.token, &format!("contact_id={bob_contact}")).await,
        Vec::<String>::new()
    );
    assert_eq!(found(&s, &agent.token, "q=4477009").await, [CARLA, ANN]);
    assert_eq!(found(&s, &colleague.token, "q=stone").await, [BOB]);
    let marketing = s.member("mk@search.test", "marketing", &["default"]).await;
    let got = s
        .as_user(&marketing.token, "GET", "/api/conversations?q=stone", None)
        .await;
    assert_error("marketing", got, 403);
}
both!(conversations_are_found_by_text_tag_and_contact);

/// 300 conversations newer than everything else, matching none of the searches below, so
/// that a search reads past the first conversations and turns to the text indexes
/// (`store::conversation_list`, part 2).
async fn newer_conversations(s: &Setup) {
    let values = "(SELECT id FROM wa_sessions WHERE name = 'default'), '5511000' || CAST(10000 + i AS TEXT) || '@c.us', FALSE, 'open', 0, 4000000000000 + i, 1, 1";
    let columns = "INSERT INTO conversations (session_id, chat_id, is_group, status, unread, last_message_at, created_at, updated_at)";
    s.db.exec(
        &format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) {columns} SELECT {values} FROM n"),
        &[&format!("{columns} SELECT {values} FROM generate_series(1, 300) AS n(i)")],
    )
    .await;
}

/// A text the newest conversations hold often (a common name): past the window the search
/// walks on along the list on PostgreSQL; the pages are still the plain list's.
async fn a_common_text_past_the_window_pages_like_the_list(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    customer(&s, ANN, "Ann Lee", &["ask for mr silva please"]).await;
    let bob = customer(&s, BOB, "Bob Stone", &["Where is my parcel?"]).await;
    customer(&s, CARLA, "Carla", &["hello"]).await;
    // Bob's contact only (not his conversation's own fields) holds the name
    let notes = format!(
        "UPDATE contacts SET notes = 'Knows the Silva account' WHERE id = {}",
        bob["contact_id"].as_i64().expect("contact")
    );
    s.db.exec(&notes, &[&notes]).await;
    newer_conversations(&s).await;
    // one newer conversation in 25 has the name in its title: 10 in the window of 250,
    // 2 past it, then Bob's contact and Ann's message further down (each of the three
    // ways a conversation holds a text)
    let titles = "UPDATE conversations SET title = 'Silva Trading'
        WHERE last_message_at > 4000000000000 AND (last_message_at - 4000000000000) % 25 = 0";
    s.db.exec(titles, &[titles]).await;
    let titled: Vec<String> = (1..=12)
        .rev()
        .map(|k| format!("5511000{}@c.us", 10000 + 25 * k))
        .collect();
    let mut want: Vec<&str> = titled.iter().map(String::as_str).collect();
    want.extend([BOB, ANN]);
    let t = s.token.clone();
    assert_eq!(found(&s, &t, "q=SILVA&limit=50").await, want);
    // a page that ends past the window, then the next from its cursor
    assert_eq!(found(&s, &t, "q=silva&limit=11").await, want[..11]);
    let (_, first) = s.get("/api/conversations?q=silva&limit=11").await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        found(
            &s,
            &t,
            &format!("q=silva&limit=11&cursor={}", urlencode(cursor))
        )
        .await,
        want[11..]
    );
}
both!(a_common_text_past_the_window_pages_like_the_list);

async fn searches_past_the_newest_conversations_use_the_indexes(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let ann = customer(&s, ANN, "Ann Lee", &["I need a REFUND please", "thanks"]).await;
    customer(&s, BOB, "Bob Stone", &["Where is my parcel?"]).await;
    let carla = customer(&s, CARLA, "Carla", &["hello 100%_sure"]).await;
    let ann_contact = ann["contact_id"].as_i64().expect("contact");
    s.db.exec(
        &format!(
            "UPDATE conversations SET title = 'Harbour Logistics' WHERE id = {};
             UPDATE contacts SET email = 'ann@lee-family.test', notes = 'Prefers mornings' WHERE id = {ann_contact};",
            carla["id"]
        ),
        &[
            &format!("UPDATE conversations SET title = 'Harbour Logistics' WHERE id = {}", carla["id"]),
            &format!("UPDATE contacts SET email = 'ann@lee-family.test', notes = 'Prefers mornings' WHERE id = {ann_contact}"),
        ],
    )
    .await;
    newer_conversations(&s).await;
    let t = s.token.clone();
    for (query, want) in [
        ("q=refund", vec![ANN]),
        ("q=stone", vec![BOB]),
        ("q=900202", vec![BOB]),
        (&*format!("q={}", urlencode("+447700900303")), vec![CARLA]),
        ("q=HARBOUR", vec![CARLA]),
        (&*format!("q={}", urlencode("0%_s")), vec![CARLA]),
        // The contact's email and notes are searched too.
        ("q=lee-family", vec![ANN]),
        ("q=MORNINGS", vec![ANN]),
        ("q=nowhere-to-be-found", vec![]),
        // Shorter than a trigram: read row by row, the same answer.
        ("q=e", vec![CARLA, BOB, ANN]),
        ("q=_", vec![CARLA]),
    ] {
        assert_eq!(found(&s, &t, query).await, want, "?{query}");
    }
    // Pages and cursors are the plain list's, across the two parts.
    assert_eq!(found(&s, &t, "q=4477009&limit=2").await, [CARLA, BOB]);
    let (_, first) = s.get("/api/conversations?q=4477009&limit=2").await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        found(
            &s,
            &t,
            &format!("q=4477009&limit=2&cursor={}", urlencode(cursor))
        )
        .await,
        [ANN]
    );
    // The contact search finds the same through its own index.
    let (code, contacts) = s.get("/api/contacts?q=LEE-FAMILY").await;
    assert_eq!(code, 200, "{contacts}");
    let ids: Vec<i64> = contacts["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(ids, [ann_contact]);
}
both!(searches_past_the_newest_conversations_use_the_indexes);

async fn a_conversation_shows_its_contact(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let mut ws = s.socket(None).await;
    let ann = customer(&s, ANN, "Ann Lee", &["hello"]).await;
    let contact = ann["contact_id"].as_i64().expect("contact");
    s.db.exec(
        &format!(
            "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ({contact}, 'vip', 1), ({contact}, 'b2b', 1);
             UPDATE contacts SET attributes = '{{\"plan\": \"gold\", \"visits\": 3}}' WHERE id = {contact};"
        ),
        &[
            &format!(
                "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ({contact}, 'vip', 1), ({contact}, 'b2b', 1)"
            ),
            &format!(
                "UPDATE contacts SET attributes = '{{\"plan\": \"gold\", \"visits\": 3}}' WHERE id = {contact}"
            ),
        ],
    )
    .await;
    let card = json!({"id": contact, "name": null, "push_name": "Ann Lee", "phone": "+447700900101",
        "chat_id": ANN, "tags": ["b2b", "vip"], "attributes": {"plan": "gold", "visits": 3}});
    let path = format!("/api/conversations/{}", ann["id"]);
    let (code, c) = s.get(&path).await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["contact"], card);
    assert_eq!(c["id"], ann["id"]);
    assert_eq!(c["chat_id"], ANN);
    // An agent who may see the conversation sees its contact.
    let agent = s.member("agent@card.test", "agent", &["default"]).await;
    let (code, c) = s.as_user(&agent.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["contact"], card);
    // Lists and events stay lean.
    let (_, list) = s.get("/api/conversations").await;
    assert!(list["items"][0].get("contact").is_none(), "{list}");
    let updated = ws
        .expect("conversation.updated", |d| d["id"] == ann["id"])
        .await;
    assert!(updated["data"].get("contact").is_none(), "{updated}");

    // The contact itself carries its tags and attributes, alone and in the list.
    let (code, got) = s.get(&format!("/api/contacts/{contact}")).await;
    assert_eq!(code, 200, "{got}");
    assert_eq!(got["tags"], json!(["b2b", "vip"]));
    assert_eq!(got["attributes"], json!({"plan": "gold", "visits": 3}));
    let (code, made) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "447700900999"}),
        )
        .await;
    assert_eq!(code, 201, "{made}");
    assert_eq!(made["tags"], json!([]));
    assert_eq!(made["attributes"], json!({}));
    let (_, contacts) = s.get("/api/contacts").await;
    let items = contacts["items"].as_array().expect("items");
    let of = |id: i64| items.iter().find(|c| c["id"] == id).cloned();
    assert_eq!(of(contact).expect("ann")["tags"], json!(["b2b", "vip"]));
    let other = of(made["id"].as_i64().expect("id")).expect("the new one");
    assert_eq!(
        (&other["tags"], &other["attributes"]),
        (&json!([]), &json!({}))
    );

    // A tagged contact can be deleted; its conversation stays, without a contact.
    let (code, r) = s
        .request(
            reqwest::Method::DELETE,
            &format!("/api/contacts/{contact}"),
            |r| r.bearer_auth(&s.token),
        )
        .await;
    assert_eq!(code, 204, "{r}");
    let (_, c) = s.get(&path).await;
    assert_eq!(c["contact"], Value::Null, "{c}");
    assert_eq!(c["contact_id"], Value::Null, "{c}");

    // A group has no contact.
    s.sim
        .control_created(
            "/sim/inbound",
            json!({"session": "default", "from": "120363000000000001@g.us",
                "participant": "447700900555@c.us", "body": "hi all"}),
        )
        .await;
    let group = s.conversation_for("120363000000000001@g.us").await;
    let (code, g) = s.get(&format!("/api/conversations/{}", group["id"])).await;
    assert_eq!(code, 200, "{g}");
    assert_eq!(g["is_group"], true);
    assert_eq!(g["contact"], Value::Null, "{g}");
}
both!(a_conversation_shows_its_contact);

/// The chat ids of `status=<list>`, sorted (the order is the activity order's business).
async fn with_status(s: &Setup, list: &str) -> Vec<String> {
    let mut got = found(s, &s.token, &format!("status={}", urlencode(list))).await;
    got.sort();
    got
}

async fn several_statuses_at_once(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let ann = customer(&s, ANN, "Ann Lee", &["hi"]).await;
    let bob = customer(&s, BOB, "Bob Stone", &["hello"]).await;
    customer(&s, CARLA, "Carla", &["hey"]).await;
    let (_, me) = s.get("/api/auth/me").await;
    let (code, r) = s
        .post(
            &format!("/api/conversations/{}/assign", ann["id"]),
            json!({"assignee_id": me["id"]}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["status"], "open", "{r}");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{}/resolve", bob["id"]),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{r}");

    assert_eq!(with_status(&s, "pending").await, [CARLA]);
    assert_eq!(with_status(&s, "resolved").await, [BOB]);
    assert_eq!(with_status(&s, "bot,pending,open").await, [ANN, CARLA]);
    assert_eq!(with_status(&s, "open,resolved").await, [ANN, BOB]);
    assert_eq!(with_status(&s, "open,open").await, [ANN]);
    assert_eq!(with_status(&s, "").await, [ANN, BOB, CARLA]);
    // Inside the access filter: an agent's "active" view is the queue and their own.
    let agent = s.member("ag@status.test", "agent", &["default"]).await;
    let mut mine = found(&s, &agent.token, "status=bot,pending,open").await;
    mine.sort();
    assert_eq!(mine, [CARLA], "Ann's is the admin's");
    for bad in ["open,closed", "open,", "OPEN"] {
        let path = format!("/api/conversations?status={}", urlencode(bad));
        let got = s.get(&path).await;
        let msg = got.1["error"]["message"].as_str().unwrap_or("").to_string();
        assert_error(bad, got, 400);
        assert!(msg.contains("status"), "{bad}: {msg}");
    }
    let got = s.get("/api/conversations?status=open,closed").await;
    let msg = got.1["error"]["message"].as_str().unwrap_or("").to_string();
    assert!(msg.contains("\"closed\""), "names the bad one: {msg}");
}
both!(several_statuses_at_once);

/// The messages SQLite's search index holds that contain `word`, by id.
async fn indexed(s: &Setup, word: &str) -> Vec<String> {
    s.db.texts(&format!(
        "SELECT CAST(rowid AS TEXT) FROM messages_fts WHERE messages_fts MATCH '\"{word}\"'"
    ))
    .await
}

/// A message is found from the moment its webhook is answered. SQLite indexes messages
/// for search behind the webhooks (held back for an hour here), and a search past the
/// newest conversations reads the messages the index has not taken yet one by one.
async fn a_message_is_found_before_the_index_takes_it(b: Backend) {
    let opts = Options {
        env: vec![("TICKHUB_SEARCH_INDEX_MS".into(), "3600000".into())],
        ..Options::default()
    };
    let s = Setup::with(b, opts).await;
    customer(&s, ANN, "Ann Lee", &["my Kingfisher order"]).await;
    customer(&s, BOB, "Bob Stone", &["a kingfish, not the bird"]).await;
    newer_conversations(&s).await;
    if b == Backend::Sqlite {
        assert!(indexed(&s, "kingfish").await.is_empty(), "indexed already");
    }
    let t = s.token.clone();
    assert_eq!(found(&s, &t, "q=KINGFISHER").await, [ANN]);
    assert_eq!(found(&s, &t, "q=kingfish").await, [BOB, ANN]);
    assert!(found(&s, &t, "q=kingfishers").await.is_empty());
}
both!(a_message_is_found_before_the_index_takes_it);

/// SQLite's indexer takes each message once, a search finds it through the index, and an
/// erasure takes it out again, leaving an index that agrees with the messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_takes_each_message_and_an_erasure_takes_it_out() {
    let s = Setup::new(Backend::Sqlite).await;
    let ann = customer(&s, ANN, "Ann Lee", &["my kingfisher order", "thanks"]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let hits = loop {
        let hits = indexed(&s, "kingfisher").await;
        if !hits.is_empty() {
            break hits;
        }
        assert!(tokio::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(hits.len(), 1, "{hits:?}");
    newer_conversations(&s).await;
    assert_eq!(found(&s, &s.token, "q=kingfisher").await, [ANN]);

    let contact = ann["contact_id"].as_i64().expect("contact");
    let (code, erased) = s
        .post(&format!("/api/contacts/{contact}/erase"), json!({}))
        .await;
    assert_eq!(code, 200, "{erased}");
    assert!(indexed(&s, "kingfisher").await.is_empty());
    assert!(found(&s, &s.token, "q=kingfisher").await.is_empty());
    // Once every message is in, the index holds exactly what the messages hold (FTS5
    // compares the two).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s
        .db
        .texts("SELECT CAST((SELECT MAX(id) FROM messages) - indexed_through AS TEXT) FROM message_search")
        .await
        != ["0"]
    {
        assert!(tokio::time::Instant::now() < deadline, "backlog stays");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.db.exec(
        "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
        &[],
    )
    .await;
    // and the gauge operators watch says so after the indexer's next look
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !s.metrics().await.contains("tickhub_search_backlog 0\n") {
        assert!(tokio::time::Instant::now() < deadline, "no backlog gauge");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
