//! Quick replies: the team's saved responses, found by their shortcut. Not tied to a
//! WhatsApp session: the whole team shares one set.

use serde::Serialize;
use utoipa::ToSchema;

use super::{contains_pattern, Db, Result, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct QuickReply {
    pub id: i64,
    /// 1 to 32 of `a-z`, `0-9`, `_`, `-`; unique.
    pub shortcut: String,
    /// May hold template variables (`{{contact.name}}`, …), filled in when inserted.
    pub text: String,
    /// The member who created it.
    pub created_by: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT id, shortcut, text, created_by, created_at, updated_at FROM quick_replies ",
            $tail
        )
    };
}

/// By shortcut; `q` matches the shortcut or the text (case-insensitively); `after` is the
/// last shortcut of the previous page.
pub async fn list(
    db: &Db,
    q: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<QuickReply>> {
    let pattern = q.map(contains_pattern);
    let rows = on_pool!(db, p => sqlx::query_as(select!(
        "WHERE ($1 IS NULL OR lower(shortcut) LIKE $1 ESCAPE '\\' OR lower(text) LIKE $1 ESCAPE '\\')
           AND ($2 IS NULL OR shortcut > $2)
         ORDER BY shortcut LIMIT $3"))
        .bind(pattern).bind(after).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<QuickReply>> {
    let row = on_pool!(db, p => sqlx::query_as(select!("WHERE id = $1"))
        .bind(id).fetch_optional(p).await)?;
    Ok(row)
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<QuickReply>> {
    let row = on_tx!(tx, c => sqlx::query_as(select!("WHERE id = $1"))
        .bind(id).fetch_optional(c).await)?;
    Ok(row)
}

/// What a write came to, when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    Done(QuickReply),
    /// Another quick reply has this shortcut (nothing was written).
    Taken(String),
    /// There is no such quick reply.
    Missing,
}

/// A new quick reply by member `by`.
pub async fn insert(tx: &mut Tx, shortcut: &str, text: &str, by: i64) -> Result<Saved> {
    let now = tx.now;
    // DO NOTHING rather than a unique violation: a failed statement would spoil the
    // writer's whole batch.
    let row: Option<QuickReply> = on_tx!(tx, c => sqlx::query_as(
        "INSERT INTO quick_replies (shortcut, text, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (shortcut) DO NOTHING
         RETURNING id, shortcut, text, created_by, created_at, updated_at")
        .bind(shortcut).bind(text).bind(by).bind(now)
        .fetch_optional(c).await)?;
    Ok(row.map_or_else(|| Saved::Taken(shortcut.to_string()), Saved::Done))
}

/// Changes what is given (nothing given: it stays as it is, `updated_at` included).
pub async fn update(
    tx: &mut Tx,
    id: i64,
    shortcut: Option<&str>,
    text: Option<&str>,
) -> Result<Saved> {
    if shortcut.is_none() && text.is_none() {
        return Ok(get_in(tx, id).await?.map_or(Saved::Missing, Saved::Done));
    }
    if let Some(s) = shortcut {
        let other: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM quick_replies WHERE shortcut = $1 AND id <> $2")
            .bind(s).bind(id).fetch_optional(c).await)?;
        if other.is_some() {
            return Ok(Saved::Taken(s.to_string()));
        }
    }
    let now = tx.now;
    let row: Option<QuickReply> = on_tx!(tx, c => sqlx::query_as(
        "UPDATE quick_replies SET shortcut = COALESCE($2, shortcut), text = COALESCE($3, text),
            updated_at = $4 WHERE id = $1
         RETURNING id, shortcut, text, created_by, created_at, updated_at")
        .bind(id).bind(shortcut).bind(text).bind(now)
        .fetch_optional(c).await)?;
    Ok(row.map_or(Saved::Missing, Saved::Done))
}

/// `None` when there was no such quick reply; else what it was.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<QuickReply>> {
    let row = on_tx!(tx, c => sqlx::query_as(
        "DELETE FROM quick_replies WHERE id = $1
         RETURNING id, shortcut, text, created_by, created_at, updated_at")
        .bind(id).fetch_optional(c).await)?;
    Ok(row)
}
