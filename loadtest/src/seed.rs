//! `loadtest seed`: fills a fresh tickhub database (SQLite or PostgreSQL) with a big,
//! plausible inbox — sessions, members, contacts with tags, conversations in every status
//! and assignee, their messages, assignments and resolves, and recent inbox and event-log
//! rows — so that the queries, the webhook path and the analytics rebuild can be measured
//! at size (issues 16 and 19).
//!
//! It lives here rather than in `tickhub` because it is a benchmark fixture, not something
//! an operator runs; it still applies the hub's own migrations and hashes the members'
//! password the hub's way (through the `tickhub` library), so the data is what the hub
//! would hold. Rows go in many per statement (every value bound), in a few transactions:
//! a million messages take well under a minute on PostgreSQL and SQLite.

use std::time::Instant;

use clap::Parser;

use crate::seed_data::{self as data, Rng};
use crate::seed_db::{connect, Pools, SeedError, V};

/// Seed a fresh tickhub database with a big inbox (it refuses one that holds anything).
#[derive(Parser, Debug)]
#[command(name = "loadtest seed")]
pub struct SeedArgs {
    /// sqlite://PATH (created if missing) or postgres://…
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value_t = 100_000)]
    pub conversations: u64,
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// WhatsApp sessions the conversations are spread over (`default` is the first)
    #[arg(long, default_value_t = 4)]
    pub sessions: u64,
    /// Agents (`agent01@acme.test` …), besides the admin and 2 managers
    #[arg(long, default_value_t = 24)]
    pub agents: u64,
    /// Recent rows in the webhook inbox and in the event log (each)
    #[arg(long, default_value_t = 100_000)]
    pub log_rows: u64,
    /// The admin's email (`run.sh`'s bench admin by default)
    #[arg(long, default_value = "bench@acme.test")]
    pub email: String,
    /// Every seeded member's password
    #[arg(long, default_value = "s3cret-Passw0rd")]
    pub password: String,
    /// Random seed: the same seed writes the same database
    #[arg(long, default_value_t = 16)]
    pub seed: u64,
}

/// A seeded conversation, as its messages need it.
struct Conv {
    session_id: i64,
    chat_id: String,
    push_name: Option<String>,
    assignee: Option<i64>,
    /// Members of its session (who may have written its outbound messages).
    writers: Vec<i64>,
}

/// The message at global position `id` (`k`-th of its conversation): same answer every
/// time, so the conversation's preview can be written before its messages.
fn message_of(seed: u64, id: i64, k: u32) -> (bool, String) {
    let mut r = Rng::new(seed ^ (id as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let inbound = k == 0 || r.chance(0.55);
    (inbound, data::message_text(&mut r, inbound))
}

pub async fn run(a: SeedArgs) -> Result<(), SeedError> {
    if a.conversations == 0 || a.messages < a.conversations || a.sessions == 0 || a.agents == 0 {
        return Err(SeedError::Refused(
            "need conversations > 0, messages >= conversations, sessions > 0 and agents > 0".into(),
        ));
    }
    let t0 = Instant::now();
    let (pools, db) = connect(&a.database_url).await?;
    db.migrate().await?;
    for table in ["users", "wa_sessions", "conversations", "messages"] {
        let n = pools.count(table).await?;
        if n > 0 {
            return Err(SeedError::Refused(format!(
                "the database is not empty ({n} rows in {table}): seed a fresh one"
            )));
        }
    }
    eprintln!("seed: schema ready ({:.1} s)", t0.elapsed().as_secs_f64());
    let sqlite = matches!(pools, Pools::Sqlite(_));
    let mut rng = Rng::new(a.seed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    const DAY: i64 = 86_400_000;

    pools.exec("BEGIN").await?;

    // sessions: `default` first (the load test's), then sales, support, …
    let names = [
        "default",
        "sales",
        "support",
        "billing",
        "events",
        "wholesale",
    ];
    let sessions: Vec<Vec<V>> = (0..a.sessions)
        .map(|i| {
            let name = names
                .get(i as usize)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("line{i}"));
            vec![
                V::I(i as i64 + 1),
                V::T(name),
                V::T("STOPPED".into()),
                V::I(now - 400 * DAY),
                V::I(now - 400 * DAY),
                V::B(false),
            ]
        })
        .collect();
    pools
        .insert(
            "wa_sessions",
            &[
                "id",
                "name",
                "status",
                "created_at",
                "updated_at",
                "wants_running",
            ],
            &sessions,
        )
        .await?;

    // members: the admin (1), two managers (2, 3), the agents (4 …); one hash for all
    let hash =
        tickhub::credentials::hash(&a.password).map_err(|e| SeedError::Hash(e.to_string()))?;
    let mut users = vec![vec![
        V::I(1),
        V::T(a.email.clone()),
        V::T("Bench Admin".into()),
        V::T("admin".into()),
        V::T(hash.clone()),
        V::I(now - 400 * DAY),
        V::I(now - 400 * DAY),
    ]];
    let mut member_sessions = Vec::new();
    // who works in each session (agents only: managers see all, are assigned rarely)
    let mut staff: Vec<Vec<i64>> = vec![Vec::new(); a.sessions as usize];
    for m in 0..2 + a.agents {
        let id = m as i64 + 2;
        let (email, role) = if m < 2 {
            (format!("manager{:02}@acme.test", m + 1), "manager")
        } else {
            (format!("agent{:02}@acme.test", m - 1), "agent")
        };
        users.push(vec![
            V::I(id),
            V::T(email),
            V::T(data::person_name(&mut rng)),
            V::T(role.into()),
            V::T(hash.clone()),
            V::I(now - 300 * DAY),
            V::I(now - 300 * DAY),
        ]);
        if m >= 2 {
            let home = (m - 2) % a.sessions;
            let mut mine = vec![home];
            if m % 3 == 0 && a.sessions > 1 {
                mine.push((home + 1) % a.sessions);
            }
            for s in mine {
                member_sessions.push(vec![V::I(id), V::I(s as i64 + 1)]);
                staff[s as usize].push(id);
            }
        }
    }
    pools
        .insert(
            "users",
            &[
                "id",
                "email",
                "name",
                "role",
                "password_hash",
                "created_at",
                "updated_at",
            ],
            &users,
        )
        .await?;
    pools
        .insert(
            "member_sessions",
            &["user_id", "session_id"],
            &member_sessions,
        )
        .await?;

    // conversations and their contacts; message counts (1 % long threads) and times
    let n = a.conversations as usize;
    let mut counts = vec![1u32; n];
    let mut extra = a.messages - a.conversations;
    for c in counts.iter_mut() {
        if extra > 0 && rng.chance(0.01) {
            let long = (100 + rng.below(300)).min(extra);
            *c += long as u32;
            extra -= long;
        }
    }
    for _ in 0..extra {
        counts[rng.below(n as u64) as usize] += 1;
    }
    // (time, conversation, k): sorted by time, the position is the message id, so ids grow
    // with time as the hub's do
    let mut timeline: Vec<(i64, u32, u32)> = Vec::with_capacity(a.messages as usize);
    let mut convs = Vec::with_capacity(n);
    let mut contacts = Vec::new();
    let mut tags = Vec::new();
    let mut conv_rows = Vec::with_capacity(n);
    let mut timeline_start = Vec::with_capacity(n);
    let mut resolved = Vec::with_capacity(n);
    let mut contact_id = 0i64;
    for (i, &count) in counts.iter().enumerate() {
        let session = if rng.chance(0.4) {
            0
        } else {
            rng.below(a.sessions)
        };
        let started = now - 365 * DAY + rng.below(364 * DAY as u64) as i64;
        timeline_start.push(started);
        let mut t = started;
        for k in 0..count {
            timeline.push((t, i as u32, k));
            // minutes between messages, now and then a day
            t += if rng.chance(0.05) {
                DAY
            } else {
                30_000 + rng.below(600_000) as i64
            };
            t = t.min(now - 1000);
        }
        let group = rng.chance(0.03);
        let (chat_id, contact, push_name, title) = if group {
            (
                format!("1203630{:011}@g.us", i),
                None,
                None,
                Some(format!("{} team", data::person_name(&mut rng))),
            )
        } else {
            contact_id += 1;
            let digits = data::phone_digits(i as u64);
            let chat = format!("{digits}@c.us");
            let push = rng.chance(0.9).then(|| data::person_name(&mut rng));
            let name = rng.chance(0.4).then(|| data::person_name(&mut rng));
            let email = rng.chance(0.2).then(|| {
                format!(
                    "customer{i}@{}",
                    rng.pick(&["gmail.com", "outlook.com", "acme.com.br"])
                )
            });
            let notes = rng.chance(0.1).then(|| {
                format!(
                    "Prefers {} deliveries",
                    rng.pick(&["morning", "evening", "weekend"])
                )
            });
            contacts.push(vec![
                V::I(contact_id),
                V::I(session as i64 + 1),
                V::T(chat.clone()),
                V::OT(Some(format!("+{digits}"))),
                V::OT(name),
                V::OT(push.clone()),
                V::OT(email),
                V::OT(notes),
                V::I(started),
                V::I(started),
            ]);
            if rng.chance(0.25) {
                let first = rng.below(data::TAGS.len() as u64) as usize;
                tags.push(vec![
                    V::I(contact_id),
                    V::T(data::TAGS[first].into()),
                    V::I(started),
                ]);
                if rng.chance(0.3) {
                    let second = (first + 1) % data::TAGS.len();
                    tags.push(vec![
                        V::I(contact_id),
                        V::T(data::TAGS[second].into()),
                        V::I(started),
                    ]);
                }
            }
            (chat, Some(contact_id), push, None)
        };
        let writers = staff[session as usize].clone();
        let status = match rng.below(100) {
            0..=69 => "resolved",
            70..=87 => "open",
            _ => "pending",
        };
        let assignee = match status {
            "pending" => None,
            _ if writers.is_empty() || rng.chance(0.05) => None,
            _ => Some(rng.pick(&writers)),
        };
        resolved.push(status == "resolved");
        let unread = if status == "resolved" {
            0
        } else {
            rng.below(6) as i64
        };
        let waiting = (assignee.is_none() && status != "resolved").then_some(started);
        conv_rows.push((
            i as i64 + 1,
            session as i64 + 1,
            chat_id.clone(),
            contact,
            group,
            title,
            status,
            assignee,
            unread,
            started,
            waiting,
        ));
        convs.push(Conv {
            session_id: session as i64 + 1,
            chat_id,
            push_name,
            assignee,
            writers,
        });
    }
    timeline.sort_unstable();
    // each conversation's last message: its id and time
    let mut last = vec![(0i64, 0i64, 0u32); n];
    for (pos, &(t, c, k)) in timeline.iter().enumerate() {
        last[c as usize] = (pos as i64 + 1, t, k);
    }
    pools
        .insert(
            "contacts",
            &[
                "id",
                "session_id",
                "chat_id",
                "phone",
                "name",
                "push_name",
                "email",
                "notes",
                "created_at",
                "updated_at",
            ],
            &contacts,
        )
        .await?;
    pools
        .insert("contact_tags", &["contact_id", "tag", "created_at"], &tags)
        .await?;
    let rows: Vec<Vec<V>> = conv_rows
        .into_iter()
        .map(
            |(id, s, chat, contact, group, title, status, assignee, unread, started, waiting)| {
                let (last_id, last_at, k) = last[id as usize - 1];
                let (_, text) = message_of(a.seed, last_id, k);
                vec![
                    V::I(id),
                    V::I(s),
                    V::T(chat),
                    V::OI(contact),
                    V::B(group),
                    V::OT(title),
                    V::T(status.into()),
                    V::OI(assignee),
                    V::I(unread),
                    V::I(last_at),
                    V::OT(Some(text.chars().take(140).collect())),
                    V::I(started),
                    V::I(last_at),
                    V::OI(waiting),
                ]
            },
        )
        .collect();
    pools
        .insert(
            "conversations",
            &[
                "id",
                "session_id",
                "chat_id",
                "contact_id",
                "is_group",
                "title",
                "status",
                "assignee_id",
                "unread",
                "last_message_at",
                "last_message_preview",
                "created_at",
                "updated_at",
                "waiting_since",
            ],
            &rows,
        )
        .await?;
    // What analytics rebuilds cycles from besides the messages: each assigned
    // conversation's assignment a minute after it began, and each resolved one's resolve
    // (audited, as the hub records it) five minutes after its last message.
    let mut assignments = Vec::new();
    let mut resolves = Vec::new();
    for (i, c) in convs.iter().enumerate() {
        let (_, last_at, _) = last[i];
        let started = timeline_start[i];
        if let Some(to) = c.assignee {
            assignments.push(vec![
                V::I(i as i64 + 1),
                V::OI(Some(to)),
                V::OI(Some(1)),
                V::T("took".into()),
                V::I(started + 60_000),
            ]);
        }
        if resolved[i] {
            resolves.push(vec![
                V::I(last_at + 300_000),
                V::OI(c.assignee.or(Some(1))),
                V::T("http".into()),
                V::T("conversation.resolve".into()),
                V::T("conversation".into()),
                V::OT(Some((i + 1).to_string())),
                V::OI(Some(c.session_id)),
            ]);
        }
    }
    pools
        .insert(
            "assignments",
            &[
                "conversation_id",
                "to_user_id",
                "by_user_id",
                "reason",
                "created_at",
            ],
            &assignments,
        )
        .await?;
    pools
        .insert(
            "audit_log",
            &[
                "created_at",
                "actor_id",
                "via",
                "action",
                "target_type",
                "target_id",
                "session_id",
            ],
            &resolves,
        )
        .await?;
    pools.exec("COMMIT").await?;
    eprintln!(
        "seed: {} assignments, {} resolves",
        assignments.len(),
        resolves.len()
    );
    drop((assignments, resolves));
    eprintln!(
        "seed: {} sessions, {} members, {} contacts, {} conversations ({:.1} s)",
        a.sessions,
        users.len(),
        contacts.len(),
        n,
        t0.elapsed().as_secs_f64()
    );
    drop((contacts, tags, users));

    // messages, in id order, a transaction per 100,000
    let log_from = timeline.len().saturating_sub(a.log_rows as usize);
    let (mut inbox, mut events) = (Vec::new(), Vec::new());
    let mut batch = Vec::with_capacity(100_000);
    let cols = [
        "id",
        "conversation_id",
        "session_id",
        "waha_id",
        "raw_id",
        "direction",
        "text",
        "status",
        "sender",
        "sender_name",
        "author_id",
        "wa_timestamp",
        "created_at",
    ];
    for (pos, &(t, c, k)) in timeline.iter().enumerate() {
        let id = pos as i64 + 1;
        let conv = &convs[c as usize];
        let (inbound, text) = message_of(a.seed, id, k);
        let waha_id = format!(
            "{}_{}_{:020X}",
            if inbound { "false" } else { "true" },
            conv.chat_id,
            id
        );
        let raw_id = tickhub::domain::chat::raw_message_id(&waha_id).to_string();
        let author = (!inbound)
            .then(|| conv.assignee.or_else(|| conv.writers.first().copied()))
            .flatten();
        if pos >= log_from {
            if inbound {
                let body = serde_json::json!({"event": "message", "session": names[0],
                    "payload": {"id": waha_id, "from": conv.chat_id, "body": text, "fromMe": false}});
                inbox.push(vec![
                    V::T(format!("msg:{}:{}", conv.session_id, raw_id)),
                    V::I(conv.session_id),
                    V::T("message".into()),
                    V::T(body.to_string()),
                    V::I(t),
                    V::OI(Some(t + 3)),
                    V::I(1),
                ]);
            }
            let data = serde_json::json!({"id": id, "conversation_id": c as i64 + 1,
                "direction": if inbound { "in" } else { "out" }, "text": text, "waha_id": waha_id,
                "status": if inbound { "delivered" } else { "read" }, "created_at": t});
            events.push(vec![
                V::T("message.created".into()),
                V::OI(Some(conv.session_id)),
                V::OI(Some(c as i64 + 1)),
                V::OI(conv.assignee),
                V::B(false),
                V::T(data.to_string()),
                V::I(t),
            ]);
        }
        batch.push(vec![
            V::I(id),
            V::I(c as i64 + 1),
            V::I(conv.session_id),
            V::OT(Some(waha_id)),
            V::OT(Some(raw_id)),
            V::T(if inbound { "in" } else { "out" }.into()),
            V::T(text),
            V::T(if inbound { "delivered" } else { "read" }.into()),
            V::OT(inbound.then(|| conv.chat_id.clone())),
            V::OT(if inbound {
                conv.push_name.clone()
            } else {
                None
            }),
            V::OI(author),
            V::OI(Some(t / 1000)),
            V::I(t),
        ]);
        if batch.len() == 100_000 || pos + 1 == timeline.len() {
            pools.exec("BEGIN").await?;
            pools.insert("messages", &cols, &batch).await?;
            pools.exec("COMMIT").await?;
            batch.clear();
            eprintln!(
                "seed: {} messages ({:.1} s)",
                pos + 1,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    pools.exec("BEGIN").await?;
    pools
        .insert(
            "inbox",
            &[
                "event_key",
                "session_id",
                "event",
                "body",
                "received_at",
                "processed_at",
                "attempts",
            ],
            &inbox,
        )
        .await?;
    pools
        .insert(
            "events",
            &[
                "type",
                "session_id",
                "conversation_id",
                "assignee_id",
                "supervisors_only",
                "data",
                "created_at",
            ],
            &events,
        )
        .await?;
    pools.exec("COMMIT").await?;
    if sqlite {
        // the hub indexes new messages for search behind its webhooks; a bulk load's are
        // indexed here, so that the hub starts with none waiting
        tickhub::store::search::index_backlog(&db).await?;
        // one file to copy: run.sh's SEED_FROM takes it as it is
        pools.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    } else {
        // explicit ids: the sequences go on after them
        for t in [
            "users",
            "wa_sessions",
            "contacts",
            "conversations",
            "messages",
        ] {
            pools
                .exec(&format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
                ))
                .await?;
        }
        pools.exec("ANALYZE").await?;
    }
    eprintln!(
        "seed: done: {} messages, {} inbox rows, {} events in {:.1} s",
        timeline.len(),
        inbox.len(),
        events.len(),
        t0.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}
