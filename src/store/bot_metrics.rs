//! A bot's figures over a period, from `bot_events` (written in the same transactions as
//! what they count) and their daily rollups.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use super::{id_list, Db, Result};
use crate::domain::analytics::report::Period;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct BotMetrics {
    pub bot_id: i64,
    /// Milliseconds since the Unix epoch; the period is `[from, to)`.
    pub from: i64,
    pub to: i64,
    /// Conversations the bot took part in for the first time in the period (so a
    /// period's figure is the sum of its days').
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
    Ok(for_bots(db, &[bot_id], from, to)
        .await?
        .remove(&bot_id)
        .unwrap_or_else(|| BotMetrics::empty(bot_id, from, to)))
}

/// The figures of `bots` over `[from, to)`: whole UTC days from the rollups
/// (`store::analytics::bots`), the ragged ends from `bot_events` by their indexed time.
pub async fn for_bots(
    db: &Db,
    bots: &[i64],
    from: i64,
    to: i64,
) -> Result<HashMap<i64, BotMetrics>> {
    let mut out: HashMap<i64, BotMetrics> = bots
        .iter()
        .map(|id| (*id, BotMetrics::empty(*id, from, to)))
        .collect();
    let Some(ids) = id_list(Some(bots)).filter(|ids| !ids.is_empty()) else {
        return Ok(out);
    };
    let period = Period {
        from_ms: from,
        to_ms: to,
        tz: chrono_tz::UTC,
    };
    let (first, end) = period.whole_utc_days();
    let edges = period.edges();
    let edge = |i: usize| edges.get(i).copied().unwrap_or((0, 0));
    let (a, b) = (edge(0), edge(1));
    // Each part a plain range on `bot_events (bot_id, created_at)`; only ids and
    // placeholders are formatted into the text.
    let edge_counts = |p: usize| {
        format!(
            "SELECT bot_id, COALESCE(trigger_id, 0), kind, COALESCE(reason, ''), COUNT(*)
             FROM bot_events WHERE bot_id IN ({ids}) AND created_at >= ${p} AND created_at < ${}
             GROUP BY bot_id, COALESCE(trigger_id, 0), kind, COALESCE(reason, '')",
            p + 1
        )
    };
    // (bot, trigger or 0, kind, reason or "", count).
    let sql = format!(
        "SELECT bot_id, trigger_id, kind, reason, CAST(SUM(n) AS BIGINT) FROM analytics_bot_days
         WHERE bot_id IN ({ids}) AND day_ms >= $1 AND day_ms < $2
         GROUP BY bot_id, trigger_id, kind, reason
         UNION ALL {}
         UNION ALL {}",
        edge_counts(3),
        edge_counts(5)
    );
    let counts: Vec<(i64, i64, String, String, i64)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first).bind(end).bind(a.0).bind(a.1).bind(b.0).bind(b.1).fetch_all(p).await)?;
    // Exact for any period without ragged ends: each conversation counts in the period
    // the bot first took part in it.
    let sql = format!(
        "SELECT bot_id, COUNT(*) FROM analytics_bot_conversations
         WHERE bot_id IN ({ids}) AND first_at >= $1 AND first_at < $2 GROUP BY bot_id"
    );
    let conversations: Vec<(i64, i64)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).fetch_all(p).await)?;
    for (bot, n) in conversations {
        if let Some(m) = out.get_mut(&bot) {
            m.conversations = n;
        }
    }
    let mut triggers: HashMap<i64, BTreeMap<i64, (i64, i64)>> = HashMap::new();
    for (bot, trigger, kind, reason, n) in counts {
        let Some(m) = out.get_mut(&bot) else { continue };
        match kind.as_str() {
            "match" => m.matches += n,
            "miss" => m.misses += n,
            "greeting" => m.greetings += n,
            "after_hours" => m.after_hours += n,
            "resolved" => m.resolved_without_person += n,
            "failed" => m.failures += n,
            "handoff" => {
                let reason = if reason.is_empty() {
                    "unknown".to_string()
                } else {
                    reason
                };
                *m.handoffs.entry(reason).or_insert(0) += n
            }
            _ => {}
        }
        if trigger != 0 {
            let t = triggers.entry(bot).or_default().entry(trigger).or_default();
            match kind.as_str() {
                "match" => t.0 += n,
                "handoff" => t.1 += n,
                _ => {}
            }
        }
    }
    for (bot, per_trigger) in triggers {
        if let Some(m) = out.get_mut(&bot) {
            m.triggers = per_trigger
                .into_iter()
                .map(|(trigger_id, (matches, handoffs))| TriggerMetrics {
                    trigger_id,
                    matches,
                    handoffs,
                })
                .collect();
        }
    }
    Ok(out)
}

impl BotMetrics {
    fn empty(bot_id: i64, from: i64, to: i64) -> BotMetrics {
        BotMetrics {
            bot_id,
            from,
            to,
            ..BotMetrics::default()
        }
    }
}
