//! The WhatsApp sessions a campaign sends over (one or more, in the order named; the
//! first is also `campaigns.session_id`). Read for many campaigns in one query.

use std::collections::HashMap;

use super::campaigns::CampaignRow;
use super::{placeholders, Db, Result, Tx};
use crate::domain::SessionRef;

fn select(n: usize) -> String {
    format!(
        "SELECT cs.campaign_id, cs.session_id, s.name FROM campaign_sessions cs
         JOIN wa_sessions s ON s.id = cs.session_id
         WHERE cs.campaign_id IN ({}) ORDER BY cs.campaign_id, cs.position",
        placeholders(1, n)
    )
}

fn grouped(rows: Vec<(i64, i64, String)>) -> HashMap<i64, Vec<SessionRef>> {
    let mut out: HashMap<i64, Vec<SessionRef>> = HashMap::new();
    for (campaign, id, name) in rows {
        out.entry(campaign)
            .or_default()
            .push(SessionRef { id, name });
    }
    out
}

/// Each of `ids`' sessions, in order.
pub async fn of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<SessionRef>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = select(ids.len());
    let rows: Vec<(i64, i64, String)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    Ok(grouped(rows))
}

pub async fn of_in(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, Vec<SessionRef>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = select(ids.len());
    let rows: Vec<(i64, i64, String)> = on_tx!(tx, c => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    Ok(grouped(rows))
}

/// Fills each row's `sessions` (a campaign without rows here keeps its one session).
pub fn attach(rows: &mut [CampaignRow], mut found: HashMap<i64, Vec<SessionRef>>) {
    for r in rows {
        r.sessions = found.remove(&r.id).unwrap_or_else(|| {
            vec![SessionRef {
                id: r.session_id,
                name: r.session.clone(),
            }]
        });
    }
}

pub async fn attach_from(db: &Db, rows: &mut [CampaignRow]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let found = of(db, &ids).await?;
    attach(rows, found);
    Ok(())
}

/// Replaces the campaign's sessions with `sessions`, in order.
pub async fn set(tx: &mut Tx, campaign_id: i64, sessions: &[i64]) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM campaign_sessions WHERE campaign_id = $1")
        .bind(campaign_id).execute(c).await.map(|_| ()))?;
    for (i, s) in sessions.iter().enumerate() {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO campaign_sessions (campaign_id, session_id, position) VALUES ($1, $2, $3)")
            .bind(campaign_id).bind(*s).bind(i as i64).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
