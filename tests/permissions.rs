//! The permission matrix of docs/permissions.md, walked end to end: every row of its
//! tables, for every role, against a real hub — each allowance and each denial over HTTP,
//! each websocket command, and who receives each event live and on a `since` replay. The
//! document is the test's input, so the two cannot drift apart; and every operation of the
//! OpenAPI document must have a row.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Member, Setup, Socket, MEMBER_PASSWORD};
use serde_json::{json, Value};

const ROLES: [&str; 5] = ["admin", "manager", "agent", "sales", "marketing"];

/// One row of a table: what, in which case, and the expected cell per role.
#[derive(Debug, Clone)]
struct Row {
    what: String,
    case: String,
    expect: HashMap<&'static str, String>,
}

/// The rows of the table under `## <title>` in docs/permissions.md.
fn table(title: &str) -> Vec<Row> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.md"))
        .expect("docs/permissions.md");
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with(title))
        .unwrap_or_else(|| panic!("no section {title}"));
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            assert_eq!(cells.len(), 7, "a row needs 7 cells: {l}");
            Row {
                what: cells[0].trim_matches('`').to_string(),
                case: cells[1].clone(),
                expect: ROLES
                    .iter()
                    .zip(&cells[2..])
                    .map(|(r, c)| (*r, c.clone()))
                    .collect(),
            }
        })
        .collect()
}

static UNIQUE: AtomicUsize = AtomicUsize::new(100);

fn unique() -> usize {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// The team and sessions every row runs against.
struct Fixture {
    s: Setup,
    members: HashMap<&'static str, Member>,
    colleague: Member,
}

impl Fixture {
    async fn new(b: Backend) -> Fixture {
        let env = vec![
            // Webhook secrets are stored encrypted (docs/integrations.md).
            (
                "TICKHUB_SECRET_KEY".to_string(),
                common::TEST_SECRET_KEY.to_string(),
            ),
            ("TICKHUB_OUTBOUND_POLL_MS".to_string(), "100".to_string()),
            // Its subscribers never answer: retry seldom.
            (
                "TICKHUB_OUTBOUND_RETRY_BASE_MS".to_string(),
                "60000".to_string(),
            ),
        ];
        let s = Setup::with(
            b,
            common::Options {
                env,
                ..Default::default()
            },
        )
        .await;
        for name in ["spare", "second"] {
            let (code, r) = s.post("/api/sessions", json!({"name": name})).await;
            assert!(code == 201 || code == 200, "{r}");
            s.wait_session_status(name, "WORKING").await;
        }
        let mut members = HashMap::new();
        let (_, me) = s.get("/api/auth/me").await;
        members.insert(
            "admin",
            Member {
                id: me["id"].as_i64().expect("id"),
                token: s.token.clone(),
            },
        );
        for role in &ROLES[1..] {
            let m = s
                .member(&format!("{role}@matrix.test"), role, &["default", "spare"])
                .await;
            members.insert(*role, m);
        }
        let colleague = s.member("zed@matrix.test", "agent", &["default"]).await;
        // "queue" conversations must stay unassigned while the members' sockets are open.
        for name in ["default", "spare", "second"] {
            s.auto_assign(name, false).await;
        }
        Fixture {
            s,
            members,
            colleague,
        }
    }

    /// A new bot (made by the admin) for `case`: serving no session ("unattached"), or
    /// serving `second`, which no one but the admin works in ("other session"; the bot
    /// that served it before lets go, since a session has one bot).
    async fn bot(&self, case: &str) -> i64 {
        let (code, bot) = self
            .s
            .post("/api/bots", json!({"name": format!("bot {}", unique())}))
            .await;
        assert_eq!(code, 201, "{bot}");
        let id = bot["id"].as_i64().expect("bot id");
        if case == "other session" {
            self.free_second().await;
            let path = format!("/api/bots/{id}");
            let (code, r) = self.s.patch(&path, json!({"sessions": ["second"]})).await;
            assert_eq!(code, 200, "{r}");
        }
        id
    }

    /// Whatever bot serves `second` lets go of it.
    async fn free_second(&self) {
        let mut cursor = String::new();
        loop {
            let (_, page) = self.s.get(&format!("/api/bots?limit=200{cursor}")).await;
            for b in page["items"].as_array().expect("bots") {
                if b["sessions"] == json!(["second"]) {
                    let path = format!("/api/bots/{}", b["id"]);
                    let (code, r) = self.s.patch(&path, json!({"sessions": []})).await;
                    assert_eq!(code, 200, "{r}");
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
    }

    /// A new trigger of a new bot for `case` (see `bot`).
    async fn trigger(&self, case: &str) -> i64 {
        let bot = self.bot(case).await;
        self.trigger_of(bot).await
    }

    /// A new trigger of `bot`, made by the admin.
    async fn trigger_of(&self, bot: i64) -> i64 {
        let (code, t) = self
            .s
            .post(
                "/api/triggers",
                json!({"bot_id": bot, "match": "contains", "pattern": "price", "priority": 1,
                    "response": "It is 5", "action": "reply"}),
            )
            .await;
        assert_eq!(code, 201, "{t}");
        t["id"].as_i64().expect("trigger id")
    }

    fn token(&self, role: &str) -> String {
        self.members[role].token.clone()
    }

    /// A new conversation for `case`, with one customer message `text`.
    async fn conversation(&self, case: &str, text: &str) -> i64 {
        self.conversation_with(case, text, None).await
    }

    /// `conversation`, its message carrying `media` (WAHA's `media` object) when given.
    async fn conversation_with(&self, case: &str, text: &str, media: Option<Value>) -> i64 {
        let session = if case.starts_with("other session") {
            "second"
        } else {
            "default"
        };
        let n = unique();
        let chat = format!("4477001{n:05}@c.us");
        let mut payload = inbound_payload(&chat, &format!("false_{chat}_{n}"), text);
        if let Some(m) = media {
            payload["hasMedia"] = json!(true);
            payload["media"] = m;
        }
        let mut env = envelope("message", payload);
        env["session"] = json!(session);
        let (code, r) = self.s.webhook(&env).await;
        assert_eq!(code, 200, "{r}");
        let id = self.conversation_of(&chat).await;
        if case.starts_with("colleague's") {
            let (code, r) = self
                .s
                .post(
                    &format!("/api/conversations/{id}/assign"),
                    json!({"assignee_id": self.colleague.id}),
                )
                .await;
            assert_eq!(code, 200, "{r}");
        }
        id
    }

    async fn conversation_of(&self, chat: &str) -> i64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, page) = self.s.get("/api/conversations?limit=200").await;
            if let Some(c) = page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["chat_id"] == chat)
            {
                return c["id"].as_i64().expect("id");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no conversation for {chat}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn contact(&self, case: &str) -> i64 {
        let session = if case == "other session" {
            "second"
        } else {
            "default"
        };
        let (code, c) = self
            .s
            .post(
                "/api/contacts",
                json!({"session": session, "phone": format!("44770{:06}", unique())}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
        c["id"].as_i64().expect("id")
    }

    /// A new outbound webhook subscription (made by the admin) to a port nothing answers.
    async fn subscription(&self) -> i64 {
        let (code, r) = self
            .s
            .post(
                "/api/webhook-subscriptions",
                json!({"url": "http://127.0.0.1:9/hook", "events": ["message.created"],
                    "secret": "matrix-secret-0123456789"}),
            )
            .await;
        assert_eq!(code, 201, "{r}");
        r["id"].as_i64().expect("subscription id")
    }

    /// A delivery queued for subscription `id` (a customer writes; the dispatcher queues it).
    async fn delivery_of(&self, id: i64) -> i64 {
        self.conversation("queue", "hello hooks").await;
        let path = format!("/api/webhook-subscriptions/{id}/deliveries");
        let page = self
            .s
            .eventually(&path, |p| {
                p["items"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await;
        page["items"][0]["id"].as_i64().expect("delivery id")
    }

    /// A new API key (made by the admin).
    async fn api_key(&self, scopes: &[&str]) -> (i64, String) {
        let (code, r) = self
            .s
            .post(
                "/api/api-keys",
                json!({"name": format!("key {}", unique()), "scopes": scopes}),
            )
            .await;
        assert_eq!(code, 201, "{r}");
        (
            r["id"].as_i64().expect("key id"),
            r["key"].as_str().expect("key").to_string(),
        )
    }

    /// A fresh member for a team row's case.
    async fn target(&self, case: &str) -> i64 {
        let role = if case == "a manager" {
            "manager"
        } else {
            "agent"
        };
        self.s
            .member(&format!("t{}@matrix.test", unique()), role, &["default"])
            .await
            .id
    }

    /// The request a row makes when `role` calls it: (method, path, body, token).
    async fn http_call(&self, row: &Row, role: &str) -> (String, String, Option<Value>, String) {
        let (method, template) = row.what.split_once(' ').expect("METHOD /path");
        let mut token = self.token(role);
        let mut body = None;
        let mut path = template.to_string();
        let me = self.members[role].id;
        if template.contains("/api/conversations/{id}") || template.contains("/api/messages/{id}") {
            // A file the simulator serves, on the WAHA origin the hub was given.
            let media = template.ends_with("/media").then(|| {
                json!({"url": format!("{}/api/files/m{}.png", self.s.sim.url, unique()),
                    "mimetype": "image/png", "filename": "photo.png"})
            });
            let id = self.conversation_with(&row.case, "hello", media).await;
            if row.case == "their own" && role != "marketing" {
                let path = format!("/api/conversations/{id}/assign");
                let (code, r) = self.s.post(&path, json!({"assignee_id": me})).await;
                assert_eq!(code, 200, "{r}");
            }
            if template.starts_with("/api/messages/") {
                let (_, msgs) = self
                    .s
                    .get(&format!("/api/conversations/{id}/messages"))
                    .await;
                // An inbound message: a retry of it is 409 where the policy lets it through.
                path = template.replace("{id}", &msgs["items"][0]["id"].to_string());
            } else {
                path = template.replace("{id}", &id.to_string());
            }
            body = match template.rsplit('/').next() {
                Some("messages") if method == "POST" => Some(json!({"text": "a reply"})),
                Some("notes") if method == "POST" => Some(json!({"text": "a note"})),
                Some("assign") => {
                    let to = if row.case.ends_with("to a colleague") {
                        self.colleague.id
                    } else {
                        me
                    };
                    Some(json!({"assignee_id": to}))
                }
                _ => None,
            };
        } else if template.starts_with("/api/sessions/{name}") {
            let name = if row.case == "other session" {
                "second"
            } else {
                "spare"
            };
            path = template.replace("{name}", name);
            if method == "PATCH" {
                body = Some(json!({"reply_policy": "anyone"}));
            }
        } else if template == "/api/sessions" && method == "POST" {
            body = Some(json!({"name": format!("extra-{}", unique())}));
        } else if template.starts_with("/api/contacts/imports") {
            let session = if row.case == "other session" {
                "second"
            } else {
                "default"
            };
            if template.contains("{id}") {
                let (code, r) = self
                    .s
                    .request(
                        reqwest::Method::POST,
                        &format!("/api/contacts/imports?session={session}"),
                        |r| {
                            r.bearer_auth(&self.s.token)
                                .header("content-type", "text/csv")
                                .body(format!("phone\n+44773{:06}\n", unique()))
                        },
                    )
                    .await;
                assert_eq!(code, 202, "{r}");
                path = template.replace("{id}", &r["id"].to_string());
            } else {
                // No CSV body: who may import is decided first (403, or 400 for a session
                // the caller does not work in); an allowed caller then gets 415.
                path = format!("{template}?session={session}");
            }
        } else if template.starts_with("/api/contacts") {
            if template.contains("{id}") {
                path = template.replace("{id}", &self.contact(&row.case).await.to_string());
                if method == "PATCH" {
                    body = Some(json!({"name": "Renamed"}));
                }
                if template.ends_with("/merge") {
                    body = Some(json!({"from": self.contact("theirs").await}));
                }
            } else if method == "POST" {
                let session = if row.case == "other session" {
                    "second"
                } else {
                    "default"
                };
                body = Some(json!({"session": session, "phone": format!("44771{:06}", unique())}));
            }
        } else if template.starts_with("/api/contact-types") {
            if template.contains("{name}") {
                let name = format!("t{}", unique());
                let (code, r) = self
                    .s
                    .post("/api/contact-types", json!({"name": name}))
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{name}", &name);
            } else if method == "POST" {
                body = Some(json!({"name": format!("t{}", unique())}));
            }
        } else if template.starts_with("/api/contact-attributes") {
            if template.contains("{name}") {
                let name = format!("a{}", unique());
                let (code, r) = self
                    .s
                    .post(
                        "/api/contact-attributes",
                        json!({"name": name, "type": "number"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{name}", &name);
                if method == "PATCH" {
                    body = Some(json!({"label": "Renamed"}));
                }
            } else if method == "POST" {
                body = Some(json!({"name": format!("a{}", unique()), "type": "text"}));
            }
        } else if template.starts_with("/api/segments") {
            let filter = json!({"all": [{"field": "tags", "op": "contains", "value": "vip"}]});
            if template.contains("{id}") {
                let (code, r) = self
                    .s
                    .post(
                        "/api/segments",
                        json!({"name": format!("s{}", unique()), "filter": filter}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{id}", &r["id"].to_string());
                if method == "PATCH" {
                    body = Some(json!({"name": "Renamed"}));
                }
            } else if template.ends_with("/preview") {
                body = Some(json!({"filter": filter}));
            } else if method == "POST" {
                body = Some(json!({"name": format!("s{}", unique()), "filter": filter}));
            }
        } else if template.starts_with("/api/campaigns") {
            let session = if row.case == "other session" {
                "second"
            } else {
                "default"
            };
            let contact = self.contact(&row.case).await;
            if template.contains("{id}") {
                let (code, r) = self
                    .s
                    .post(
                        "/api/campaigns",
                        json!({"name": format!("c{}", unique()), "session": session,
                            "contact_ids": [contact], "template": "Hello {{contact.name}}"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{id}", &r["id"].to_string());
                body = match template.rsplit('/').next() {
                    Some("{id}") if method == "PATCH" => Some(json!({"name": "Renamed"})),
                    Some("test") => Some(json!({"phone": "+447700900555"})),
                    _ => None,
                };
            } else if template.ends_with("/audience") {
                body = Some(json!({"session": session, "contact_ids": [contact]}));
            } else if template.ends_with("/render") {
                body = Some(json!({"template": "Hi {{contact.name}}", "contact_id": contact}));
            } else if method == "POST" {
                body = Some(json!({"name": format!("c{}", unique()), "session": session,
                    "contact_ids": [contact], "template": "Hello"}));
            }
        } else if template.starts_with("/api/templates") {
            if template.contains("{id}") {
                let (code, r) = self
                    .s
                    .post(
                        "/api/templates",
                        json!({"name": format!("t{}", unique()), "body": "Hi {{contact.first_name | \"there\"}}"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{id}", &r["id"].to_string());
                if method == "PATCH" {
                    body = Some(json!({"name": "Renamed"}));
                }
            } else if method == "POST" {
                body = Some(json!({"name": format!("t{}", unique()), "body": "Hello!"}));
            }
        } else if template.starts_with("/api/quick-replies") {
            if template.contains("{id}") {
                let (code, r) = self
                    .s
                    .post(
                        "/api/quick-replies",
                        json!({"shortcut": format!("qr{}", unique()), "text": "Thanks, {{contact.first_name}}!"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                path = template.replace("{id}", &r["id"].to_string());
                if method == "PATCH" {
                    body = Some(json!({"text": "Thank you!"}));
                }
            } else if method == "POST" {
                body = Some(json!({"shortcut": format!("new{}", unique()), "text": "Hello!"}));
            }
        } else if template.starts_with("/api/team-members") {
            if template.contains("{id}") {
                path = template.replace("{id}", &self.target(&row.case).await.to_string());
                body = match template.rsplit('/').next() {
                    Some("password") => Some(json!({"password": "another-secret-77"})),
                    Some("{id}") if method == "PATCH" => Some(json!({"skills": ["matrix"]})),
                    _ => None,
                };
            } else if method == "POST" {
                let (role, sessions) = match row.case.as_str() {
                    "a manager" => ("manager", json!(["default"])),
                    "an agent of another session" => ("agent", json!(["second"])),
                    _ => ("agent", json!(["default"])),
                };
                body = Some(
                    json!({"email": format!("n{}@matrix.test", unique()), "name": "New",
                    "role": role, "password": MEMBER_PASSWORD, "sessions": sessions}),
                );
            }
        } else if template.starts_with("/api/bots") {
            if template.contains("{id}") {
                let id = self.bot(&row.case).await;
                path = template.replace("{id}", &id.to_string());
                body = match template.rsplit('/').next() {
                    Some("{id}") if method == "PATCH" => Some(json!({"name": "Renamed"})),
                    Some("test") => Some(json!({"text": "what is the price?"})),
                    Some("trigger-order") => {
                        let (a, b) = (self.trigger_of(id).await, self.trigger_of(id).await);
                        Some(json!({"trigger_ids": [b, a]}))
                    }
                    Some("replay") => {
                        let conv = self.conversation("queue", "what is the price?").await;
                        Some(json!({"conversation_id": conv}))
                    }
                    _ => None,
                };
            } else if method == "POST" {
                let sessions = if row.case == "other session" {
                    json!(["second"])
                } else {
                    json!([])
                };
                if row.case == "other session" && role == "admin" {
                    self.free_second().await;
                }
                body = Some(json!({"name": format!("bot {}", unique()), "sessions": sessions}));
            }
        } else if template.starts_with("/api/triggers") {
            if template.contains("{id}") {
                let id = self.trigger(&row.case).await;
                path = template.replace("{id}", &id.to_string());
                if method == "PATCH" {
                    body = Some(json!({"priority": 7}));
                }
            } else if method == "POST" {
                let bot = self.bot(&row.case).await;
                body = Some(
                    json!({"bot_id": bot, "match": "word", "pattern": "hours", "priority": 2,
                    "response": "9 to 5", "action": "reply"}),
                );
            }
        } else if template.starts_with("/api/analytics/") {
            if row.case == "other session" {
                path = format!("{template}?session=second");
            }
        } else if template.starts_with("/api/webhook-subscriptions") {
            if template.contains("{id}") {
                let id = self.subscription().await;
                path = template.replace("{id}", &id.to_string());
                if template.contains("{delivery_id}") {
                    let d = self.delivery_of(id).await;
                    path = path.replace("{delivery_id}", &d.to_string());
                }
                if method == "PATCH" {
                    body = Some(json!({"active": false}));
                }
            } else if method == "POST" {
                body = Some(
                    json!({"url": "http://127.0.0.1:9/hook", "events": ["message.created"],
                    "secret": "matrix-secret-0123456789"}),
                );
            }
        } else if template.starts_with("/api/api-keys") {
            if template.contains("{id}") {
                let (id, _) = self.api_key(&["contacts:read"]).await;
                path = template.replace("{id}", &id.to_string());
            } else if method == "POST" {
                body =
                    Some(json!({"name": format!("key {}", unique()), "scopes": ["contacts:read"]}));
            }
        } else if template == "/api/settings/waha" && method == "PUT" {
            body = Some(json!({"api_key": null}));
        } else if template == "/api/settings/smtp" && method == "PUT" {
            body = Some(json!({"password": null}));
        } else if template == "/api/me/notifications" && method == "PUT" {
            body = Some(json!({"daily_summary": false, "handoff": "offline"}));
        } else if template == "/api/analytics/csat" && row.case == "other session" {
            path = format!("{template}?session=second");
        } else if template == "/api/auth/logout" {
            let email = if role == "admin" {
                common::ADMIN_EMAIL.to_string()
            } else {
                format!("{role}@matrix.test")
            };
            let password = if role == "admin" {
                common::ADMIN_PASSWORD
            } else {
                MEMBER_PASSWORD
            };
            token = common::login(&self.s.http, &self.s.hub.url, &email, password).await;
        } else if template == "/api/auth/password" {
            let current = if role == "admin" {
                common::ADMIN_PASSWORD
            } else {
                MEMBER_PASSWORD
            };
            body = Some(
                json!({"current_password": current, "new_password": format!("{role}-rotated-pass-9")}),
            );
        }
        (method.to_string(), path, body, token)
    }
}

fn check(expect: &str, code: u16, what: &str) {
    if expect == "✓" {
        assert!(
            code < 500 && ![401, 403, 404].contains(&code),
            "{what}: expected it allowed, got {code}"
        );
    } else {
        assert_eq!(code.to_string(), expect, "{what}");
    }
}

async fn every_endpoint_allows_and_refuses_as_documented(b: Backend) {
    let fx = Fixture::new(b).await;
    let rows = table("HTTP");
    // Every operation of the OpenAPI document has a row (or is one of the public ones).
    let (_, doc) = fx.s.get("/api/openapi.json").await;
    let documented: BTreeSet<String> = rows.iter().map(|r| r.what.clone()).collect();
    let public = [
        "GET /",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/openapi.json",
        "POST /api/auth/login",
        "POST /webhooks/waha",
        "GET /ws",
    ];
    let mut missing = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            let op = format!("{} {path}", method.to_uppercase());
            if !documented.contains(&op) && !public.contains(&op.as_str()) {
                missing.push(op);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations without a row in docs/permissions.md: {missing:?}"
    );
    for p in public {
        let (method, path) = p.split_once(' ').expect("pair");
        if method == "GET" && path != "/ws" {
            let (code, _) = fx.s.get_anonymous(path).await;
            assert_ne!(code, 401, "{p} is public");
        }
    }

    // An admin's API key that may only manage webhooks: every other row refuses it.
    let (_, key) = fx.api_key(&["webhooks:manage"]).await;
    for row in &rows {
        for role in ROLES {
            let (method, path, body, token) = fx.http_call(row, role).await;
            let (code, answer) = fx.s.as_user(&token, &method, &path, body).await;
            check(
                &row.expect[role],
                code,
                &format!("{role}: {} ({}) {path}: {answer}", row.what, row.case),
            );
        }
        let (method, path, body, _) = fx.http_call(row, "admin").await;
        let (code, answer) = fx.s.as_user(&key, &method, &path, body).await;
        let what = format!(
            "an API key with webhooks:manage: {} ({}) {path}: {answer}",
            row.what, row.case
        );
        if row.what.contains(" /api/webhook-subscriptions") {
            check(&row.expect["admin"], code, &what);
        } else {
            assert_eq!(code, 403, "{what}");
        }
        // Without a token, every row is 401.
        let (code, _) = fx.s.as_user("", &method, &path, None).await;
        assert_eq!(code, 401, "{} without a token", row.what);
    }
}
both!(every_endpoint_allows_and_refuses_as_documented);

/// Sends `cmd` with a ref and waits for its `ack` or `error`: "✓" or the error's code.
async fn outcome(ws: &mut Socket, cmd: Value) -> String {
    outcome_keeping(ws, cmd, &mut Vec::new()).await
}

/// `outcome`, keeping the other frames that arrive meanwhile in `seen`.
async fn outcome_keeping(ws: &mut Socket, mut cmd: Value, seen: &mut Vec<Value>) -> String {
    let r = format!("r{}", unique());
    cmd["ref"] = json!(r);
    ws.send(cmd).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let f = ws
            .next(left)
            .await
            .unwrap_or_else(|| panic!("no answer to ref {r}"));
        if f["data"]["ref"] == r.as_str() {
            return match f["type"].as_str() {
                Some("ack") => "✓".into(),
                Some("error") => f["data"]["code"].as_str().unwrap_or("?").into(),
                other => panic!("unexpected answer {other:?}: {f}"),
            };
        }
        seen.push(f);
    }
}

async fn every_websocket_command_allows_and_refuses_as_documented(b: Backend) {
    let fx = Fixture::new(b).await;
    let mut sockets = HashMap::new();
    for role in ROLES {
        sockets.insert(
            role,
            Socket::connect(&fx.s.hub.url, &fx.token(role), None).await,
        );
    }
    for row in table("Websocket commands") {
        for role in ROLES {
            let me = fx.members[role].id;
            let cmd = if row.what == "presence.set" {
                json!({"type": "presence.set", "data": {"status": "busy"}})
            } else {
                let id = fx.conversation(&row.case, "hello").await;
                let data = match row.what.as_str() {
                    "message.send" => {
                        json!({"conversation_id": id, "text": "hi", "client_id": format!("c{}", unique())})
                    }
                    "conversation.assign" => json!({"conversation_id": id, "assignee_id": me}),
                    "conversation.note" => json!({"conversation_id": id, "text": "a note"}),
                    _ => json!({"conversation_id": id}),
                };
                json!({"type": row.what, "data": data})
            };
            let ws = sockets.get_mut(role).expect("socket");
            let got = outcome(ws, cmd).await;
            assert_eq!(got, row.expect[role], "{role}: {} ({})", row.what, row.case);
        }
    }
}
both!(every_websocket_command_allows_and_refuses_as_documented);

/// How to recognise the frame an event row's trigger produced.
struct Probe {
    kind: &'static str,
    logged: bool,
    matches: Box<dyn Fn(&Value) -> bool + Send>,
}

async fn every_event_reaches_whom_it_should_live_and_on_replay(b: Backend) {
    let fx = Fixture::new(b).await;
    let mut sockets = HashMap::new();
    let mut start = HashMap::new();
    for role in ROLES {
        let ws = Socket::connect(&fx.s.hub.url, &fx.token(role), None).await;
        start.insert(role, ws.last_seq);
        sockets.insert(role, ws);
    }
    let rows = table("Events");
    // What the admin's socket received while it waited for its own command's ack.
    let mut admin_frames = Vec::new();
    let mut probes: Vec<(Row, Probe)> = Vec::new();
    for row in rows {
        let n = unique();
        let probe = match row.what.as_str() {
            "message.created" | "conversation.updated" | "note.created" | "typing" => {
                // The conversation exists (and is assigned) before the trigger.
                let id = fx.conversation(&row.case, "setup").await;
                let text = format!("trigger-{n}");
                match row.what.as_str() {
                    "note.created" => {
                        let (code, _) =
                            fx.s.post(
                                &format!("/api/conversations/{id}/notes"),
                                json!({"text": text}),
                            )
                            .await;
                        assert_eq!(code, 201);
                        let t = text.clone();
                        Probe {
                            kind: "note.created",
                            logged: true,
                            matches: Box::new(move |d| d["text"] == t.as_str()),
                        }
                    }
                    "typing" => {
                        let ws = sockets.get_mut("admin").expect("admin");
                        let cmd = json!({"type": "typing", "data": {"conversation_id": id}});
                        assert_eq!(outcome_keeping(ws, cmd, &mut admin_frames).await, "✓");
                        Probe {
                            kind: "typing",
                            logged: false,
                            matches: Box::new(move |d| {
                                d["conversation_id"] == id && d["who"] == "agent"
                            }),
                        }
                    }
                    kind => {
                        let (chat, _) = {
                            let (_, c) = fx.s.get(&format!("/api/conversations/{id}")).await;
                            (c["chat_id"].as_str().expect("chat").to_string(), c)
                        };
                        let session = if row.case == "other session" {
                            "second"
                        } else {
                            "default"
                        };
                        let mut env = envelope(
                            "message",
                            inbound_payload(&chat, &format!("false_{chat}_t{n}"), &text),
                        );
                        env["session"] = json!(session);
                        assert_eq!(fx.s.webhook(&env).await.0, 200);
                        let t = text.clone();
                        if kind == "message.created" {
                            Probe {
                                kind: "message.created",
                                logged: true,
                                matches: Box::new(move |d| d["text"] == t.as_str()),
                            }
                        } else {
                            Probe {
                                kind: "conversation.updated",
                                logged: true,
                                matches: Box::new(move |d| d["last_message_preview"] == t.as_str()),
                            }
                        }
                    }
                }
            }
            "session.settings" => {
                let name = if row.case == "other session" {
                    "second"
                } else {
                    "spare"
                };
                // From whatever it is to `assignee` and back: at least one change each way.
                for p in ["assignee", "anyone"] {
                    let (code, _) =
                        fx.s.request(
                            reqwest::Method::PATCH,
                            &format!("/api/sessions/{name}"),
                            |r| r.bearer_auth(&fx.s.token).json(&json!({"reply_policy": p})),
                        )
                        .await;
                    assert_eq!(code, 200);
                }
                Probe {
                    kind: "session.settings",
                    logged: true,
                    matches: Box::new(move |d| d["session"] == name),
                }
            }
            "sla.breached" => {
                let name = if row.case == "other session" {
                    "second"
                } else {
                    "spare"
                };
                let chat = format!("44775{n:06}@c.us");
                let mut env = envelope(
                    "message",
                    inbound_payload(&chat, &format!("false_{chat}_sla{n}"), "still waiting"),
                );
                env["session"] = json!(name);
                assert_eq!(fx.s.webhook(&env).await.0, 200);
                let path = format!("/api/sessions/{name}");
                let (code, r) = fx.s.patch(&path, json!({"sla_wait_seconds": 1})).await;
                assert_eq!(code, 200, "{r}");
                // Alerted by the hub's watcher: the admin (who sees every alert) waits for
                // it, so that it is logged before the marker.
                let c = chat.clone();
                let ws = sockets.get_mut("admin").expect("admin");
                let got = ws
                    .collect_until(Duration::from_secs(20), |fs| {
                        fs.iter().any(|f| {
                            f["type"] == "sla.breached" && f["data"]["chat_id"] == c.as_str()
                        })
                    })
                    .await;
                admin_frames.extend(got);
                let (code, r) = fx.s.patch(&path, json!({"sla_wait_seconds": null})).await;
                assert_eq!(code, 200, "{r}");
                Probe {
                    kind: "sla.breached",
                    logged: true,
                    matches: Box::new(move |d| d["chat_id"] == chat.as_str()),
                }
            }
            "contact.updated" => {
                let session = if row.case == "other session" {
                    "second"
                } else {
                    "spare"
                };
                let (code, c) =
                    fx.s.post(
                        "/api/contacts",
                        json!({"session": session, "phone": format!("44772{:06}", n)}),
                    )
                    .await;
                assert_eq!(code, 201, "{c}");
                let id = c["id"].as_i64().expect("id");
                let (code, r) =
                    fx.s.as_user(
                        &fx.s.token,
                        "PATCH",
                        &format!("/api/contacts/{id}"),
                        Some(json!({"notes": format!("probe {n}")})),
                    )
                    .await;
                assert_eq!(code, 200, "{r}");
                Probe {
                    kind: "contact.updated",
                    logged: true,
                    matches: Box::new(move |d| d["id"] == id && d["change"] == "updated"),
                }
            }
            "segment.updated" => {
                let (code, r) =
                    fx.s.post(
                        "/api/segments",
                        json!({"name": format!("probe {n}"), "filter": {"all": []}}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                let id = r["id"].as_i64().expect("id");
                Probe {
                    kind: "segment.updated",
                    logged: true,
                    matches: Box::new(move |d| d["id"] == id && d["change"] == "created"),
                }
            }
            "campaign.progress" => {
                let session = if row.case == "other session" {
                    "second"
                } else {
                    "spare"
                };
                let (code, c) =
                    fx.s.post(
                        "/api/contacts",
                        json!({"session": session, "phone": format!("44774{:06}", n)}),
                    )
                    .await;
                assert_eq!(code, 201, "{c}");
                let (code, r) =
                    fx.s.post(
                        "/api/campaigns",
                        json!({"name": format!("probe {n}"), "session": session,
                            "contact_ids": [c["id"]], "template": "Hello"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                let id = r["id"].as_i64().expect("id");
                Probe {
                    kind: "campaign.progress",
                    logged: true,
                    matches: Box::new(move |d| d["campaign_id"] == id),
                }
            }
            "template.updated" => {
                let (code, r) =
                    fx.s.post(
                        "/api/templates",
                        json!({"name": format!("probe {n}"), "body": "Hi"}),
                    )
                    .await;
                assert_eq!(code, 201, "{r}");
                let id = r["id"].as_i64().expect("id");
                Probe {
                    kind: "template.updated",
                    logged: true,
                    matches: Box::new(move |d| d["id"] == id && d["change"] == "created"),
                }
            }
            "member.updated" | "presence.updated" => {
                let target =
                    fx.s.member(&format!("e{n}@matrix.test"), "agent", &["default"])
                        .await;
                let id = target.id;
                if row.what == "member.updated" {
                    let (code, _) =
                        fx.s.request(
                            reqwest::Method::PATCH,
                            &format!("/api/team-members/{id}"),
                            |r| {
                                r.bearer_auth(&fx.s.token)
                                    .json(&json!({"skills": ["probe"]}))
                            },
                        )
                        .await;
                    assert_eq!(code, 200);
                    Probe {
                        kind: "member.updated",
                        logged: true,
                        matches: Box::new(move |d| {
                            d["id"] == id && d["skills"] == json!(["probe"])
                        }),
                    }
                } else {
                    // Their first socket makes them online.
                    let ws = Socket::connect(&fx.s.hub.url, &target.token, None).await;
                    std::mem::forget(ws);
                    Probe {
                        kind: "presence.updated",
                        logged: true,
                        matches: Box::new(move |d| d["user_id"] == id && d["status"] == "online"),
                    }
                }
            }
            other => panic!("no trigger for the event {other}"),
        };
        probes.push((row, probe));
    }
    // A marker for every socket, logged after every trigger: a change to each member's
    // own record reaches them (and supervisors); then nothing it should have is missing.
    let mut marker = HashMap::new();
    for role in ROLES {
        let id = fx.members[role].id;
        let tag = format!("marker-{}", unique());
        let (code, r) =
            fx.s.request(
                reqwest::Method::PATCH,
                &format!("/api/team-members/{id}"),
                |r| {
                    r.bearer_auth(&fx.s.token)
                        .json(&json!({"skills": [tag.clone()]}))
                },
            )
            .await;
        if role != "admin" {
            assert_eq!(code, 200, "{r}");
        }
        marker.insert(role, (id, tag));
    }
    let marketing = marker["marketing"].clone();
    let seen_marker = |role: &str, frames: &[Value]| {
        let (id, tag) = if ["admin", "manager"].contains(&role) {
            &marketing
        } else {
            &marker[role]
        };
        frames.iter().any(|f| {
            f["type"] == "member.updated"
                && f["data"]["id"] == *id
                && f["data"]["skills"] == json!([tag])
        })
    };
    for role in ROLES {
        let ws = sockets.get_mut(role).expect("socket");
        let mut live = if role == "admin" {
            std::mem::take(&mut admin_frames)
        } else {
            Vec::new()
        };
        live.extend(
            ws.collect_until(Duration::from_secs(15), |f| seen_marker(role, f))
                .await,
        );
        assert!(
            seen_marker(role, &live),
            "{role}: the marker never arrived: {live:?}"
        );
        let mut replay_ws =
            Socket::connect(&fx.s.hub.url, &fx.token(role), Some(start[role])).await;
        let replayed = replay_ws
            .collect_until(Duration::from_secs(15), |f| seen_marker(role, f))
            .await;
        assert!(
            seen_marker(role, &replayed),
            "{role}: the replay never reached the marker"
        );
        for (row, probe) in &probes {
            let want = row.expect[role] == "✓";
            let got = |frames: &[Value]| {
                frames
                    .iter()
                    .any(|f| f["type"] == probe.kind && (probe.matches)(&f["data"]))
            };
            assert_eq!(
                got(&live),
                want,
                "{role} live: {} ({}); frames: {:?}",
                row.what,
                row.case,
                live.iter()
                    .map(|f| format!("{} {}", f["type"], f["data"]["text"]))
                    .collect::<Vec<_>>()
            );
            if probe.logged {
                assert_eq!(
                    got(&replayed),
                    want,
                    "{role} on replay: {} ({})",
                    row.what,
                    row.case
                );
            } else {
                assert!(
                    !got(&replayed),
                    "{role}: {} is ephemeral, never replayed",
                    row.what
                );
            }
        }
    }
}
both!(every_event_reaches_whom_it_should_live_and_on_replay);
