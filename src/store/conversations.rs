//! Conversations: one per WhatsApp chat (a person or a group) within a session.

use serde::Serialize;
use utoipa::ToSchema;

use super::{id_list, Db, Result, Tx};
use crate::domain::access::ConversationFilter;
use crate::domain::{ConversationFacts, ConversationStatus};

/// A conversation as agents see it over HTTP and in `conversation.updated`.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub session_id: i64,
    /// WhatsApp session name.
    pub session: String,
    pub chat_id: String,
    pub contact_id: Option<i64>,
    pub is_group: bool,
    pub title: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    /// Inbound messages since an agent last read the conversation.
    pub unread: i64,
    /// Milliseconds since the Unix epoch.
    pub last_message_at: i64,
    pub last_message_preview: Option<String>,
    pub created_at: i64,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, c.session_id, s.name AS session, c.chat_id, c.contact_id, c.is_group, c.title, ",
            "c.status, c.assignee_id, c.unread, c.last_message_at, c.last_message_preview, c.created_at ",
            "FROM conversations c JOIN wa_sessions s ON s.id = c.session_id ",
            $tail
        )
    };
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Any of these statuses; empty: any status.
    pub status: Vec<ConversationStatus>,
    pub session_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub unassigned: bool,
    /// A substring (any case) of the contact's name or WhatsApp name, the chat's number
    /// or id, the title, or the text of any of its messages.
    pub q: Option<String>,
    /// The conversation's contact has this tag.
    pub tag: Option<String>,
    pub contact_id: Option<i64>,
}

/// A position in the activity order (newest first): `<last_message_at>.<id>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let (a, b) = s.split_once('.')?;
        Some(Cursor {
            at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

impl Conversation {
    pub fn facts(&self) -> ConversationFacts {
        ConversationFacts {
            session_id: self.session_id,
            assignee_id: self.assignee_id,
        }
    }
}

/// The list's statement: the access filter, the plain filters and the cursor, then only
/// the search filters asked for (numbered from `$10` on, in the order q, tag, contact), so
/// the plain list keeps its plan on the activity index. Only placeholders and fixed text
/// go into it; every value is bound.
fn list_sql(f: &Filter) -> String {
    let mut sql = String::from(select!(
        "WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || c.status || ',%')) AND ($2 IS NULL OR c.session_id = $2)
           AND ($3 IS NULL OR c.assignee_id = $3) AND ($4 = FALSE OR c.assignee_id IS NULL)
           AND ($5 IS NULL OR c.last_message_at < $5 OR (c.last_message_at = $5 AND c.id < $6))
           AND ($8 IS NULL OR (',' || $8 || ',') LIKE ('%,' || CAST(c.session_id AS TEXT) || ',%'))
           AND ($9 IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $9)"
    ));
    let mut n = 9;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if f.q.is_some() {
        let p = next();
        let like = |col: &str| format!("{col} LIKE {p} ESCAPE '\\'");
        sql.push_str(&format!(
            "
           AND ({} OR {}
                OR EXISTS (SELECT 1 FROM contacts ct WHERE ct.id = c.contact_id
                    AND ({} OR {} OR {}))
                OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {}))",
            like("lower(c.chat_id)"),
            like("lower(COALESCE(c.title, ''))"),
            like("lower(COALESCE(ct.name, ''))"),
            like("lower(COALESCE(ct.push_name, ''))"),
            like("COALESCE(ct.phone, '')"),
            like("lower(m.text)"),
        ));
    }
    if f.tag.is_some() {
        sql.push_str(&format!(
            "
           AND EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id AND t.tag = {})",
            next()
        ));
    }
    if f.contact_id.is_some() {
        sql.push_str(&format!("\n           AND c.contact_id = {}", next()));
    }
    sql.push_str("\n         ORDER BY c.last_message_at DESC, c.id DESC LIMIT $7");
    sql
}

/// The conversations `access` lets through, filtered by `f`, newest activity first.
pub async fn list(
    db: &Db,
    access: &ConversationFilter,
    f: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Conversation>> {
    let sql = list_sql(f);
    let pattern = f.q.as_deref().map(super::contains_pattern);
    // The statuses as one comma list, matched like the session lists: one statement
    // whatever their number.
    let statuses = (!f.status.is_empty()).then(|| {
        f.status
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    });
    let rows = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(statuses.as_deref()).bind(f.session_id).bind(f.assignee_id).bind(f.unassigned)
            .bind(after.map(|c| c.at)).bind(after.map(|c| c.id)).bind(limit)
            .bind(id_list(access.sessions.as_deref())).bind(access.mine_or_unassigned);
        // A statement binds exactly the placeholders it holds.
        if f.q.is_some() {
            q = q.bind(pattern.as_deref());
        }
        if f.tag.is_some() {
            q = q.bind(f.tag.as_deref());
        }
        if f.contact_id.is_some() {
            q = q.bind(f.contact_id);
        }
        q.fetch_all(p).await
    })?;
    Ok(rows)
}

/// A conversation, only when `access` lets it through (else it does not exist).
pub async fn get_visible(
    db: &Db,
    access: &ConversationFilter,
    id: i64,
) -> Result<Option<Conversation>> {
    let row = on_pool!(db, p => sqlx::query_as(select!(
        "WHERE c.id = $1
           AND ($2 IS NULL OR (',' || $2 || ',') LIKE ('%,' || CAST(c.session_id AS TEXT) || ',%'))
           AND ($3 IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $3)"))
        .bind(id).bind(id_list(access.sessions.as_deref())).bind(access.mine_or_unassigned)
        .fetch_optional(p).await)?;
    Ok(row)
}

/// Conversations still with their bot and quiet longer than its `resolve_after_minutes`,
/// quietest first (at most `limit`).
pub async fn quiet_with_bot(db: &Db, now: i64, limit: i64) -> Result<Vec<Conversation>> {
    let rows = on_pool!(db, p => sqlx::query_as(select!(
        "JOIN bots b ON b.id = c.bot_id
         WHERE c.status = 'bot' AND b.resolve_after_minutes IS NOT NULL
           AND c.last_message_at < $1 - b.resolve_after_minutes * 60000
         ORDER BY c.last_message_at LIMIT $2"))
        .bind(now).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Conversation> {
    let row =
        on_tx!(tx, c => sqlx::query_as(select!("WHERE c.id = $1")).bind(id).fetch_one(c).await)?;
    Ok(row)
}

pub async fn find_in(tx: &mut Tx, session_id: i64, chat_id: &str) -> Result<Option<Conversation>> {
    let row = on_tx!(tx, c => sqlx::query_as(select!("WHERE c.session_id = $1 AND c.chat_id = $2"))
        .bind(session_id).bind(chat_id).fetch_optional(c).await)?;
    Ok(row)
}

pub struct NewConversation<'a> {
    pub session_id: i64,
    pub chat_id: &'a str,
    pub contact_id: Option<i64>,
    pub is_group: bool,
    pub title: Option<&'a str>,
    pub status: ConversationStatus,
    /// The bot it starts with (status `bot`).
    pub bot_id: Option<i64>,
}

/// Creates a chat's conversation (the caller, on the writer, has checked it is new).
pub async fn insert(tx: &mut Tx, n: &NewConversation<'_>) -> Result<i64> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO conversations (session_id, chat_id, contact_id, is_group, title, status, unread,
            last_message_at, created_at, updated_at, waiting_since, bot_id)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $7, $8, $9) RETURNING id")
        .bind(n.session_id).bind(n.chat_id).bind(n.contact_id).bind(n.is_group).bind(n.title)
        .bind(n.status.as_str()).bind(now)
        // A conversation with the bot does not wait for a person.
        .bind((n.bot_id.is_none()).then_some(now)).bind(n.bot_id)
        .fetch_one(c).await)?;
    Ok(id)
}

/// Records a new message in the conversation's summary and returns the conversation.
pub async fn touch(
    tx: &mut Tx,
    id: i64,
    session: &str,
    preview: &str,
    inbound: bool,
    title: Option<&str>,
) -> Result<Conversation> {
    let now = tx.now;
    let preview: String = preview.chars().take(140).collect();
    let c = on_tx!(tx, c => sqlx::query_as(
        "UPDATE conversations SET last_message_at = CASE WHEN $2 > last_message_at THEN $2 ELSE last_message_at END,
            last_message_preview = $3, unread = unread + $4, title = COALESCE($5, title), updated_at = $2
         WHERE id = $1
         RETURNING id, session_id, CAST($6 AS TEXT) AS session, chat_id, contact_id, is_group, title, status,
            assignee_id, unread, last_message_at, last_message_preview, created_at")
        .bind(id).bind(now).bind(preview).bind(if inbound { 1i64 } else { 0 }).bind(title).bind(session)
        .fetch_one(c).await)?;
    Ok(c)
}

pub async fn mark_read(tx: &mut Tx, id: i64) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET unread = 0, updated_at = $2 WHERE id = $1 AND unread <> 0")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Who handles a conversation and where it stands, with how long it has waited: set while
/// it is unassigned and not resolved (kept when it already waited), cleared otherwise.
pub async fn set_handling(
    tx: &mut Tx,
    id: i64,
    assignee_id: Option<i64>,
    status: ConversationStatus,
) -> Result<()> {
    let now = tx.now;
    let waits = assignee_id.is_none()
        && !matches!(
            status,
            ConversationStatus::Resolved | ConversationStatus::Bot
        );
    on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET assignee_id = $2, status = $3, updated_at = $4,
            waiting_since = CASE WHEN $5 THEN COALESCE(waiting_since, $4) ELSE NULL END
         WHERE id = $1")
        .bind(id).bind(assignee_id).bind(status.as_str()).bind(now).bind(waits)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(db: &Db, session_id: i64, chat_id: &str) -> Result<Option<Conversation>> {
    let row = on_pool!(db, p => sqlx::query_as(select!("WHERE c.session_id = $1 AND c.chat_id = $2"))
        .bind(session_id).bind(chat_id).fetch_optional(p).await)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::{list_sql, Cursor, Filter};

    #[test]
    fn search_filters_are_numbered_in_turn_and_absent_unless_asked() {
        let plain = list_sql(&Filter::default());
        assert!(
            !plain.contains("$10") && !plain.contains("EXISTS"),
            "{plain}"
        );
        let tag_only = list_sql(&Filter {
            tag: Some("vip".into()),
            ..Default::default()
        });
        assert!(
            tag_only.contains("t.tag = $10") && !tag_only.contains("$11"),
            "{tag_only}"
        );
        let all = list_sql(&Filter {
            q: Some("ann".into()),
            tag: Some("vip".into()),
            contact_id: Some(3),
            ..Default::default()
        });
        assert!(all.contains("lower(m.text) LIKE $10 ESCAPE '\\'"), "{all}");
        assert!(
            all.contains("t.tag = $11") && all.contains("c.contact_id = $12"),
            "{all}"
        );
    }

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            at: 1700000000000,
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("x.1"), None);
        assert_eq!(Cursor::decode("12"), None);
    }
}
