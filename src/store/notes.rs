//! Private notes on a conversation: for the team only, never sent to WhatsApp.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, Tx};

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Note {
    pub id: i64,
    pub conversation_id: i64,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub text: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

const SELECT: &str =
    "SELECT n.id, n.conversation_id, n.author_id, u.name AS author_name, n.text, n.created_at
    FROM notes n LEFT JOIN users u ON u.id = n.author_id";

pub async fn insert(tx: &mut Tx, conversation_id: i64, author_id: i64, text: &str) -> Result<Note> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO notes (conversation_id, author_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(conversation_id).bind(author_id).bind(text).bind(now).fetch_one(c).await)?;
    let sql = format!("{SELECT} WHERE n.id = $1");
    let note =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(c).await)?;
    Ok(note)
}

/// A conversation's notes, newest first, before the cursor.
pub async fn list(
    db: &Db,
    conversation_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Note>> {
    let sql = format!(
        "{SELECT} WHERE n.conversation_id = $1 AND ($2 IS NULL OR n.id < $2) ORDER BY n.id DESC LIMIT $3"
    );
    let rows = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(conversation_id).bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}
