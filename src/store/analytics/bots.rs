//! The bots report's rollups: what each bot did per UTC day (`analytics_bot_days`) and
//! when it first took part in each conversation (`analytics_bot_conversations`).
//!
//! Unlike the other analytics tables they are not projected from the event log: what a
//! bot did is in `bot_events`, whose ids do not follow commit order across connections, so
//! a cursor over them could skip a row. Instead each transaction that records bot events
//! collects their counts (`Facts`) and writes them in one statement per table when it
//! ends, after its events took their turn (`writer::finish_batch`): the rollups commit
//! with the rows they count, and nodes add to the same rows one after another.

use std::collections::BTreeMap;

use super::super::writer::{self, Conn};
use super::super::{placeholder_rows, Db, Result, Tx};
use crate::domain::analytics::cycle::{floor_to, DAY_MS};

/// Rows per multi-row statement (6 values each: far below either database's limit).
const ROWS_PER_INSERT: usize = 200;

/// (bot, UTC day, trigger or 0, kind, reason or "").
type Key = (i64, i64, i64, String, String);

/// A transaction's bot events, counted for the rollups.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    counts: BTreeMap<Key, i64>,
    /// (bot, conversation) → the first time the bot took part in it here.
    conversations: BTreeMap<(i64, i64), i64>,
}

impl Facts {
    pub(crate) fn add(
        &mut self,
        bot_id: i64,
        trigger_id: Option<i64>,
        conversation_id: i64,
        kind: &str,
        reason: Option<&str>,
        at: i64,
    ) {
        let day = floor_to(at, DAY_MS);
        let key = (
            bot_id,
            day,
            trigger_id.unwrap_or(0),
            kind.to_string(),
            reason.unwrap_or("").to_string(),
        );
        *self.counts.entry(key).or_insert(0) += 1;
        let first = self
            .conversations
            .entry((bot_id, conversation_id))
            .or_insert(at);
        *first = (*first).min(at);
    }
}

/// Adds the transaction's counted bot events to the rollups. Keys go in sorted order, so
/// two transactions touching the same rows lock them in the same order.
pub(crate) async fn flush(tx: &mut Tx) -> Result<()> {
    let facts = std::mem::take(&mut tx.bot_facts);
    let counts: Vec<(Key, i64)> = facts.counts.into_iter().collect();
    for chunk in counts.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO analytics_bot_days (bot_id, day_ms, trigger_id, kind, reason, n) VALUES {}
             ON CONFLICT (bot_id, day_ms, trigger_id, kind, reason)
             DO UPDATE SET n = analytics_bot_days.n + excluded.n",
            placeholder_rows(tx.dialect(), chunk.len(), 6)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((bot, day, trigger, kind, reason), n) in chunk {
                q = q.bind(bot).bind(day).bind(trigger).bind(kind).bind(reason).bind(n);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let conversations: Vec<((i64, i64), i64)> = facts.conversations.into_iter().collect();
    for chunk in conversations.chunks(ROWS_PER_INSERT) {
        // The earliest wins, whichever transaction commits first.
        let sql = format!(
            "INSERT INTO analytics_bot_conversations (bot_id, conversation_id, first_at) VALUES {}
             ON CONFLICT (bot_id, conversation_id) DO UPDATE SET first_at = excluded.first_at
             WHERE excluded.first_at < analytics_bot_conversations.first_at",
            placeholder_rows(tx.dialect(), chunk.len(), 3)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((bot, conversation), first_at) in chunk {
                q = q.bind(bot).bind(conversation).bind(first_at);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Recomputes both rollups from `bot_events` (`tickhub analytics-rebuild`). Writers that
/// would add to them wait for the lock; rows they recorded before it and have not
/// committed are not read here and are added by those writers after: counted once.
pub async fn rebuild(db: &Db, now_ms: i64) -> Result<()> {
    let mut tx = writer::begin(db, now_ms).await?;
    if let Conn::Postgres(c) = &mut tx.conn {
        sqlx::query("LOCK TABLE analytics_bot_days, analytics_bot_conversations IN EXCLUSIVE MODE")
            .execute(&mut **c)
            .await?;
    }
    for sql in [
        "DELETE FROM analytics_bot_days",
        "DELETE FROM analytics_bot_conversations",
        "INSERT INTO analytics_bot_days (bot_id, day_ms, trigger_id, kind, reason, n)
         SELECT bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind,
             COALESCE(reason, ''), COUNT(*)
         FROM bot_events
         GROUP BY bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind,
             COALESCE(reason, '')",
        "INSERT INTO analytics_bot_conversations (bot_id, conversation_id, first_at)
         SELECT bot_id, conversation_id, MIN(created_at) FROM bot_events
         GROUP BY bot_id, conversation_id",
    ] {
        on_tx!(tx, c => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
    }
    writer::commit(tx).await
}
