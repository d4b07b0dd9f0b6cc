//! The hot path: a customer's message in a conversation its actor knows.
//!
//! A batch's first such message of each conversation is written before its jobs run, all
//! of them at once (`Stage`): one statement on PostgreSQL (data-modifying CTEs), two on
//! SQLite (the messages, then the conversations' summaries). At 1,000 webhooks/s a batch
//! holds a message for each of several conversations, and a statement or two each cost a
//! round trip (PostgreSQL) or a hop to SQLite's thread and back, as much again as the rows
//! themselves. Each job then takes its rows from the stage instead of writing them; the
//! events follow with the batch. A message the stage did not take is one statement on
//! PostgreSQL and the general path of `ingest` on SQLite.

use std::collections::HashMap;

use super::contact_filter::Dialect;
use super::conversations::Conversation;
use super::ingest::{new_message, Applied, Ingest, Ingested, Known};
use super::writer::Conn;
use super::{events, placeholder_rows, Result, Tx};
use crate::domain::chat::raw_message_id;
use crate::domain::{Change, ConversationStatus, IncomingMessage};

/// The messages a batch writes up front, and what became of each until its job takes it.
#[derive(Default)]
pub(crate) struct Stage {
    messages: Vec<Staged>,
    /// By (conversation, raw message id): the stored row, or `None` for a duplicate.
    written: HashMap<(i64, String), Option<StagedRow>>,
}

struct Staged {
    conversation_id: i64,
    session_id: i64,
    waha_id: String,
    raw_id: String,
    direction: &'static str,
    text: String,
    status: &'static str,
    sender: Option<String>,
    sender_name: Option<String>,
    media_url: Option<String>,
    media_mimetype: Option<String>,
    media_filename: Option<String>,
    wa_timestamp: Option<i64>,
    preview: String,
    title: Option<String>,
}

impl Staged {
    fn of(item: &Ingest, known: &Known, m: &IncomingMessage) -> Staged {
        let new = new_message(m, item.session.id, known.conversation_id);
        let media = new.media;
        Staged {
            conversation_id: known.conversation_id,
            session_id: item.session.id,
            waha_id: m.waha_id.clone(),
            raw_id: raw_message_id(&m.waha_id).to_owned(),
            direction: new.direction.as_str(),
            text: m.text.clone(),
            status: new.status.as_str(),
            sender: m.sender.clone(),
            sender_name: m.sender_name.clone(),
            media_url: media.and_then(|x| x.url.clone()),
            media_mimetype: media.and_then(|x| x.mimetype.clone()),
            media_filename: media.and_then(|x| x.filename.clone()),
            wa_timestamp: m.wa_timestamp,
            preview: m.preview.chars().take(140).collect(),
            title: m.title().map(str::to_owned),
        }
    }
}

impl Stage {
    /// Stages `item` when it takes the fast path and its conversation has nothing staged
    /// yet (one statement updates a row once); true when it was staged.
    pub(crate) fn offer(&mut self, item: &Ingest) -> bool {
        let Some((known, m)) = fast(item) else {
            return false;
        };
        if self
            .messages
            .iter()
            .any(|s| s.conversation_id == known.conversation_id)
        {
            return false;
        }
        self.messages.push(Staged::of(item, known, m));
        true
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Written and not taken by a job: a job that staged a message and then did not take
    /// the fast path would leave it without its events.
    pub(crate) fn untaken(&self) -> usize {
        self.written.len()
    }

    fn take(&mut self, conversation_id: i64, raw_id: &str) -> Option<Option<StagedRow>> {
        if self.written.is_empty() {
            return None;
        }
        self.written.remove(&(conversation_id, raw_id.to_owned()))
    }
}

/// Writes the staged messages and their conversations' summaries (one statement on
/// PostgreSQL, two on SQLite).
pub(crate) async fn write_stage(tx: &mut Tx) -> Result<()> {
    let staged = std::mem::take(&mut tx.stage.messages);
    if staged.is_empty() {
        return Ok(());
    }
    let now = tx.now;
    let rows = match &mut tx.conn {
        Conn::Postgres(t) => stage_postgres(t, &staged, now).await?,
        Conn::Sqlite(t) => stage_sqlite(t, &staged, now).await?,
    };
    metrics::counter!("tickhub_writer_stage_statements_total").increment(1);
    metrics::counter!("tickhub_writer_staged_messages_total").increment(staged.len() as u64);
    let mut by_conversation: HashMap<i64, StagedRow> = rows
        .into_iter()
        .map(|r| (r.staged_conversation_id, r))
        .collect();
    // A message the insert skipped is stored already: a duplicate.
    tx.stage.written = staged
        .into_iter()
        .map(|s| {
            let row = by_conversation.remove(&s.conversation_id);
            ((s.conversation_id, s.raw_id), row)
        })
        .collect();
    Ok(())
}

async fn stage_postgres(
    t: &mut sqlx::PgConnection,
    staged: &[Staged],
    now: i64,
) -> Result<Vec<StagedRow>> {
    let col = |f: fn(&Staged) -> Option<String>| staged.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<StagedRow> = sqlx::query_as(
        "WITH i AS (
            SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                $14::bigint[], $15::text[], $16::text[])
            AS i(conversation_id, session_id, waha_id, raw_id, direction, text, status, sender,
                sender_name, media_url, media_mimetype, media_filename, wa_timestamp, preview, title)
         ), m AS (
            INSERT INTO messages (conversation_id, session_id, waha_id, raw_id, direction, text, status,
                sender, sender_name, media_url, media_mimetype, media_filename, wa_timestamp, created_at)
            SELECT conversation_id, session_id, waha_id, raw_id, direction, text, status, sender,
                sender_name, media_url, media_mimetype, media_filename, wa_timestamp, $1
            FROM i
            ON CONFLICT DO NOTHING RETURNING id, conversation_id
         ), u AS (
            UPDATE conversations v SET
                last_message_at = CASE WHEN $1 > v.last_message_at THEN $1 ELSE v.last_message_at END,
                last_message_preview = i.preview, unread = v.unread + 1, title = COALESCE(i.title, v.title),
                updated_at = $1, awaiting_reply_since = COALESCE(v.awaiting_reply_since, $1)
            FROM m JOIN i ON i.conversation_id = m.conversation_id
            WHERE v.id = m.conversation_id
            RETURNING v.id, v.session_id, v.chat_id, v.contact_id, v.is_group, v.title, v.status,
                v.assignee_id, v.unread, v.last_message_at, v.last_message_preview, v.created_at
         )
         SELECT m.id AS message_id, m.conversation_id AS staged_conversation_id, u.*
         FROM m LEFT JOIN u ON u.id = m.conversation_id",
    )
    .bind(now)
    .bind(staged.iter().map(|s| s.conversation_id).collect::<Vec<_>>())
    .bind(staged.iter().map(|s| s.session_id).collect::<Vec<_>>())
    .bind(col(|s| Some(s.waha_id.clone())))
    .bind(col(|s| Some(s.raw_id.clone())))
    .bind(col(|s| Some(s.direction.to_owned())))
    .bind(col(|s| Some(s.text.clone())))
    .bind(col(|s| Some(s.status.to_owned())))
    .bind(col(|s| s.sender.clone()))
    .bind(col(|s| s.sender_name.clone()))
    .bind(col(|s| s.media_url.clone()))
    .bind(col(|s| s.media_mimetype.clone()))
    .bind(col(|s| s.media_filename.clone()))
    .bind(staged.iter().map(|s| s.wa_timestamp).collect::<Vec<_>>())
    .bind(col(|s| Some(s.preview.clone())))
    .bind(col(|s| s.title.clone()))
    .fetch_all(&mut *t)
    .await?;
    Ok(rows)
}

/// SQLite: the messages in one statement, then the summaries of the conversations whose
/// message was new in another (no DML in CTEs), both with anonymous placeholders.
async fn stage_sqlite(
    t: &mut sqlx::SqliteConnection,
    staged: &[Staged],
    now: i64,
) -> Result<Vec<StagedRow>> {
    let sql = format!(
        "INSERT INTO messages (conversation_id, session_id, waha_id, raw_id, direction, text, status,
            sender, sender_name, media_url, media_mimetype, media_filename, wa_timestamp, created_at)
         VALUES {} ON CONFLICT DO NOTHING RETURNING id, conversation_id",
        placeholder_rows(Dialect::Sqlite, staged.len(), 14)
    );
    let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql));
    for s in staged {
        q = q
            .bind(s.conversation_id)
            .bind(s.session_id)
            .bind(&s.waha_id)
            .bind(&s.raw_id)
            .bind(s.direction)
            .bind(&s.text)
            .bind(s.status)
            .bind(&s.sender)
            .bind(&s.sender_name)
            .bind(&s.media_url)
            .bind(&s.media_mimetype)
            .bind(&s.media_filename)
            .bind(s.wa_timestamp)
            .bind(now);
    }
    let inserted = q.fetch_all(&mut *t).await?;
    if inserted.is_empty() {
        return Ok(Vec::new());
    }
    let new: Vec<&Staged> = staged
        .iter()
        .filter(|s| inserted.iter().any(|(_, c)| *c == s.conversation_id))
        .collect();
    let sql = format!(
        "WITH i(c_id, c_preview, c_title, c_now) AS (VALUES {})
         UPDATE conversations SET
            last_message_at = CASE WHEN i.c_now > last_message_at THEN i.c_now ELSE last_message_at END,
            last_message_preview = i.c_preview, unread = unread + 1, title = COALESCE(i.c_title, title),
            updated_at = i.c_now, awaiting_reply_since = COALESCE(awaiting_reply_since, i.c_now)
         FROM i WHERE conversations.id = i.c_id
         RETURNING id, session_id, chat_id, contact_id, is_group, title, status, assignee_id, unread,
            last_message_at, last_message_preview, created_at",
        placeholder_rows(Dialect::Sqlite, new.len(), 4)
    );
    let mut q = sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql));
    for s in &new {
        q = q
            .bind(s.conversation_id)
            .bind(&s.preview)
            .bind(&s.title)
            .bind(now);
    }
    let mut conversations: HashMap<i64, ConversationRow> = q
        .fetch_all(&mut *t)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.id?, c)))
        .collect();
    Ok(inserted
        .into_iter()
        .map(|(message_id, conversation)| StagedRow {
            message_id,
            staged_conversation_id: conversation,
            row: conversations.remove(&conversation).unwrap_or_default(),
        })
        .collect())
}

/// The known conversation and the message when `item` takes the fast path.
fn fast(item: &Ingest) -> Option<(&Known, &IncomingMessage)> {
    let (Some(known), Change::Message(m)) = (item.known.as_ref(), &item.inbound.change) else {
        return None;
    };
    // A name change touches the contact, a group or our own message the counters: the
    // general path knows how.
    if m.from_me || !(m.chat.is_group() || m.sender_name.is_none() || m.sender_name == known.title)
    {
        return None;
    }
    Some((known, m))
}

/// `None`: the fast path does not apply, take the general one.
pub(super) async fn customer_message(tx: &mut Tx, item: &Ingest) -> Result<Option<Ingested>> {
    let Some((known, m)) = fast(item) else {
        return Ok(None);
    };
    let new = new_message(m, item.session.id, known.conversation_id);
    let (message_id, row) = match tx
        .stage
        .take(known.conversation_id, raw_message_id(&m.waha_id))
    {
        Some(Some(staged)) => (Some(staged.message_id), staged.row),
        Some(None) => (None, ConversationRow::default()),
        // SQLite has no round trips to save for one message: the general path
        None if matches!(tx.conn, Conn::Sqlite(_)) => return Ok(None),
        // PostgreSQL: the stage's statement for this one message
        None => {
            let now = tx.now;
            let Conn::Postgres(t) = &mut tx.conn else {
                return Ok(None);
            };
            let one = [Staged::of(item, known, m)];
            match stage_postgres(t, &one, now).await?.pop() {
                Some(staged) => (Some(staged.message_id), staged.row),
                None => (None, ConversationRow::default()),
            }
        }
    };
    // No message id: the message is stored already (messages have no inbox row, see
    // `ingest`).
    let Some(message_id) = message_id else {
        return Ok(Some(Ingested::Duplicate));
    };
    let Some(id) = row.id else {
        return Ok(Some(Ingested::Stored(Box::default())));
    };
    let conv = Conversation {
        id,
        session_id: row.session_id.unwrap_or(item.session.id),
        session: item.session.name.clone(),
        chat_id: row.chat_id.unwrap_or_default(),
        contact_id: row.contact_id,
        is_group: row.is_group.unwrap_or(false),
        title: row.title,
        status: row
            .status
            .as_deref()
            .and_then(ConversationStatus::parse)
            .unwrap_or(ConversationStatus::Pending),
        assignee_id: row.assignee_id,
        unread: row.unread.unwrap_or(0),
        last_message_at: row.last_message_at.unwrap_or(tx.now),
        last_message_preview: row.last_message_preview,
        created_at: row.created_at.unwrap_or(tx.now),
    };
    let msg = new.stored(message_id, &item.session.name, tx.now);
    events::log_created(tx, &msg, &conv).await?;
    Ok(Some(Ingested::Stored(Box::new(Applied {
        conversation: Some(conv),
        new_message: Some((msg, m.author())),
        ..Applied::default()
    }))))
}

#[derive(sqlx::FromRow)]
struct StagedRow {
    message_id: i64,
    staged_conversation_id: i64,
    #[sqlx(flatten)]
    row: ConversationRow,
}

/// The conversation as the update left it (all `None` when it is gone).
#[derive(sqlx::FromRow, Default)]
struct ConversationRow {
    id: Option<i64>,
    session_id: Option<i64>,
    chat_id: Option<String>,
    contact_id: Option<i64>,
    is_group: Option<bool>,
    title: Option<String>,
    status: Option<String>,
    assignee_id: Option<i64>,
    unread: Option<i64>,
    last_message_at: Option<i64>,
    last_message_preview: Option<String>,
    created_at: Option<i64>,
}
