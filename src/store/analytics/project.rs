//! Keeps the analytics tables up to date: facts go through a [`Projection`] (the open
//! cycles of the conversations they touch loaded first) and what it changed is written in
//! the same transaction, together with how far the facts were read. Live, the facts come
//! from the event log (`project`), so nothing is added to the webhook path; a rebuild
//! reads them from the stored messages, assignments and resolves (`rebuild`).

use std::collections::HashMap;

use serde::Deserialize;
use tracing::warn;

use super::super::writer::Tx;
use super::super::{id_list, placeholder_rows, Result};
use crate::domain::analytics::{Cycle, DayKey, Fact, FactAt, Projection};
use crate::domain::hours::WeeklyHours;

/// The `hub_meta` key holding the id of the last event projected.
const CURSOR: &str = "analytics_cursor";
/// Conversation ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

#[derive(Deserialize)]
struct LoggedMessage {
    id: i64,
    conversation_id: i64,
    direction: String,
    author_id: Option<i64>,
    bot_id: Option<i64>,
    created_at: i64,
}

#[derive(Deserialize)]
struct LoggedConversation {
    status: String,
    assignee_id: Option<i64>,
}

/// `rating`: the message answered a rating question.
fn message_fact(
    direction: &str,
    author_id: Option<i64>,
    bot_id: Option<i64>,
    rating: bool,
) -> Fact {
    match (direction, author_id, bot_id) {
        ("in", _, _) if rating => Fact::Rating,
        ("in", _, _) => Fact::Inbound,
        (_, Some(user), _) => Fact::MemberReply(user),
        (_, None, Some(_)) => Fact::BotReply,
        _ => Fact::OtherOut,
    }
}

/// The facts of one logged event; `ratings`: the ids of messages that answered a rating
/// question.
fn facts_of(
    kind: &str,
    session_id: i64,
    conversation_id: i64,
    data: &str,
    at: i64,
    ratings: &[i64],
) -> Vec<FactAt> {
    let fact = |conversation_id, at, fact| FactAt {
        conversation_id,
        session_id,
        at,
        fact,
    };
    match kind {
        "message.created" => match serde_json::from_str::<LoggedMessage>(data) {
            Ok(m) => vec![fact(
                m.conversation_id,
                m.created_at,
                message_fact(&m.direction, m.author_id, m.bot_id, ratings.contains(&m.id)),
            )],
            Err(e) => {
                warn!(error = %e, "analytics: a logged message did not parse");
                vec![]
            }
        },
        "conversation.updated" => match serde_json::from_str::<LoggedConversation>(data) {
            Ok(c) => {
                let mut v = vec![fact(conversation_id, at, Fact::Assigned(c.assignee_id))];
                if c.status == "resolved" {
                    v.push(fact(conversation_id, at, Fact::Resolved));
                }
                v
            }
            Err(e) => {
                warn!(error = %e, "analytics: a logged conversation did not parse");
                vec![]
            }
        },
        _ => vec![],
    }
}

/// Projects up to `limit` events logged since the last call; returns how many were read.
/// A first call on a database that had events before analytics existed starts from now
/// (`tickhub analytics-rebuild` adds the history).
pub async fn project(tx: &mut Tx, limit: i64) -> Result<usize> {
    if let super::super::writer::Conn::Postgres(c) = &mut tx.conn {
        // A rebuild holds the lock for its whole run; the projection skips its turn
        // rather than hold up the transaction it shares with the inbox's writes.
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(super::LOCK)
            .fetch_one(&mut **c)
            .await?;
        if !free {
            return Ok(0);
        }
    }
    let upto: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
        .fetch_one(c).await)?;
    let Some(cursor) = read_cursor(tx).await? else {
        write_cursor(tx, upto).await?;
        return Ok(0);
    };
    if cursor >= upto {
        return Ok(0);
    }
    // Event ids are assigned in commit order, so nothing at or below `upto` can still appear.
    let rows: Vec<EventRow> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, type, session_id, conversation_id, data, created_at FROM events
         WHERE id > $1 AND id <= $2 AND type IN ('message.created', 'conversation.updated')
         ORDER BY id LIMIT $3")
        .bind(cursor).bind(upto).bind(limit).fetch_all(c).await)?;
    let reached = match rows.last() {
        Some((id, ..)) if rows.len() as i64 == limit => *id,
        _ => upto,
    };
    let ratings = ratings_among(tx, &rows).await?;
    let facts: Vec<FactAt> = rows
        .iter()
        .filter_map(|(_, kind, s, conv, data, at)| {
            Some(facts_of(
                kind,
                (*s)?,
                conv.unwrap_or(0),
                data,
                *at,
                &ratings,
            ))
        })
        .flatten()
        .collect();
    let n = rows.len();
    apply_and_write(tx, &facts).await?;
    write_cursor(tx, reached).await?;
    Ok(n)
}

type EventRow = (i64, String, Option<i64>, Option<i64>, String, i64);

/// Which of the conversations' messages in `rows` answered a rating question (the answer
/// is recorded in the transaction that stores the message, so it is there already). Only
/// conversations with a survey are asked about.
async fn ratings_among(tx: &mut Tx, rows: &[EventRow]) -> Result<Vec<i64>> {
    let mut convs: Vec<i64> = rows
        .iter()
        .filter(|r| r.1 == "message.created")
        .filter_map(|r| r.3)
        .collect();
    convs.sort_unstable();
    convs.dedup();
    let mut out = Vec::new();
    for chunk in convs.chunks(IDS_PER_QUERY) {
        let Some(ids) = id_list(Some(chunk)) else {
            continue;
        };
        let sql = format!(
            "SELECT answer_message_id FROM csat_surveys
             WHERE conversation_id IN ({ids}) AND answer_message_id IS NOT NULL"
        );
        let found: Vec<i64> =
            on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
        out.extend(found);
    }
    Ok(out)
}

async fn read_cursor(tx: &mut Tx) -> Result<Option<i64>> {
    let v: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT value FROM hub_meta WHERE key = $1").bind(CURSOR).fetch_optional(c).await)?;
    Ok(v.and_then(|v| v.parse().ok()))
}

async fn write_cursor(tx: &mut Tx, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO hub_meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(CURSOR).bind(at.to_string()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Loads what `facts` need, applies them and writes the result.
async fn apply_and_write(tx: &mut Tx, facts: &[FactAt]) -> Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut convs: Vec<i64> = facts.iter().map(|f| f.conversation_id).collect();
    convs.sort_unstable();
    convs.dedup();
    let mut p = Projection::default();
    load(tx, &convs, &mut p).await?;
    let hours = business_hours(tx).await?;
    let business = |s: i64, a: i64, b: i64| business_ms(&hours, s, a, b);
    for f in facts {
        p.apply(*f, &business);
    }
    write_facts(tx, &mut p, false).await?;
    write_rollups(tx, &mut p, false).await
}

fn business_ms(hours: &HashMap<i64, WeeklyHours>, session: i64, from: i64, to: i64) -> i64 {
    match hours.get(&session) {
        Some(h) => h.overlap_ms(from, to),
        None => (to - from).max(0),
    }
}

/// Each session's business hours (sessions without any count every hour).
async fn business_hours(tx: &mut Tx) -> Result<HashMap<i64, WeeklyHours>> {
    let rows: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, business_hours FROM wa_sessions WHERE business_hours IS NOT NULL")
        .fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, h)| Some((id, serde_json::from_str(&h).ok()?)))
        .collect())
}

type CycleRow = (
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
    bool,
);

/// The open cycles and last-seen assignees of `convs`.
async fn load(tx: &mut Tx, convs: &[i64], p: &mut Projection) -> Result<()> {
    for chunk in convs.chunks(IDS_PER_QUERY) {
        let Some(ids) = id_list(Some(chunk)) else {
            continue;
        };
        let sql = format!(
            "SELECT id, conversation_id, session_id, started_at, waiting_since, assignee_id,
                first_response_at, first_responder_id, bot_replied, member_replied
             FROM analytics_cycles WHERE resolved_at IS NULL AND conversation_id IN ({ids})"
        );
        let rows: Vec<CycleRow> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
        for (id, conv, session, started, waiting, assignee, first_at, first_by, bot, member) in rows
        {
            p.open.insert(
                conv,
                Cycle {
                    id: Some(id),
                    conversation_id: conv,
                    session_id: session,
                    started_at: started,
                    waiting_since: waiting,
                    assignee_id: assignee,
                    first_response_at: first_at,
                    first_responder_id: first_by,
                    bot_replied: bot,
                    member_replied: member,
                    resolved_at: None,
                    handled_by: None,
                    auto_resolved: false,
                    resolution_business_ms: None,
                },
            );
        }
        let sql = format!(
            "SELECT conversation_id, assignee_id FROM analytics_assignees
             WHERE conversation_id IN ({ids})"
        );
        let rows: Vec<(i64, Option<i64>)> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
        p.assignees.extend(rows);
    }
    Ok(())
}

/// A value of a row `insert_rows` writes.
enum Val {
    I(i64),
    OI(Option<i64>),
    B(bool),
    T(String),
}

/// Parameters per statement, under SQLite's limit of 32,766 (PostgreSQL's is 65,535).
const PARAMS_PER_INSERT: usize = 30_000;

/// Inserts `rows` into `table` many per statement (`tail`: e.g. an `ON CONFLICT` clause).
async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Val>],
    tail: &str,
) -> Result<()> {
    for chunk in rows.chunks((PARAMS_PER_INSERT / cols.len()).max(1)) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} {tail}",
            cols.join(", "),
            placeholder_rows(tx.dialect(), chunk.len(), cols.len())
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk.iter().flatten() {
                q = match v {
                    Val::I(x) => q.bind(*x),
                    Val::OI(x) => q.bind(*x),
                    Val::B(x) => q.bind(*x),
                    Val::T(x) => q.bind(x.clone()),
                };
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

fn cycle_row(c: &Cycle) -> Vec<Val> {
    vec![
        Val::I(c.conversation_id),
        Val::I(c.session_id),
        Val::I(c.started_at),
        Val::OI(c.waiting_since),
        Val::OI(c.assignee_id),
        Val::OI(c.first_response_at),
        Val::OI(c.first_responder_id),
        Val::B(c.bot_replied),
        Val::B(c.member_replied),
        Val::OI(c.resolved_at),
        Val::OI(c.handled_by),
        Val::B(c.auto_resolved),
        Val::OI(c.resolution_business_ms),
    ]
}

const CYCLE_COLS: [&str; 13] = [
    "conversation_id",
    "session_id",
    "started_at",
    "waiting_since",
    "assignee_id",
    "first_response_at",
    "first_responder_id",
    "bot_replied",
    "member_replied",
    "resolved_at",
    "handled_by",
    "auto_resolved",
    "resolution_business_ms",
];

/// Writes the cycles, assignees and responses `p` changed and empties it of all but its
/// open cycles (which get their ids). `fresh`: the tables hold nothing of these
/// conversations (a rebuild), so every cycle is new and nothing needs an id back.
async fn write_facts(tx: &mut Tx, p: &mut Projection, fresh: bool) -> Result<()> {
    let closed = std::mem::take(&mut p.closed);
    let touched = std::mem::take(&mut p.touched);
    if fresh {
        let rows: Vec<Vec<Val>> = closed
            .iter()
            .chain(touched.iter().filter_map(|conv| p.open.get(conv)))
            .map(cycle_row)
            .collect();
        insert_rows(tx, "analytics_cycles", &CYCLE_COLS, &rows, "").await?;
    } else {
        for c in &closed {
            save_cycle(tx, c).await?;
        }
        for conv in touched {
            if let Some(c) = p.open.get_mut(&conv) {
                let id = save_cycle(tx, c).await?;
                c.id = Some(id);
            }
        }
    }
    let assignees: Vec<Vec<Val>> = std::mem::take(&mut p.assignees_changed)
        .into_iter()
        .map(|conv| {
            let to = p.assignees.get(&conv).copied().flatten();
            vec![Val::I(conv), Val::OI(to)]
        })
        .collect();
    insert_rows(
        tx,
        "analytics_assignees",
        &["conversation_id", "assignee_id"],
        &assignees,
        "ON CONFLICT (conversation_id) DO UPDATE SET assignee_id = excluded.assignee_id",
    )
    .await?;
    let responses: Vec<Vec<Val>> = std::mem::take(&mut p.responses)
        .into_iter()
        .map(|r| {
            vec![
                Val::I(r.conversation_id),
                Val::I(r.session_id),
                Val::I(r.user_id),
                Val::I(r.at),
                Val::I(r.wait_ms),
                Val::I(r.wait_business_ms),
                Val::B(r.first),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "analytics_responses",
        &[
            "conversation_id",
            "session_id",
            "user_id",
            "at",
            "wait_ms",
            "wait_business_ms",
            "first",
        ],
        &responses,
        "",
    )
    .await
}

/// A day row's key as read back: (day, session, user, metric).
type DayRowKey = (i64, i64, i64, String);

/// The stored histograms of the `keys` rows that exist, a statement per few thousand keys
/// (a read per key cost a round trip each).
async fn stored_histograms(tx: &mut Tx, keys: &[&DayKey]) -> Result<HashMap<DayRowKey, String>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(PARAMS_PER_INSERT / 4) {
        let sql = format!(
            "SELECT day_ms, session_id, user_id, metric, hist FROM analytics_days
             WHERE (day_ms, session_id, user_id, metric) IN (VALUES {})",
            placeholder_rows(tx.dialect(), chunk.len(), 4)
        );
        let rows: Vec<(i64, i64, i64, String, String)> = on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.day_ms).bind(k.session_id).bind(k.user_id).bind(k.metric.as_str());
            }
            q.fetch_all(c).await
        })?;
        found.extend(rows.into_iter().map(|(d, s, u, m, h)| ((d, s, u, m), h)));
    }
    Ok(found)
}

/// Adds `p`'s rollups to the tables and empties them. `fresh`: the tables are empty (a
/// rebuild), so rows go in without reading what is there.
async fn write_rollups(tx: &mut Tx, p: &mut Projection, fresh: bool) -> Result<()> {
    let taken = std::mem::take(&mut p.days);
    // Histograms add up here, not in SQL: read, merge, write.
    let stored = match fresh {
        true => HashMap::new(),
        false => stored_histograms(tx, &taken.keys().collect::<Vec<_>>()).await?,
    };
    let mut days = Vec::new();
    for (k, t) in taken {
        let mut hist = t.hist;
        let key = (
            k.day_ms,
            k.session_id,
            k.user_id,
            k.metric.as_str().to_string(),
        );
        if let Some(old) = stored.get(&key) {
            hist.merge(&crate::domain::analytics::Histogram::decode(old));
        }
        days.push(vec![
            Val::I(k.day_ms),
            Val::I(k.session_id),
            Val::I(k.user_id),
            Val::T(k.metric.as_str().to_string()),
            Val::I(t.n),
            Val::I(t.sum_ms),
            Val::T(hist.encode()),
        ]);
    }
    insert_rows(
        tx,
        "analytics_days",
        &[
            "day_ms",
            "session_id",
            "user_id",
            "metric",
            "n",
            "sum_ms",
            "hist",
        ],
        &days,
        "ON CONFLICT (day_ms, session_id, user_id, metric) DO UPDATE SET
            n = analytics_days.n + excluded.n, sum_ms = analytics_days.sum_ms + excluded.sum_ms,
            hist = excluded.hist",
    )
    .await?;
    let hours: Vec<Vec<Val>> = std::mem::take(&mut p.hours)
        .into_iter()
        .map(|((session, hour), h)| {
            vec![
                Val::I(hour),
                Val::I(session),
                Val::I(h.messages_in),
                Val::I(h.messages_out),
                Val::I(h.cycles_started),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "analytics_session_hours",
        &[
            "hour_ms",
            "session_id",
            "messages_in",
            "messages_out",
            "cycles_started",
        ],
        &hours,
        "ON CONFLICT (hour_ms, session_id) DO UPDATE SET
            messages_in = analytics_session_hours.messages_in + excluded.messages_in,
            messages_out = analytics_session_hours.messages_out + excluded.messages_out,
            cycles_started = analytics_session_hours.cycles_started + excluded.cycles_started",
    )
    .await?;
    let members: Vec<Vec<Val>> = std::mem::take(&mut p.member_hours)
        .into_iter()
        .map(|((session, user, hour), n)| {
            vec![Val::I(hour), Val::I(session), Val::I(user), Val::I(n)]
        })
        .collect();
    insert_rows(
        tx,
        "analytics_member_hours",
        &["hour_ms", "session_id", "user_id", "messages_sent"],
        &members,
        "ON CONFLICT (hour_ms, session_id, user_id) DO UPDATE SET
            messages_sent = analytics_member_hours.messages_sent + excluded.messages_sent",
    )
    .await
}

/// Inserts or updates a cycle; returns its id.
async fn save_cycle(tx: &mut Tx, c: &Cycle) -> Result<i64> {
    match c.id {
        Some(id) => {
            on_tx!(tx, x => sqlx::query(
                "UPDATE analytics_cycles SET waiting_since = $2, assignee_id = $3,
                    first_response_at = $4, first_responder_id = $5, bot_replied = $6,
                    member_replied = $7, resolved_at = $8, handled_by = $9, auto_resolved = $10,
                    resolution_business_ms = $11
                 WHERE id = $1")
                .bind(id).bind(c.waiting_since).bind(c.assignee_id).bind(c.first_response_at)
                .bind(c.first_responder_id).bind(c.bot_replied).bind(c.member_replied)
                .bind(c.resolved_at).bind(c.handled_by).bind(c.auto_resolved)
                .bind(c.resolution_business_ms).execute(x).await.map(|_| ()))?;
            Ok(id)
        }
        None => Ok(on_tx!(tx, x => sqlx::query_scalar(
            "INSERT INTO analytics_cycles (conversation_id, session_id, started_at, waiting_since,
                assignee_id, first_response_at, first_responder_id, bot_replied, member_replied,
                resolved_at, handled_by, auto_resolved, resolution_business_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
            .bind(c.conversation_id).bind(c.session_id).bind(c.started_at).bind(c.waiting_since)
            .bind(c.assignee_id).bind(c.first_response_at).bind(c.first_responder_id)
            .bind(c.bot_replied).bind(c.member_replied).bind(c.resolved_at).bind(c.handled_by)
            .bind(c.auto_resolved).bind(c.resolution_business_ms).fetch_one(x).await)?),
    }
}

/// Conversations a rebuild reads per step.
const REBUILD_CONVERSATIONS: i64 = 500;

/// Recomputes every analytics table from the stored messages, assignments and resolves
/// (audit log), then points the live projection at the end of the event log; all in `tx`.
/// Conversations are independent, so it goes a few hundred conversations at a time, each
/// one's facts in time order. Returns how many facts were applied.
pub(super) async fn rebuild(tx: &mut Tx) -> Result<u64> {
    for table in [
        "analytics_cycles",
        "analytics_responses",
        "analytics_days",
        "analytics_session_hours",
        "analytics_member_hours",
        "analytics_assignees",
    ] {
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(c).await.map(|_| ()))?;
    }
    let upto: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
        .fetch_one(c).await)?;
    let hours = business_hours(tx).await?;
    let business = |s: i64, a: i64, b: i64| business_ms(&hours, s, a, b);
    let resolves: Vec<(String, i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT target_id, created_at, id FROM audit_log
         WHERE action = 'conversation.resolve' AND target_type = 'conversation'
            AND target_id IS NOT NULL")
        .fetch_all(c).await)?;
    let mut resolved_at: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for (conv, at, id) in resolves {
        if let Ok(conv) = conv.parse() {
            resolved_at.entry(conv).or_default().push((at, id));
        }
    }
    let mut applied = 0u64;
    let mut after = 0i64;
    // The rollups of every conversation, written once at the end (they are a few rows per
    // day, session and member however many conversations there are).
    let mut rollups = Projection::default();
    loop {
        let convs: Vec<(i64, i64)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, session_id FROM conversations WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after).bind(REBUILD_CONVERSATIONS).fetch_all(c).await)?;
        let Some(last) = convs.last() else { break };
        after = last.0;
        let session_of: HashMap<i64, i64> = convs.iter().copied().collect();
        let ids: Vec<i64> = convs.iter().map(|c| c.0).collect();
        let Some(list) = id_list(Some(&ids)) else {
            continue;
        };
        // (conversation, at, kind, id, fact): kind orders one instant's facts as a
        // transaction logs them: its message, then the assignee, then the resolve.
        let mut facts: Vec<(i64, i64, u8, i64, Fact)> = Vec::new();
        let sql = format!(
            "SELECT m.conversation_id, m.created_at, m.id, m.direction, m.author_id, m.bot_id,
                s.id IS NOT NULL
             FROM messages m LEFT JOIN csat_surveys s ON s.answer_message_id = m.id
             WHERE m.conversation_id IN ({list})"
        );
        type Row = (i64, i64, i64, String, Option<i64>, Option<i64>, bool);
        let rows: Vec<Row> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
        for (conv, at, id, direction, author, bot, rating) in rows {
            facts.push((
                conv,
                at,
                0,
                id,
                message_fact(&direction, author, bot, rating),
            ));
        }
        let sql = format!(
            "SELECT conversation_id, created_at, id, to_user_id FROM assignments
             WHERE conversation_id IN ({list})"
        );
        let rows: Vec<(i64, i64, i64, Option<i64>)> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
        for (conv, at, id, to) in rows {
            facts.push((conv, at, 1, id, Fact::Assigned(to)));
        }
        for conv in &ids {
            for (at, id) in resolved_at.remove(conv).unwrap_or_default() {
                facts.push((*conv, at, 2, id, Fact::Resolved));
            }
        }
        facts.sort_unstable_by_key(|f| (f.0, f.1, f.2, f.3));
        let mut p = Projection::default();
        for (conv, at, _, _, fact) in &facts {
            let f = FactAt {
                conversation_id: *conv,
                session_id: session_of.get(conv).copied().unwrap_or(0),
                at: *at,
                fact: *fact,
            };
            p.apply(f, &business);
        }
        applied += facts.len() as u64;
        write_facts(tx, &mut p, true).await?;
        rollups.add_rollups(&mut p);
    }
    write_rollups(tx, &mut rollups, true).await?;
    write_cursor(tx, upto).await?;
    Ok(applied)
}
