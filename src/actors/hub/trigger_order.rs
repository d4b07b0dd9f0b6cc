//! A bot's triggers put in order in one change: the priorities follow the order given (the
//! first fires first), written in one transaction with one audit entry and one new version
//! of the bot, so the engine recompiles once rather than once per trigger.

use std::collections::HashSet;

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::{FieldError, Viewer};
use crate::store::bots::{self, Trigger};
use crate::store::{audit, StoreError};

/// The gap between neighbours' priorities, leaving room for a trigger added in between.
const STEP: i64 = 10;

/// `ids` lists each of `have` exactly once.
fn check_order(ids: &[i64], have: &[Trigger]) -> Result<(), FieldError> {
    let refuse = |why: String| Err(FieldError::new("trigger_ids", why));
    let mut seen = HashSet::new();
    for id in ids {
        if !have.iter().any(|t| t.id == *id) {
            return refuse(format!("trigger {id} is not one of this bot's"));
        }
        if !seen.insert(*id) {
            return refuse(format!("trigger {id} is listed twice"));
        }
    }
    if let Some(t) = have.iter().find(|t| !seen.contains(&t.id)) {
        return refuse(format!(
            "every trigger of the bot, once each; {} is missing",
            t.id
        ));
    }
    Ok(())
}

/// The triggers as `{id, priority}`, in the order they fire (priority, then the lower id),
/// for the audit log.
fn firing_order(ts: &[Trigger]) -> Vec<serde_json::Value> {
    let mut ts: Vec<&Trigger> = ts.iter().collect();
    ts.sort_by_key(|t| (std::cmp::Reverse(t.priority), t.id));
    ts.iter()
        .map(|t| json!({"id": t.id, "priority": t.priority}))
        .collect()
}

/// Priorities for `ids`, highest first: `STEP` apart, the last at `STEP`.
fn priorities(ids: &[i64]) -> Vec<(i64, i64)> {
    let n = ids.len() as i64;
    ids.iter()
        .enumerate()
        .map(|(i, id)| (*id, (n - i as i64) * STEP))
        .collect()
}

impl Hub {
    /// Puts the bot's triggers in the order of `ids` (highest priority first); answers them
    /// in that order.
    pub async fn order_triggers(
        &self,
        v: &Viewer,
        bot_id: i64,
        ids: Vec<i64>,
    ) -> Result<Vec<Trigger>, HubError> {
        let bot = self.visible_bot(v, bot_id).await?;
        check_order(&ids, &bots::all_triggers(self.db(), bot_id).await?)?;
        let set = priorities(&ids);
        let mut items = self
            .services
            .writer
            .run((v.clone(), bot_id, set), |tx, (v, bot_id, set)| {
                Box::pin(async move {
                    let before = bots::triggers_in(tx, *bot_id).await?;
                    let ids: Vec<i64> = set.iter().map(|(id, _)| *id).collect();
                    // A trigger added or removed since the check: the order given is stale.
                    check_order(&ids, &before).map_err(StoreError::ConflictOn)?;
                    bots::set_priorities(tx, *bot_id, set).await?;
                    let after = bots::triggers_in(tx, *bot_id).await?;
                    let as_json = |ts: &[Trigger]| json!({ "triggers": firing_order(ts) });
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("bot.trigger_order", "bot", *bot_id)
                            .before(as_json(&before))
                            .after(as_json(&after)),
                    )
                    .await?;
                    Ok(after)
                })
            })
            .await?;
        self.bots_changed(bot.session_ids);
        items.sort_by_key(|t| ids.iter().position(|id| *id == t.id));
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_step_down_from_the_first() {
        assert_eq!(priorities(&[7, 3, 9]), vec![(7, 30), (3, 20), (9, 10)]);
        assert!(priorities(&[]).is_empty());
    }
}
