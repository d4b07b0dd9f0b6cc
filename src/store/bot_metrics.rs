//! A bot's figures over a period, counted in the database from `bot_events` (written in
//! the same transactions as what they count).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result};

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct BotMetrics {
    pub bot_id: i64,
    /// Milliseconds since the Unix epoch; the period is `[from, to)`.
    pub from: i64,
    pub to: i64,
    /// Conversations the bot took part in.
    pub conversations: i64,
    pub matches: i64,
    /// Messages the bot could not match.
    pub misses: i64,
    pub greetings: i64,
    pub after_hours: i64,
    /// Conversations resolved while still with the bot: resolved without a person.
    pub resolved_without_person: i64,
    /// Bot failures (a reply rendered empty, WAHA refusing).
    pub failures: i64,
    /// Handoffs by reason (`trigger`, `keyword`, `misses`, `immediately`, `phone_takeover`,
    /// `agent_reply`, `bot_failed`, `bot_off`).
    pub handoffs: BTreeMap<String, i64>,
    pub triggers: Vec<TriggerMetrics>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TriggerMetrics {
    pub trigger_id: i64,
    pub matches: i64,
    pub handoffs: i64,
}

pub async fn for_bot(db: &Db, bot_id: i64, from: i64, to: i64) -> Result<BotMetrics> {
    let kinds: Vec<(String, Option<String>, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT kind, reason, COUNT(*) FROM bot_events
         WHERE bot_id = $1 AND created_at >= $2 AND created_at < $3
         GROUP BY kind, reason")
        .bind(bot_id).bind(from).bind(to).fetch_all(p).await)?;
    let conversations: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(DISTINCT conversation_id) FROM bot_events
         WHERE bot_id = $1 AND created_at >= $2 AND created_at < $3")
        .bind(bot_id).bind(from).bind(to).fetch_one(p).await)?;
    let triggers: Vec<(i64, i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT trigger_id,
            SUM(CASE WHEN kind = 'match' THEN 1 ELSE 0 END),
            SUM(CASE WHEN kind = 'handoff' THEN 1 ELSE 0 END)
         FROM bot_events
         WHERE bot_id = $1 AND created_at >= $2 AND created_at < $3 AND trigger_id IS NOT NULL
         GROUP BY trigger_id ORDER BY trigger_id")
        .bind(bot_id).bind(from).bind(to).fetch_all(p).await)?;
    let mut m = BotMetrics {
        bot_id,
        from,
        to,
        conversations,
        triggers: triggers
            .into_iter()
            .map(|(trigger_id, matches, handoffs)| TriggerMetrics {
                trigger_id,
                matches,
                handoffs,
            })
            .collect(),
        ..BotMetrics::default()
    };
    for (kind, reason, n) in kinds {
        match kind.as_str() {
            "match" => m.matches += n,
            "miss" => m.misses += n,
            "greeting" => m.greetings += n,
            "after_hours" => m.after_hours += n,
            "resolved" => m.resolved_without_person += n,
            "failed" => m.failures += n,
            "handoff" => {
                *m.handoffs
                    .entry(reason.unwrap_or_else(|| "unknown".into()))
                    .or_insert(0) += n
            }
            _ => {}
        }
    }
    Ok(m)
}
