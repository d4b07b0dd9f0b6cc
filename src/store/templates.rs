//! Saved message templates (docs/templates.md): a name and a body in the bot template
//! language, checked by the hub before it gets here.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MessageTemplate {
    pub id: i64,
    pub name: String,
    /// The text, with `{{contact.first_name | "there"}}`-style variables (docs/bots.md).
    pub body: String,
    pub created_by: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

type Row = (i64, String, String, Option<i64>, i64, i64);

fn of(r: Row) -> MessageTemplate {
    let (id, name, body, created_by, created_at, updated_at) = r;
    MessageTemplate {
        id,
        name,
        body,
        created_by,
        created_at,
        updated_at,
    }
}

const SELECT: &str =
    "SELECT id, name, body, created_by, created_at, updated_at FROM message_templates";

/// By id, from `after` on (exclusive), at most `limit`.
pub async fn list(db: &Db, after: Option<i64>, limit: i64) -> Result<Vec<MessageTemplate>> {
    let sql = format!("{SELECT} WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(of).collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<MessageTemplate>> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(of))
}

async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<MessageTemplate>> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(c).await)?;
    Ok(row.map(of))
}

pub async fn insert(tx: &mut Tx, name: &str, body: &str, by: i64) -> Result<MessageTemplate> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO message_templates (name, body, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id")
        .bind(name).bind(body).bind((by > 0).then_some(by)).bind(now)
        .fetch_one(c).await)?;
    get_in(tx, id).await?.ok_or(super::StoreError::NotFound)
}

/// `None`: no such template.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    name: Option<&str>,
    body: Option<&str>,
) -> Result<Option<(MessageTemplate, MessageTemplate)>> {
    let Some(before) = get_in(tx, id).await? else {
        return Ok(None);
    };
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE message_templates SET name = COALESCE($2, name), body = COALESCE($3, body),
         updated_at = $4 WHERE id = $1")
        .bind(id).bind(name).bind(body).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let after = get_in(tx, id).await?.ok_or(super::StoreError::NotFound)?;
    Ok(Some((before, after)))
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<MessageTemplate>> {
    let Some(before) = get_in(tx, id).await? else {
        return Ok(None);
    };
    on_tx!(tx, c => sqlx::query("DELETE FROM message_templates WHERE id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Some(before))
}
