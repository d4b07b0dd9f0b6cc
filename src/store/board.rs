//! Reads behind the supervisors' board and members' counts: tallies of conversations per
//! session (status × assignee, with the queue), the active team, session names; and the
//! transaction that logs a batch of board and count pushes.

use serde_json::value::RawValue;

use super::contact_filter::Dialect;
use super::{id_list, in_id_list, Db, Result, StoreError, Tx};
use crate::domain::board::{TallyRow, TeamMember};
use crate::domain::{ConversationStatus, EventKind, EventScope, Role};

#[derive(sqlx::FromRow)]
struct Row {
    session_id: i64,
    #[sqlx(try_from = "String")]
    status: ConversationStatus,
    assignee_id: Option<i64>,
    n: i64,
    waiting: i64,
    oldest: Option<i64>,
}

impl From<Row> for TallyRow {
    fn from(r: Row) -> Self {
        TallyRow {
            session_id: r.session_id,
            status: r.status,
            assignee_id: r.assignee_id,
            n: r.n,
            waiting: r.waiting,
            oldest_waiting: r.oldest,
        }
    }
}

/// The tally of the sessions among `sessions` (`None`: all).
pub async fn tally_rows(db: &Db, sessions: Option<&[i64]>) -> Result<Vec<TallyRow>> {
    let sql = format!(
        "SELECT session_id, status, assignee_id, COUNT(*) AS n, COUNT(waiting_since) AS waiting,
            MIN(waiting_since) AS oldest
         FROM conversations WHERE {}
         GROUP BY session_id, status, assignee_id",
        in_id_list(Dialect::of(db), "session_id", "$1")
    );
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_list(sessions)).fetch_all(p).await)?;
    Ok(rows.into_iter().map(TallyRow::from).collect())
}

/// One session's tally: the one GROUP BY a change in the session costs.
pub async fn session_tally(db: &Db, session_id: i64) -> Result<Vec<TallyRow>> {
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(
        "SELECT session_id, status, assignee_id, COUNT(*) AS n, COUNT(waiting_since) AS waiting,
            MIN(waiting_since) AS oldest
         FROM conversations WHERE session_id = $1
         GROUP BY session_id, status, assignee_id")
        .bind(session_id).fetch_all(p).await)?;
    Ok(rows.into_iter().map(TallyRow::from).collect())
}

/// Every active member with the sessions they work in, by id.
pub async fn team(db: &Db) -> Result<Vec<TeamMember>> {
    let users: Vec<(i64, String, String, Option<i64>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, role, capacity FROM users WHERE active ORDER BY id")
        .fetch_all(p).await)?;
    let access: Vec<(i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT ms.user_id, ms.session_id FROM member_sessions ms JOIN users u ON u.id = ms.user_id
         WHERE u.active ORDER BY ms.user_id, ms.session_id")
        .fetch_all(p).await)?;
    users
        .into_iter()
        .map(|(id, name, role, capacity)| {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Database(format!("user {id} has role {role:?}")))?;
            Ok(TeamMember {
                id,
                name,
                role,
                capacity,
                sessions: access
                    .iter()
                    .filter(|(u, _)| *u == id)
                    .map(|(_, s)| *s)
                    .collect(),
            })
        })
        .collect()
}

/// Every member's name by id, deactivated members included (their figures stay theirs).
pub async fn team_names(db: &Db) -> Result<std::collections::BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as("SELECT id, name FROM users")
        .fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

/// Every session's id and name, by name.
pub async fn session_names(db: &Db) -> Result<Vec<(i64, String)>> {
    let rows = on_pool!(db, p => sqlx::query_as("SELECT id, name FROM wa_sessions ORDER BY name")
        .fetch_all(p).await)?;
    Ok(rows)
}

/// One push for one user (`dashboard.updated`, `counts.updated`), its data encoded.
#[derive(Debug)]
pub struct Push {
    pub kind: EventKind,
    pub user_id: i64,
    pub data: Box<RawValue>,
}

/// Logs a batch of pushes, each to its user.
pub async fn log_pushes(tx: &mut Tx, pushes: &[Push]) -> Result<()> {
    for p in pushes {
        super::events::append(tx, p.kind, EventScope::user(p.user_id), &p.data).await?;
    }
    Ok(())
}
