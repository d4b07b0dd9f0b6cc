//! The event log behind websocket `seq`: every event an agent may receive is a row here,
//! appended in the same transaction as the change it reports, so a reconnect with `since`
//! replays exactly what was missed. A row's id is its `seq`; per user the sequence only
//! increases (numbers the user is not entitled to are skipped).

use bytestring::ByteString;
use serde::Serialize;

use super::{Db, Result, Tx};
use crate::domain::visibility::Viewer;
use crate::domain::{EventKind, EventScope};
use crate::{on_pool, on_tx};

/// A committed event, with its frame serialized once for every socket that receives it.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub seq: i64,
    pub kind: &'static str,
    pub scope: EventScope,
    /// Cheap to clone: every socket shares the one buffer.
    pub frame: ByteString,
}

pub fn frame(kind: &str, seq: Option<i64>, data: &str) -> String {
    match seq {
        Some(seq) => format!(r#"{{"type":"{kind}","seq":{seq},"data":{data}}}"#),
        None => format!(r#"{{"type":"{kind}","seq":null,"data":{data}}}"#),
    }
}

/// An event appended in a transaction, written to the log when the transaction ends.
#[derive(Debug)]
pub struct Pending {
    kind: EventKind,
    scope: EventScope,
    data: String,
}

/// Appends an event to the log of `tx`; it gets its seq, and is published, when `tx`
/// commits.
pub async fn append<T: Serialize>(
    tx: &mut Tx,
    kind: EventKind,
    scope: EventScope,
    data: &T,
) -> Result<()> {
    let data = encode(data)?;
    tx.pending.push(Pending { kind, scope, data });
    Ok(())
}

pub fn encode<T: Serialize>(data: &T) -> Result<String> {
    serde_json::to_string(data)
        .map_err(|e| super::StoreError::Database(format!("event encoding: {e}")))
}

/// Rows per INSERT: 8 parameters each, well under both databases' limits.
const ROWS_PER_INSERT: usize = 256;

/// Writes the transaction's pending events, many rows per statement, in append order;
/// called by the writer last, inside its turn, so seqs follow commit order.
pub(crate) async fn flush(tx: &mut Tx) -> Result<Vec<LoggedEvent>> {
    let pending = std::mem::take(&mut tx.pending);
    let mut logged = Vec::with_capacity(pending.len());
    for chunk in pending.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=8).map(|c| format!("${}", r * 8 + c)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        // Only placeholders are formatted into the text; every value is bound.
        let sql = format!(
            "INSERT INTO events (type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data, created_at)
             VALUES {} RETURNING id",
            rows.join(", ")
        );
        let now = tx.now;
        let mut seqs: Vec<i64> = on_tx!(tx, c => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()));
            for e in chunk {
                q = q
                    .bind(e.kind.as_str())
                    .bind(e.scope.session_id)
                    .bind(e.scope.conversation_id)
                    .bind(e.scope.assignee_id)
                    .bind(e.scope.user_id)
                    .bind(e.scope.supervisors_only)
                    .bind(e.data.as_str())
                    .bind(now);
            }
            q.fetch_all(c).await
        })?;
        // Ids come from one counter in row order; RETURNING's own order is not promised.
        seqs.sort_unstable();
        for (e, seq) in chunk.iter().zip(seqs) {
            logged.push(LoggedEvent {
                seq,
                kind: e.kind.as_str(),
                scope: e.scope,
                frame: frame(e.kind.as_str(), Some(seq), &e.data).into(),
            });
        }
    }
    Ok(logged)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    session_id: Option<i64>,
    conversation_id: Option<i64>,
    assignee_id: Option<i64>,
    user_id: Option<i64>,
    supervisors_only: bool,
    data: String,
}

/// The outcome of asking for the events after a `since`.
pub enum Replay {
    /// Events the viewer is entitled to, oldest first, and the last seq scanned.
    Events {
        frames: Vec<ByteString>,
        scanned_to: i64,
    },
    /// The log no longer holds everything after `since` (pruned, or a seq from elsewhere).
    ResyncRequired,
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

/// One page of the events after `since` (up to `upto`) that `viewer` may see.
pub async fn replay(db: &Db, viewer: &Viewer, since: i64, upto: i64, page: i64) -> Result<Replay> {
    if since < pruned_through(db).await? || since > upto {
        return Ok(Replay::ResyncRequired);
    }
    let rows: Vec<EventRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, type, session_id, conversation_id, assignee_id, user_id, supervisors_only, data
         FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3")
        .bind(since).bind(upto).bind(page)
        .fetch_all(p).await)?;
    let scanned_to = rows.last().map(|r| r.id).unwrap_or(upto);
    let frames = rows
        .into_iter()
        .filter(|r| {
            viewer.can_see(&EventScope {
                session_id: r.session_id,
                conversation_id: r.conversation_id,
                assignee_id: r.assignee_id,
                user_id: r.user_id,
                supervisors_only: r.supervisors_only,
            })
        })
        .map(|r| ByteString::from(frame(&r.kind, Some(r.id), &r.data)))
        .collect();
    Ok(Replay::Events { frames, scanned_to })
}

/// Drops events older than `before_ms` and records how far the log was cut, so a later
/// `since` below that answers `resync_required` instead of a silent gap.
pub async fn prune(tx: &mut Tx, before_ms: i64) -> Result<u64> {
    let cut: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT MAX(id) FROM events WHERE created_at < $1").bind(before_ms).fetch_one(&mut *c).await)?;
    let Some(cut) = cut else { return Ok(0) };
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM events WHERE id <= $1").bind(cut).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO hub_meta (key, value) VALUES ('events_pruned_through', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(cut.to_string()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}
