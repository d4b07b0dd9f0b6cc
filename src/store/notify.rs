//! Who gets which email: members' choices (`notification_prefs`), and the emails queued
//! in the transactions that cause them (docs/notifications.md).

use super::contact_filter::Dialect;
use super::{email, id_list, in_id_list, Db, Result, StoreError, Tx};
use crate::domain::notify::{self, EmailKind, HandoffEmail, NotificationPrefs, SummaryFacts};
use crate::domain::{PresenceStatus, Role};

#[derive(sqlx::FromRow)]
struct Recipient {
    id: i64,
    email: String,
    role: String,
    active: bool,
    handoff: Option<String>,
    sla_breach: Option<bool>,
    daily_summary: Option<bool>,
}

impl Recipient {
    fn role(&self) -> Result<Role> {
        Role::parse(&self.role).ok_or_else(|| {
            StoreError::Database(format!("user {} has role {:?}", self.id, self.role))
        })
    }

    fn prefs(&self) -> Result<NotificationPrefs> {
        let d = NotificationPrefs::defaults(self.role()?);
        Ok(NotificationPrefs {
            handoff: self
                .handoff
                .as_deref()
                .and_then(HandoffEmail::parse)
                .unwrap_or(d.handoff),
            sla_breach: self.sla_breach.unwrap_or(d.sla_breach),
            daily_summary: self.daily_summary.unwrap_or(d.daily_summary),
        })
    }
}

const RECIPIENT: &str =
    "SELECT u.id, u.email, u.role, u.active, p.handoff, p.sla_breach, p.daily_summary
    FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id";

/// A member's choices (the defaults for their role until they choose).
pub async fn prefs(db: &Db, user_id: i64) -> Result<NotificationPrefs> {
    let sql = format!("{RECIPIENT} WHERE u.id = $1");
    let r: Recipient = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id).fetch_one(p).await)?;
    r.prefs()
}

/// Stores a member's choices (all three: the caller merges a partial change).
pub async fn set_prefs(db: &Db, user_id: i64, p: &NotificationPrefs, now: i64) -> Result<()> {
    on_write_pool!(db, pool => sqlx::query(
        "INSERT INTO notification_prefs (user_id, handoff, sla_breach, daily_summary, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE SET handoff = $2, sla_breach = $3, daily_summary = $4,
            updated_at = $5")
        .bind(user_id).bind(p.handoff.as_str()).bind(p.sla_breach).bind(p.daily_summary).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A conversation as an email names it: its customer and its session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationLabel {
    pub id: i64,
    pub title: Option<String>,
    pub chat_id: String,
    pub session: String,
}

impl ConversationLabel {
    pub fn label(&self) -> String {
        notify::conversation_label(self.title.as_deref(), &self.chat_id)
    }
}

pub async fn label_in(tx: &mut Tx, conversation_id: i64) -> Result<ConversationLabel> {
    let l = on_tx!(tx, c => sqlx::query_as(
        "SELECT c.id, c.title, c.chat_id, s.name AS session FROM conversations c
         JOIN wa_sessions s ON s.id = c.session_id WHERE c.id = $1")
        .bind(conversation_id).fetch_one(c).await)?;
    Ok(l)
}

/// Conversation `conversation_id` was just given to member `to` (whose presence is
/// `presence`): an email when they asked for one. Runs in the assignment's transaction.
pub async fn handoff(
    tx: &mut Tx,
    conversation_id: i64,
    to: i64,
    presence: PresenceStatus,
) -> Result<()> {
    let sql = format!("{RECIPIENT} WHERE u.id = $1");
    let r: Option<Recipient> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(to).fetch_optional(c).await)?;
    let Some(r) = r.filter(|r| r.active) else {
        return Ok(());
    };
    if !r.prefs()?.wants_handoff(presence) {
        return Ok(());
    }
    let conv = label_in(tx, conversation_id).await?;
    let mail = notify::handoff_email(&conv.label(), conv.id, &conv.session);
    email::queue(
        tx,
        EmailKind::Handoff,
        Some(r.id),
        Some(conv.id),
        &r.email,
        &mail,
        None,
    )
    .await?;
    Ok(())
}

/// The active admins and the active managers of `session_id` who want SLA emails.
async fn sla_recipients(tx: &mut Tx, session_id: i64) -> Result<Vec<Recipient>> {
    let sql = format!(
        "{RECIPIENT} WHERE u.active AND (u.role = 'admin' OR (u.role = 'manager' AND EXISTS (
            SELECT 1 FROM member_sessions ms WHERE ms.user_id = u.id AND ms.session_id = $1)))
         ORDER BY u.id"
    );
    let rows: Vec<Recipient> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(session_id).fetch_all(c).await)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if r.prefs()?.sla_breach {
            out.push(r);
        }
    }
    Ok(out)
}

/// Emails about SLA alert `alert_id` to the session's supervisors who want them; one per
/// supervisor and alert, whatever happens after.
pub async fn sla_breach(
    tx: &mut Tx,
    alert_id: i64,
    conv: &ConversationLabel,
    session_id: i64,
    waited_secs: i64,
    threshold_secs: i64,
) -> Result<usize> {
    let mail = notify::sla_email(
        &conv.label(),
        conv.id,
        &conv.session,
        waited_secs,
        threshold_secs,
    );
    let mut queued = 0;
    for r in sla_recipients(tx, session_id).await? {
        let key = format!("sla:{alert_id}:{}", r.id);
        if email::queue(
            tx,
            EmailKind::SlaBreach,
            Some(r.id),
            Some(conv.id),
            &r.email,
            &mail,
            Some(&key),
        )
        .await?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// A member who asked for the daily summary.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// The active members who asked for the daily summary and have none queued for `day` yet.
pub async fn summary_due(db: &Db, day: &str) -> Result<Vec<Subscriber>> {
    let rows: Vec<(i64, String, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT u.id, u.email, u.role FROM users u JOIN notification_prefs p ON p.user_id = u.id
         WHERE u.active AND p.daily_summary AND NOT EXISTS (
            SELECT 1 FROM email_outbox e WHERE e.dedupe_key = 'summary:' || CAST(u.id AS TEXT) || ':' || $1)
         ORDER BY u.id")
        .bind(day).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(id, email, role)| {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Database(format!("user {id} has role {role:?}")))?;
            Ok(Subscriber { id, email, role })
        })
        .collect()
}

/// What member `s`'s summary of `[start, end)` says: the day's resolutions and ratings in
/// their sessions, and what is waiting now.
pub async fn summary_facts(
    db: &Db,
    s: &Subscriber,
    day: &str,
    start: i64,
    end: i64,
) -> Result<SummaryFacts> {
    let sessions: Option<Vec<i64>> = match s.role {
        Role::Admin => None,
        _ => Some(on_pool!(db, p => sqlx::query_scalar(
            "SELECT session_id FROM member_sessions WHERE user_id = $1 ORDER BY session_id")
            .bind(s.id).fetch_all(p).await)?),
    };
    let list = id_list(sessions.as_deref());
    let d = Dialect::of(db);
    let in_sessions = in_id_list(d, "session_id", "$3");
    let resolved: i64 = on_pool!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.resolve'
         AND created_at >= $1 AND created_at < $2 AND {in_sessions}")))
        .bind(start).bind(end).bind(list.clone()).fetch_one(p).await)?;
    let resolved_by_me: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.resolve'
         AND created_at >= $1 AND created_at < $2 AND actor_id = $3")
        .bind(start).bind(end).bind(s.id).fetch_one(p).await)?;
    let waiting_now: i64 = on_pool!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM conversations WHERE status = 'pending' AND {}",
        in_id_list(d, "session_id", "$1"))))
        .bind(list.clone()).fetch_one(p).await)?;
    let mine_open: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_id = $1")
        .bind(s.id).fetch_one(p).await)?;
    let csat: (i64, Option<i64>) = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), CAST(SUM(score) AS BIGINT) FROM csat_surveys WHERE state = 'answered'
         AND answered_at >= $1 AND answered_at < $2 AND {in_sessions}")))
        .bind(start).bind(end).bind(list.clone()).fetch_one(p).await)?;
    Ok(SummaryFacts {
        day: day.to_string(),
        resolved_by_me,
        resolved,
        waiting_now,
        mine_open,
        csat_responses: csat.0,
        csat_average: csat
            .1
            .filter(|_| csat.0 > 0)
            .map(|sum| sum as f64 / csat.0 as f64),
    })
}

/// Queues member `s`'s summary for `day` (once: a second call finds it queued).
pub async fn queue_summary(tx: &mut Tx, s: &Subscriber, facts: &SummaryFacts) -> Result<bool> {
    let key = format!("summary:{}:{}", s.id, facts.day);
    let mail = notify::summary_email(facts);
    email::queue(
        tx,
        EmailKind::DailySummary,
        Some(s.id),
        None,
        &s.email,
        &mail,
        Some(&key),
    )
    .await
}
