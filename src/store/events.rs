//! The event log behind websocket `seq`: every event an agent may receive is a row here,
//! appended in the same transaction as the change it reports, so a reconnect with `since`
//! replays exactly what was missed. A row's id is its `seq`; per user the sequence only
//! increases (numbers the user is not entitled to are skipped).

use serde::Serialize;
use serde_json::value::RawValue;

use super::contact_filter::Dialect;
use super::conversations::{self, Conversation};
use super::messages::{self, Message};
use super::writer::Conn;
use super::{id_list, in_id_list, placeholder_rows, Db, PerDialect, Result, StoreError, Tx};
use crate::domain::access::{ConversationEvents, EventFilter};
use crate::domain::event::{encode, frame};
use crate::domain::{EventKind, EventScope, LoggedEvent};

/// An event appended in a transaction, written to the log when the transaction ends.
#[derive(Debug)]
pub struct Pending {
    kind: EventKind,
    scope: EventScope,
    data: Box<RawValue>,
}

/// Appends an event to the log of `tx`; it gets its seq, and is published, when `tx`
/// commits.
pub async fn append<T: Serialize>(
    tx: &mut Tx,
    kind: EventKind,
    scope: EventScope,
    data: &T,
) -> Result<()> {
    let data = encode(data).map_err(|e| StoreError::Database(format!("event encoding: {e}")))?;
    tx.pending.push(Pending { kind, scope, data });
    Ok(())
}

pub fn conversation_scope(c: &Conversation) -> EventScope {
    EventScope::conversation(c.session_id, c.id, c.assignee_id)
}

/// Logs `conversation.updated` with the conversation as it now is.
pub async fn log_conversation(tx: &mut Tx, id: i64) -> Result<Conversation> {
    let c = conversations::get_in(tx, id).await?;
    append(
        tx,
        EventKind::ConversationUpdated,
        conversation_scope(&c),
        &c,
    )
    .await?;
    Ok(c)
}

/// `message.created` and `conversation.updated` for a new message.
pub async fn log_created(tx: &mut Tx, msg: &Message, conv: &Conversation) -> Result<()> {
    let scope = conversation_scope(conv);
    append(tx, EventKind::MessageCreated, scope, msg).await?;
    append(tx, EventKind::ConversationUpdated, scope, conv).await
}

/// Logs `kind` with the message as it now is.
pub async fn log_message(
    tx: &mut Tx,
    kind: EventKind,
    conv: &Conversation,
    id: i64,
) -> Result<Message> {
    let m = Message::from(messages::get_in(tx, id).await?);
    append(tx, kind, conversation_scope(conv), &m).await?;
    Ok(m)
}

/// SQLite's rows per INSERT: 8 parameters each, well under its limit.
const ROWS_PER_INSERT: usize = 256;

/// The advisory lock that orders event appends across nodes sharing a PostgreSQL
/// database ("tickhub" in ASCII).
const SEQ_LOCK: i64 = 0x0074_6963_6b68_7562;

/// Writes the transaction's pending events in append order and returns them with their
/// seqs; called by the writer last, inside its turn, so seqs follow commit order.
pub(crate) async fn flush(tx: &mut Tx) -> Result<Vec<LoggedEvent>> {
    let pending = std::mem::take(&mut tx.pending);
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let now = tx.now;
    let mut seqs = match &mut tx.conn {
        Conn::Postgres(t) => insert_pg(t, &pending, now).await?,
        Conn::Sqlite(t) => insert_sqlite(t, &pending, now).await?,
    };
    // Ids come from one counter in row order; RETURNING's own order is not promised.
    seqs.sort_unstable();
    Ok(pending
        .iter()
        .zip(seqs)
        .map(|(e, seq)| LoggedEvent {
            seq: Some(seq),
            kind: e.kind,
            scope: e.scope,
            frame: frame(e.kind, Some(seq), &e.data),
        })
        .collect())
}

/// One statement whatever the batch's size (so one prepared plan), which first takes the
/// transaction-scoped lock that keeps nodes sharing the database appending in turn.
async fn insert_pg(t: &mut sqlx::PgConnection, pending: &[Pending], now: i64) -> Result<Vec<i64>> {
    let kinds: Vec<&str> = pending.iter().map(|e| e.kind.as_str()).collect();
    let column = |f: fn(&EventScope) -> Option<i64>| -> Vec<Option<i64>> {
        pending.iter().map(|e| f(&e.scope)).collect()
    };
    let supervisors: Vec<bool> = pending.iter().map(|e| e.scope.supervisors_only).collect();
    let data: Vec<&str> = pending.iter().map(|e| e.data.get()).collect();
    let seqs: Vec<i64> = sqlx::query_scalar(
        "WITH turn AS (SELECT pg_advisory_xact_lock($1))
         INSERT INTO events (type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data, created_at)
         SELECT e.type, e.session_id, e.conversation_id, e.assignee_id, e.user_id, e.supervisors_only, e.data, $9
         FROM turn, unnest($2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::bool[], $8::text[])
             AS e (type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data)
         RETURNING id",
    )
    .bind(SEQ_LOCK)
    .bind(kinds)
    .bind(column(|s| s.session_id))
    .bind(column(|s| s.conversation_id))
    .bind(column(|s| s.assignee_id))
    .bind(column(|s| s.user_id))
    .bind(supervisors)
    .bind(data)
    .bind(now)
    .fetch_all(t)
    .await?;
    Ok(seqs)
}

async fn insert_sqlite(
    t: &mut sqlx::SqliteConnection,
    pending: &[Pending],
    now: i64,
) -> Result<Vec<i64>> {
    let mut seqs = Vec::with_capacity(pending.len());
    for chunk in pending.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO events (type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data, created_at)
             VALUES {} RETURNING id",
            placeholder_rows(Dialect::Sqlite, chunk.len(), 8)
        );
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.kind.as_str())
                .bind(e.scope.session_id)
                .bind(e.scope.conversation_id)
                .bind(e.scope.assignee_id)
                .bind(e.scope.user_id)
                .bind(e.scope.supervisors_only)
                .bind(e.data.get())
                .bind(now);
        }
        seqs.extend(q.fetch_all(&mut *t).await?);
    }
    Ok(seqs)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    #[sqlx(rename = "type", try_from = "String")]
    kind: EventKind,
    data: String,
}

/// One page of a replay.
pub enum Replay {
    /// Events the viewer is entitled to, oldest first, and the seq the page reaches (every
    /// event up to it has been considered).
    Page {
        frames: Vec<crate::domain::event::FrameText>,
        scanned_to: i64,
    },
    /// The log no longer holds everything after `since` (pruned, or a seq from elsewhere).
    ResyncRequired,
}

#[derive(sqlx::FromRow)]
struct FullRow {
    id: i64,
    #[sqlx(rename = "type", try_from = "String")]
    kind: EventKind,
    session_id: Option<i64>,
    conversation_id: Option<i64>,
    assignee_id: Option<i64>,
    user_id: Option<i64>,
    supervisors_only: bool,
    data: String,
}

/// Every event after `after` and up to `upto` (at most `limit`), oldest first, with its
/// scope: what a cluster node missed on the bus, read back from the log.
pub async fn range(db: &Db, after: i64, upto: i64, limit: i64) -> Result<Vec<LoggedEvent>> {
    let rows: Vec<FullRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data
         FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3")
        .bind(after).bind(upto).bind(limit).fetch_all(p).await)?;
    rows.into_iter()
        .map(|r| {
            let data = RawValue::from_string(r.data)
                .map_err(|e| StoreError::Database(format!("event {} holds bad JSON: {e}", r.id)))?;
            Ok(LoggedEvent {
                seq: Some(r.id),
                kind: r.kind,
                scope: EventScope {
                    session_id: r.session_id,
                    conversation_id: r.conversation_id,
                    assignee_id: r.assignee_id,
                    user_id: r.user_id,
                    supervisors_only: r.supervisors_only,
                },
                frame: frame(r.kind, Some(r.id), &data),
            })
        })
        .collect()
}

pub async fn last_seq(db: &Db) -> Result<i64> {
    let seq: Option<i64> =
        on_pool!(db, p => sqlx::query_scalar("SELECT MAX(id) FROM events").fetch_one(p).await)?;
    Ok(seq.unwrap_or(0))
}

async fn pruned_through(db: &Db) -> Result<i64> {
    let v: Option<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT value FROM hub_meta WHERE key = 'events_pruned_through'")
        .fetch_optional(p).await)?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// One page (at most `page` events) of those after `since`, up to `upto`, that the
/// filter lets through — filtered in SQL, the same rule as `EventFilter::matches`.
pub async fn replay(
    db: &Db,
    filter: &EventFilter,
    since: i64,
    upto: i64,
    page: i64,
) -> Result<Replay> {
    if since < pruned_through(db).await? || since > upto {
        return Ok(Replay::ResyncRequired);
    }
    let (conversations, mine) = match &filter.conversations {
        ConversationEvents::None => (false, None),
        ConversationEvents::Visible { mine_or_unassigned } => (true, *mine_or_unassigned),
    };
    static SQL: PerDialect = PerDialect::new(|d| {
        format!(
            "SELECT id, type, data FROM events
             WHERE id > $1 AND id <= $2
               AND (user_id IS NULL OR user_id = $4)
               AND (user_id IS NOT NULL OR (
                    (supervisors_only = FALSE OR $5)
                AND (session_id IS NULL OR {})
                AND (conversation_id IS NULL OR ($7 AND ($8 IS NULL OR assignee_id IS NULL OR assignee_id = $8)))
                AND ($9 OR type NOT IN ('campaign.progress', 'template.updated'))))
             ORDER BY id LIMIT $3",
            in_id_list(d, "session_id", "$6")
        )
    });
    let rows: Vec<EventRow> = on_pool!(db, p => sqlx::query_as(SQL.of(db))
        .bind(since).bind(upto).bind(page)
        .bind(filter.user_id).bind(filter.supervisor).bind(id_list(filter.sessions.as_deref()))
        .bind(conversations).bind(mine).bind(filter.campaigns)
        .fetch_all(p).await)?;
    let scanned_to = match rows.last() {
        Some(last) if rows.len() as i64 >= page => last.id,
        _ => upto,
    };
    let mut frames = Vec::with_capacity(rows.len());
    for r in rows {
        let data = RawValue::from_string(r.data)
            .map_err(|e| StoreError::Database(format!("event {} holds bad JSON: {e}", r.id)))?;
        frames.push(frame(r.kind, Some(r.id), &data));
    }
    Ok(Replay::Page { frames, scanned_to })
}

/// The `hub_meta` keys of the log's readers besides the sockets: how far each has read.
const READERS: &[&str] = &["analytics_cursor"];

/// Drops events older than `before_ms`, but none after `keep_after` (the outbound
/// webhooks' copy cursor: events not yet queued for subscribers stay) or after what
/// another reader of the log (`READERS`) has yet to read, and records how far the log
/// was cut, so a later `since` below that answers `resync_required` instead of a silent
/// gap.
pub async fn prune(tx: &mut Tx, before_ms: i64, keep_after: i64) -> Result<u64> {
    let Some(cut) = last_before(tx, before_ms).await? else {
        return Ok(0);
    };
    let mut cut = cut.min(keep_after);
    // A reader that was never started holds nothing back.
    for key in READERS {
        let at: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT value FROM hub_meta WHERE key = $1").bind(*key).fetch_optional(&mut *c).await)?;
        if let Some(at) = at.and_then(|v| v.parse::<i64>().ok()) {
            cut = cut.min(at);
        }
    }
    if cut <= 0 {
        return Ok(0);
    }
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM events WHERE id <= $1").bind(cut).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO hub_meta (key, value) VALUES ('events_pruned_through', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(cut.to_string()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// The last event logged before `before_ms`. An event's time follows its seq (batches
/// stamp their clock reading and append in turn; parallel writers blur that by a few
/// milliseconds at most), so a binary search along the primary key finds it: the log
/// needs no index on its time, which would cost every event an index entry.
async fn last_before(tx: &mut Tx, before_ms: i64) -> Result<Option<i64>> {
    let (first, last): (Option<i64>, Option<i64>) = on_tx!(tx, c =>
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM events").fetch_one(&mut *c).await)?;
    let (Some(mut lo), Some(mut hi)) = (first, last) else {
        return Ok(None);
    };
    match first_from(tx, lo).await? {
        Some((_, at)) if at < before_ms => {}
        _ => return Ok(None),
    }
    // `lo` is an event before the time; nothing after `hi` is.
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        match first_from(tx, mid).await? {
            Some((id, at)) if at < before_ms && id <= hi => lo = id,
            _ => hi = mid - 1,
        }
    }
    Ok(Some(lo))
}

/// The first event at or after `id`: its seq and time.
async fn first_from(tx: &mut Tx, id: i64) -> Result<Option<(i64, i64)>> {
    let row = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, created_at FROM events WHERE id >= $1 ORDER BY id LIMIT 1")
        .bind(id).fetch_optional(&mut *c).await)?;
    Ok(row)
}
