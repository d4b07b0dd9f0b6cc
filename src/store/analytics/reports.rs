//! Reading the rollups: whole UTC days from `analytics_days`, the period's ragged ends
//! (a time zone's midnight is not UTC's) from the cycles and responses themselves, and
//! traffic from the hourly tables.

use std::collections::{BTreeMap, HashMap};

use super::super::{id_list, Db, Result};
use crate::domain::analytics::cycle::{floor_to, HOUR_MS};
use crate::domain::analytics::report::Period;
use crate::domain::analytics::{Histogram, Metric, Tally};

/// Member (0: none) or session → metric → tally.
pub type Tallies = BTreeMap<i64, BTreeMap<Metric, Tally>>;

/// What tallies are kept apart by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Member,
    Session,
}

fn in_sessions(sessions: Option<&[i64]>) -> String {
    match id_list(sessions) {
        Some(ids) if !ids.is_empty() => format!(" AND session_id IN ({ids})"),
        Some(_) => " AND FALSE".to_string(),
        None => String::new(),
    }
}

fn add(t: &mut Tallies, user: i64, metric: Metric, ms: Option<i64>) {
    t.entry(user)
        .or_default()
        .entry(metric)
        .or_default()
        .add(ms);
}

/// Every member's (or session's) tallies over `period` in `sessions` (`None`: all).
pub async fn tallies(
    db: &Db,
    period: &Period,
    sessions: Option<&[i64]>,
    by: By,
) -> Result<Tallies> {
    let key = |session: i64, user: i64| match by {
        By::Member => user,
        By::Session => session,
    };
    let filter = in_sessions(sessions);
    let mut out = Tallies::new();
    let (first, end) = period.whole_utc_days();
    if first < end {
        let sql = format!(
            "SELECT session_id, user_id, metric, n, sum_ms, hist FROM analytics_days
             WHERE day_ms >= $1 AND day_ms < $2{filter}"
        );
        let rows: Vec<(i64, i64, String, i64, i64, String)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(first).bind(end).fetch_all(p).await)?;
        for (session, user, metric, n, sum_ms, hist) in rows {
            let Some(metric) = Metric::parse(&metric) else {
                continue;
            };
            let tally = Tally {
                n,
                sum_ms,
                hist: Histogram::decode(&hist),
            };
            out.entry(key(session, user))
                .or_default()
                .entry(metric)
                .or_default()
                .merge(&tally);
        }
    }
    for (a, b) in period.edges() {
        let sql = format!(
            "SELECT session_id, user_id, wait_ms, wait_business_ms, first FROM analytics_responses
             WHERE at >= $1 AND at < $2{filter}"
        );
        let rows: Vec<(i64, i64, i64, i64, bool)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(a).bind(b).fetch_all(p).await)?;
        for (session, user, wait, business, first) in rows {
            let user = key(session, user);
            if first {
                add(&mut out, user, Metric::FirstResponse, Some(wait));
                add(
                    &mut out,
                    user,
                    Metric::FirstResponseBusiness,
                    Some(business),
                );
            }
            add(&mut out, user, Metric::Response, Some(wait));
            add(&mut out, user, Metric::ResponseBusiness, Some(business));
        }
        let sql = format!(
            "SELECT session_id, COALESCE(handled_by, 0), resolved_at - started_at,
                COALESCE(resolution_business_ms, 0), bot_replied, auto_resolved
             FROM analytics_cycles
             WHERE resolved_at >= $1 AND resolved_at < $2{filter}"
        );
        let rows: Vec<(i64, i64, i64, i64, bool, bool)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(a).bind(b).fetch_all(p).await)?;
        for (session, user, wall, business, bot, auto) in rows {
            let (user, nobody) = (key(session, user), key(session, 0));
            add(&mut out, user, Metric::Resolution, Some(wall));
            add(&mut out, user, Metric::ResolutionBusiness, Some(business));
            if bot {
                add(&mut out, nobody, Metric::BotCycles, None);
            }
            if auto {
                add(&mut out, nobody, Metric::AutoResolved, None);
            }
        }
    }
    Ok(out)
}

/// The first hour the hourly tables count for `period` (an hour that starts before the
/// period but ends inside it counts when the zone's offset is not whole hours).
fn first_hour(period: &Period) -> i64 {
    floor_to(period.from_ms, HOUR_MS)
}

/// Messages each member sent over `period`.
pub async fn messages_sent(
    db: &Db,
    period: &Period,
    sessions: Option<&[i64]>,
) -> Result<HashMap<i64, i64>> {
    let sql = format!(
        "SELECT user_id, CAST(SUM(messages_sent) AS BIGINT) FROM analytics_member_hours
         WHERE hour_ms >= $1 AND hour_ms < $2{} GROUP BY user_id",
        in_sessions(sessions)
    );
    let rows: Vec<(i64, i64)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first_hour(period)).bind(period.to_ms).fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

/// A session's traffic in one UTC hour: (session, hour, in, out, cycles started).
pub type HourRow = (i64, i64, i64, i64, i64);

pub async fn session_hours(
    db: &Db,
    period: &Period,
    sessions: Option<&[i64]>,
) -> Result<Vec<HourRow>> {
    let sql = format!(
        "SELECT session_id, hour_ms, messages_in, messages_out, cycles_started
         FROM analytics_session_hours WHERE hour_ms >= $1 AND hour_ms < $2{}
         ORDER BY hour_ms",
        in_sessions(sessions)
    );
    Ok(on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first_hour(period)).bind(period.to_ms).fetch_all(p).await)?)
}

/// Running campaigns per session.
pub async fn running_campaigns(db: &Db) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT cs.session_id, COUNT(*) FROM campaigns c JOIN campaign_sessions cs ON cs.campaign_id = c.id
         WHERE c.status = 'running' GROUP BY cs.session_id")
        .fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

/// Every session's today (since midnight in `period`'s zone; `period` is today): traffic,
/// resolves, first responses, the bot's share, campaigns running, and its status.
pub async fn today(db: &Db, period: &Period) -> Result<crate::domain::board::Today> {
    let statuses: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, status FROM wa_sessions").fetch_all(p).await)?;
    let mut out: crate::domain::board::Today = statuses
        .into_iter()
        .map(|(id, status)| {
            let t = crate::domain::board::SessionToday {
                status,
                ..Default::default()
            };
            (id, t)
        })
        .collect();
    for (session, _, m_in, m_out, _) in session_hours(db, period, None).await? {
        if let Some(t) = out.get_mut(&session) {
            t.messages.messages_in += m_in;
            t.messages.messages_out += m_out;
        }
    }
    for (session, tallies) in tallies(db, period, None, By::Session).await? {
        let Some(t) = out.get_mut(&session) else {
            continue;
        };
        let get = |m| tallies.get(&m).cloned().unwrap_or_default();
        t.resolved = get(Metric::Resolution).n;
        t.first_responses = get(Metric::FirstResponse).hist;
        t.bot_cycles = get(Metric::BotCycles).n;
        t.auto_resolved = get(Metric::AutoResolved).n;
    }
    for (session, n) in running_campaigns(db).await? {
        if let Some(t) = out.get_mut(&session) {
            t.running_campaigns = n;
        }
    }
    Ok(out)
}
