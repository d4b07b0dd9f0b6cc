//! Customer satisfaction surveys (docs/csat.md): the question queued in the transaction
//! that resolves a conversation, the customer's answer read in the transaction that
//! stores their reply, and the scores per agent.

use serde::Serialize;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::conversations::{self, Conversation};
use super::handling::{self, Outcome, Refused};
use super::messages::Message;
use super::{id_list, in_id_list, outbound, Db, Result, StoreError, Tx};
use crate::domain::{csat, ConversationStatus, Denied, Viewer};

/// A session's CSAT settings, read in the resolving transaction.
async fn settings_in(tx: &mut Tx, session_id: i64) -> Result<(bool, Option<String>)> {
    let s = on_tx!(tx, c => sqlx::query_as(
        "SELECT csat_enabled, csat_question FROM wa_sessions WHERE id = $1")
        .bind(session_id).fetch_one(c).await)?;
    Ok(s)
}

/// Whether a chat is one customer (not a group, a status broadcast or a channel).
fn one_customer(conv: &Conversation) -> bool {
    !conv.is_group
        && !conv.chat_id.ends_with("@broadcast")
        && !conv.chat_id.ends_with("@newsletter")
}

/// `before` (as it was) has just been resolved in `tx`: when its session asks for
/// ratings, the question is stored with its outbox row and a pending survey is recorded
/// for the member who had it. Answers the outbox row to send.
pub async fn ask(tx: &mut Tx, before: &Conversation) -> Result<Option<i64>> {
    if !one_customer(before) {
        return Ok(None);
    }
    let (enabled, question) = settings_in(tx, before.session_id).await?;
    if !enabled {
        return Ok(None);
    }
    // A question asked before and never answered is superseded by this one.
    on_tx!(tx, c => sqlx::query(
        "UPDATE csat_surveys SET state = 'expired' WHERE conversation_id = $1 AND state = 'pending'")
        .bind(before.id).execute(c).await.map(|r| r.rows_affected()))?;
    let text = csat::question(question.as_deref()).to_string();
    let (msg, outbox_id) = outbound::store_hub_message(tx, before, &text).await?;
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO csat_surveys (conversation_id, session_id, agent_id, message_id, asked_at, state)
         VALUES ($1, $2, $3, $4, $5, 'pending')")
        .bind(before.id).bind(before.session_id).bind(before.assignee_id).bind(msg.id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Some(outbox_id))
}

/// Resolves or reopens a conversation (`handling::set_resolved`); a conversation that
/// becomes resolved now gets the CSAT question when its session asks for ratings, in the
/// same transaction. Answers the conversation as it then is and the outbox row to send.
pub async fn set_resolved(
    tx: &mut Tx,
    input: &(Viewer, i64, bool),
) -> Result<Outcome<(Conversation, Option<i64>)>> {
    let before = match conversations::get_in(tx, input.1).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(Err(Refused::Denied(Denied::Hidden))),
        Err(e) => return Err(e),
    };
    let after = match handling::set_resolved(tx, input).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let newly = input.2
        && before.status != ConversationStatus::Resolved
        && after.status == ConversationStatus::Resolved;
    if !newly {
        return Ok(Ok((after, None)));
    }
    match ask(tx, &before).await? {
        Some(outbox_id) => Ok(Ok((
            conversations::get_in(tx, after.id).await?,
            Some(outbox_id),
        ))),
        None => Ok(Ok((after, None))),
    }
}

/// What a customer's message in a resolved conversation did to its survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// No survey waits (none asked, or past its window).
    NoSurvey,
    /// The message is the rating: stored; the conversation stays resolved.
    Rated(u8),
    /// The message is something else: the survey is cancelled and the message flows as
    /// any other (it reopens the conversation).
    NotARating,
}

/// Reads `msg` (a customer's, in `conv`, which is resolved) against its pending survey,
/// in the transaction that stores it.
pub async fn on_reply(tx: &mut Tx, conv: &Conversation, msg: &Message) -> Result<Answer> {
    let pending: Option<(i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, asked_at FROM csat_surveys WHERE conversation_id = $1 AND state = 'pending'")
        .bind(conv.id).fetch_optional(c).await)?;
    let Some((id, asked_at)) = pending else {
        return Ok(Answer::NoSurvey);
    };
    let now = tx.now;
    if now - asked_at > csat::ANSWER_WINDOW_MS {
        on_tx!(tx, c => sqlx::query("UPDATE csat_surveys SET state = 'expired' WHERE id = $1")
            .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        return Ok(Answer::NoSurvey);
    }
    let raw: String = msg.text.chars().take(200).collect();
    match csat::parse(&msg.text) {
        Some(score) => {
            on_tx!(tx, c => sqlx::query(
                "UPDATE csat_surveys SET state = 'answered', score = $2, raw_answer = $3, answered_at = $4,
                    answer_message_id = $5
                 WHERE id = $1")
                .bind(id).bind(i64::from(score)).bind(raw).bind(now).bind(msg.id)
                .execute(c).await.map(|r| r.rows_affected()))?;
            // The rating is no question for the team: nobody waits for a reply to it.
            on_tx!(tx, c => sqlx::query(
                "UPDATE conversations SET awaiting_reply_since = NULL WHERE id = $1")
                .bind(conv.id).execute(c).await.map(|r| r.rows_affected()))?;
            Ok(Answer::Rated(score))
        }
        None => {
            on_tx!(tx, c => sqlx::query(
                "UPDATE csat_surveys SET state = 'cancelled', raw_answer = $2, answered_at = $3 WHERE id = $1")
                .bind(id).bind(raw).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            Ok(Answer::NotARating)
        }
    }
}

/// One agent's ratings (`user_id` null: conversations resolved while nobody had them).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AgentScore {
    pub user_id: Option<i64>,
    /// Ratings received.
    pub responses: i64,
    /// Their mean, 1 to 5.
    pub average: f64,
    /// The share of ratings of 4 or 5, in percent.
    pub csat_percent: f64,
}

#[derive(sqlx::FromRow)]
struct Tally {
    agent_id: Option<i64>,
    responses: i64,
    total: i64,
    satisfied: i64,
}

impl From<Tally> for AgentScore {
    fn from(t: Tally) -> Self {
        let n = t.responses.max(1) as f64;
        AgentScore {
            user_id: t.agent_id,
            responses: t.responses,
            average: round2(t.total as f64 / n),
            csat_percent: round2(100.0 * t.satisfied as f64 / n),
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Ratings answered in `[from, to)` in `sessions` (`None`: all), per agent and in total.
pub async fn scores(
    db: &Db,
    from: i64,
    to: i64,
    sessions: Option<&[i64]>,
) -> Result<(Vec<AgentScore>, AgentScore)> {
    let sql = format!(
        "SELECT agent_id, COUNT(*) AS responses, CAST(SUM(score) AS BIGINT) AS total,
            CAST(SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS satisfied
         FROM csat_surveys
         WHERE state = 'answered' AND answered_at >= $1 AND answered_at < $2 AND {}
         GROUP BY agent_id ORDER BY agent_id",
        in_id_list(Dialect::of(db), "session_id", "$3")
    );
    let rows: Vec<Tally> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).bind(id_list(sessions)).fetch_all(p).await)?;
    let all = Tally {
        agent_id: None,
        responses: rows.iter().map(|r| r.responses).sum(),
        total: rows.iter().map(|r| r.total).sum(),
        satisfied: rows.iter().map(|r| r.satisfied).sum(),
    };
    Ok((rows.into_iter().map(AgentScore::from).collect(), all.into()))
}
