//! The durable queue of outbound webhook deliveries (`webhook_deliveries`), filled from
//! the event log by the dispatcher and emptied in order per subscription.
//!
//! Copying: the dispatcher's cursor (`hub_meta.outbound_scanned_through`) marks how far
//! the log has been read. Each batch reads the events after it, turns each into the
//! subscription event types it is (`domain::hook::hook_events`), queues one row per
//! (subscription, event type) wanted, and advances the cursor — all in one transaction,
//! so an event is queued exactly once whatever crashes. The log's pruning stops at the
//! cursor (`events::prune`), so nothing is dropped before it is copied.
//!
//! This runs beside the writer, never inside an inbox transaction: a webhook's ingest
//! does no work for subscriptions.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::hooks::parse_events;
use super::{placeholder_rows, placeholders, Db, Result, StoreError};
use crate::domain::hook::{hook_events, status_of, HookEvent, LOG_KINDS};
use crate::domain::EventKind;

const CURSOR_KEY: &str = "outbound_scanned_through";
/// The advisory lock copies take on PostgreSQL ("thhooks" in ASCII).
const COPY_LOCK: i64 = 0x0074_6868_6f6f_6b73;
/// Each row of a multi-row insert binds this many values.
const DELIVERY_COLS: usize = 6;
const ROWS_PER_INSERT: usize = 200;

#[derive(sqlx::FromRow)]
struct SubRow {
    id: i64,
    events: String,
    starts_after: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    data: String,
    created_at: i64,
}

struct NewDelivery {
    subscription_id: i64,
    event_id: i64,
    event: HookEvent,
    data: String,
    created_at: i64,
}

/// How far the log has been copied (0: never).
pub async fn scanned_through(db: &Db) -> Result<i64> {
    let v: Option<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT value FROM hub_meta WHERE key = $1")
        .bind(CURSOR_KEY).fetch_optional(p).await)?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Copies at most `limit` events after the cursor into the queue; how many deliveries
/// were queued and whether more of the log waits.
pub async fn copy_batch(db: &Db, now: i64, limit: i64) -> Result<(usize, bool)> {
    let shared = matches!(db, Db::Postgres(_));
    on_write_pool!(db, p => {
        let mut tx = p.begin().await?;
        if shared {
            // Two nodes that both think they coordinate (a handover) copy in turn, so
            // the second finds the cursor moved instead of queueing the same events.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(COPY_LOCK).execute(&mut *tx).await?;
        }
        let cursor: Option<String> = sqlx::query_scalar("SELECT value FROM hub_meta WHERE key = $1")
            .bind(CURSOR_KEY).fetch_optional(&mut *tx).await?;
        // Everything up to the log's last id is committed (appends take their turn), so
        // reading up to it can never skip an event that commits later.
        let upto: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&mut *tx).await?;
        let upto = upto.unwrap_or(0);
        let cursor = match cursor.and_then(|c| c.parse::<i64>().ok()) {
            Some(c) => c,
            // First run: deliveries start with what is logged from now on.
            None => upto,
        };
        let subs: Vec<SubRow> = sqlx::query_as(
            "SELECT id, events, starts_after FROM webhook_subscriptions WHERE active ORDER BY id")
            .fetch_all(&mut *tx).await?;
        let subs: Vec<(i64, Vec<HookEvent>, i64)> = subs
            .into_iter()
            .map(|s| (s.id, parse_events(&s.events), s.starts_after))
            .collect();
        let (new_cursor, queued, more) = if subs.is_empty() || upto <= cursor {
            (upto.max(cursor), 0, false)
        } else {
            let kinds: Vec<&str> = LOG_KINDS.iter().map(|k| k.as_str()).collect();
            let sql = format!(
                "SELECT id, type, data, created_at FROM events
                 WHERE id > $1 AND id <= $2 AND type IN ({}) ORDER BY id LIMIT $3",
                placeholders(4, kinds.len()));
            let mut q = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
                .bind(cursor).bind(upto).bind(limit);
            for k in &kinds {
                q = q.bind(*k);
            }
            let rows: Vec<EventRow> = q.fetch_all(&mut *tx).await?;
            let full = rows.len() as i64 >= limit;
            let reached = match rows.last() {
                Some(last) if full => last.id,
                _ => upto,
            };
            let follows = subs.iter().any(|(_, evs, _)| {
                evs.contains(&HookEvent::ConversationResolved) || evs.contains(&HookEvent::CampaignFinished)
            });
            let mut parsed = Vec::with_capacity(rows.len());
            for r in rows {
                let Some(kind) = EventKind::parse(&r.kind) else { continue };
                let data: Value = serde_json::from_str(&r.data)
                    .map_err(|e| StoreError::Database(format!("event {} holds bad JSON: {e}", r.id)))?;
                parsed.push((r, kind, data));
            }
            // The subjects' last known statuses, for "became resolved / finished".
            let mut statuses: HashMap<String, String> = HashMap::new();
            let mut changed: HashMap<String, String> = HashMap::new();
            if follows {
                let subjects: Vec<String> = parsed
                    .iter()
                    .filter_map(|(_, k, d)| status_of(*k, d).map(|s| s.subject))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                for chunk in subjects.chunks(ROWS_PER_INSERT) {
                    let sql = format!(
                        "SELECT subject, status FROM webhook_subject_status WHERE subject IN ({})",
                        placeholders(1, chunk.len()));
                    let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                    for s in chunk {
                        q = q.bind(s);
                    }
                    statuses.extend(q.fetch_all(&mut *tx).await?);
                }
            }
            let mut deliveries = Vec::new();
            for (r, kind, data) in &parsed {
                let change = if follows { status_of(*kind, data) } else { None };
                let previous = change.as_ref().and_then(|c| statuses.get(&c.subject)).map(String::as_str);
                let types = hook_events(*kind, data, previous);
                for (sub, wanted, starts_after) in &subs {
                    if r.id <= *starts_after {
                        continue;
                    }
                    for t in types.iter().filter(|t| wanted.contains(t)) {
                        deliveries.push(NewDelivery {
                            subscription_id: *sub,
                            event_id: r.id,
                            event: *t,
                            data: r.data.clone(),
                            created_at: r.created_at,
                        });
                    }
                }
                if let Some(c) = change {
                    statuses.insert(c.subject.clone(), c.status.clone());
                    changed.insert(c.subject, c.status);
                }
            }
            for chunk in deliveries.chunks(ROWS_PER_INSERT) {
                // (`status` and `attempts` start at their defaults, 'pending' and 0.)
                let sql = format!(
                    "INSERT INTO webhook_deliveries (subscription_id, event_id, event, data, created_at, next_attempt_at)
                     VALUES {}", placeholder_rows(Dialect::of(db), chunk.len(), DELIVERY_COLS));
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for d in chunk {
                    q = q.bind(d.subscription_id).bind(d.event_id).bind(d.event.as_str())
                        .bind(&d.data).bind(d.created_at).bind(now);
                }
                q.execute(&mut *tx).await?;
            }
            let changed: Vec<(String, String)> = changed.into_iter().collect();
            for chunk in changed.chunks(ROWS_PER_INSERT) {
                let sql = format!(
                    "INSERT INTO webhook_subject_status (subject, status) VALUES {}
                     ON CONFLICT (subject) DO UPDATE SET status = excluded.status",
                    placeholder_rows(Dialect::of(db), chunk.len(), 2));
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (s, st) in chunk {
                    q = q.bind(s).bind(st);
                }
                q.execute(&mut *tx).await?;
            }
            (reached, deliveries.len(), full)
        };
        sqlx::query(
            "INSERT INTO hub_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(CURSOR_KEY).bind(new_cursor.to_string()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok((queued, more))
    })
}

/// Whether any subscription is active (a read: the dispatcher writes nothing while none is).
pub async fn any_active(db: &Db) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_subscriptions WHERE active")
        .fetch_one(p).await)?;
    Ok(n > 0)
}

/// A delivery due to be sent, with where and how.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub subscription_id: i64,
    pub event: String,
    pub data: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub url: String,
    pub secret: String,
}

impl Due {
    /// The body POSTed: `{"id", "event", "created_at", "data"}`, `data` as logged.
    pub fn body(&self) -> Result<String> {
        let data = RawValue::from_string(self.data.clone()).map_err(|e| {
            StoreError::Database(format!("delivery {} holds bad JSON: {e}", self.id))
        })?;
        #[derive(Serialize)]
        struct Body<'a> {
            id: i64,
            event: &'a str,
            created_at: i64,
            data: &'a RawValue,
        }
        serde_json::to_string(&Body {
            id: self.id,
            event: &self.event,
            created_at: self.created_at,
            data: &data,
        })
        .map_err(|e| StoreError::Database(format!("delivery {}: {e}", self.id)))
    }
}

/// Active subscriptions whose oldest pending delivery is due at `now`.
pub async fn due_subscriptions(db: &Db, now: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        // One seek of the queue index per subscription: grouping the pending rows
        // scanned the whole queue index, delivered rows included, at every wake-up
        // (0.8 ms at 30,000 rows, growing with the log).
        "SELECT s.id FROM webhook_subscriptions s
         WHERE s.active AND (SELECT d.next_attempt_at FROM webhook_deliveries d
             WHERE d.subscription_id = s.id AND d.status = 'pending' ORDER BY d.id LIMIT 1) <= $1
         ORDER BY s.id")
        .bind(now).fetch_all(p).await)?;
    Ok(ids)
}

/// The next `limit` pending deliveries of `subscription_id`, oldest first, if the oldest
/// is due (a delivery waiting for its retry holds back the later ones).
pub async fn next_of(db: &Db, subscription_id: i64, now: i64, limit: i64) -> Result<Vec<Due>> {
    let rows: Vec<Due> = on_pool!(db, p => sqlx::query_as(
        "SELECT d.id, d.subscription_id, d.event, d.data, d.created_at, d.attempts, d.next_attempt_at,
            s.url, s.secret
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
         WHERE d.subscription_id = $1 AND d.status = 'pending' AND s.active
         ORDER BY d.id LIMIT $2")
        .bind(subscription_id).bind(limit).fetch_all(p).await)?;
    // Later rows may not be due yet by their own time, but order says they follow the
    // first: only the head's time counts.
    Ok(match rows.first() {
        Some(head) if head.next_attempt_at > now => Vec::new(),
        _ => rows,
    })
}

/// A failed attempt.
pub struct Failure<'a> {
    pub at: i64,
    pub status: Option<u16>,
    pub error: &'a str,
    pub response: Option<&'a str>,
    /// When to try again.
    pub retry_at: i64,
}

pub async fn record_failure(db: &Db, id: i64, f: &Failure<'_>) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2,
             last_status = $3, last_error = $4, last_response = $5, next_attempt_at = $6
         WHERE id = $1")
        .bind(id).bind(f.at).bind(f.status.map(i64::from)).bind(f.error).bind(f.response).bind(f.retry_at)
        .execute(p).await.map(|_| ()))?;
    Ok(())
}

/// A delivery the subscriber answered with a 2xx.
pub struct Delivered {
    pub id: i64,
    pub at: i64,
    pub status: Option<u16>,
    pub response: Option<String>,
}

/// Records a run of deliveries as delivered, in one statement per 200.
pub async fn record_delivered(db: &Db, rows: &[Delivered]) -> Result<()> {
    const COLS: usize = 4;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "WITH d(d_id, d_at, d_status, d_response) AS (VALUES {})
             UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
                 last_attempt_at = d.d_at, last_status = d.d_status, last_error = NULL,
                 last_response = d.d_response, delivered_at = d.d_at
             FROM d WHERE webhook_deliveries.id = d.d_id",
            placeholder_rows(Dialect::of(db), chunk.len(), COLS)
        );
        on_write_pool!(db, p => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for r in chunk {
                q = q.bind(r.id).bind(r.at).bind(r.status.map(i64::from)).bind(r.response.as_deref());
            }
            q.execute(p).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    /// The `id` of the body POSTed (the same on every attempt and replay).
    pub id: i64,
    pub subscription_id: i64,
    /// The event log's id (`seq`) of the event delivered.
    pub event_id: i64,
    pub event: String,
    /// `pending` (waiting for its first or next attempt) or `delivered`.
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// The subscriber's last HTTP status; `null` when it did not answer.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, when it did (timeout, connection refused, a status).
    pub last_error: Option<String>,
    /// The first KiB of the subscriber's last answer.
    pub last_response: Option<String>,
    pub delivered_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "id, subscription_id, event_id, event, status, attempts, created_at,
    CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
    last_attempt_at, last_status, last_error, last_response, delivered_at";

/// A subscription's deliveries, newest first, before the cursor.
pub async fn list(
    db: &Db,
    subscription_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let rows: Vec<Delivery> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE subscription_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3")))
        .bind(subscription_id).bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// Queues delivery `id` of `subscription_id` again, due now; the delivery after, `None`
/// when there is none.
pub async fn replay(db: &Db, subscription_id: i64, id: i64, now: i64) -> Result<Option<Delivery>> {
    let n = on_write_pool!(db, p => sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, delivered_at = NULL
         WHERE id = $1 AND subscription_id = $2")
        .bind(id).bind(subscription_id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(None);
    }
    let row: Option<Delivery> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1")))
        .bind(id).fetch_optional(p).await)?;
    Ok(row)
}

/// Drops deliveries delivered before `before_ms` (the log keeps what is recent and
/// everything still pending); how many.
pub async fn prune(tx: &mut super::Tx, before_ms: i64) -> Result<u64> {
    let n = on_tx!(tx, c => sqlx::query(
        "DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < $1")
        .bind(before_ms).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Pending deliveries (a gauge for operators).
pub async fn pending_count(db: &Db) -> Result<i64> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
        .fetch_one(p).await)?;
    Ok(n)
}
