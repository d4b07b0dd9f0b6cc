//! Contacts: the people behind person chats, created on their first message and editable
//! by the team.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::search::Search;
use super::{id_list, placeholders, Db, Result, StoreError, Tx};
use crate::domain::access::ContactFilter;

/// A contact's custom attributes (a JSON object, set by bots' triggers).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Attributes(pub Map<String, Value>);

/// Read from the column (through `TryFrom`, as sqlx asks).
impl From<String> for Attributes {
    /// Attributes are written from JSON objects only; an unreadable one reads as none.
    fn from(s: String) -> Self {
        Attributes(serde_json::from_str(&s).unwrap_or_default())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub session_id: i64,
    pub chat_id: String,
    /// `+<digits>` when the chat id carries a phone number.
    pub phone: Option<String>,
    /// The name the team gave the contact.
    pub name: Option<String>,
    /// The name the customer set in WhatsApp.
    pub push_name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    /// Tags, in alphabetical order.
    #[sqlx(skip)]
    pub tags: Vec<String>,
    /// Custom attributes (a JSON object).
    #[sqlx(try_from = "String")]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A contact as its conversation shows it, to whoever may see the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactCard {
    pub id: i64,
    /// The name the team gave the contact.
    pub name: Option<String>,
    /// The name the customer set in WhatsApp.
    pub push_name: Option<String>,
    /// `+<digits>` when the chat id carries a phone number.
    pub phone: Option<String>,
    /// The contact's WhatsApp chat id.
    pub chat_id: String,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub attributes: Attributes,
}

impl From<Contact> for ContactCard {
    fn from(c: Contact) -> Self {
        ContactCard {
            id: c.id,
            name: c.name,
            push_name: c.push_name,
            phone: c.phone,
            chat_id: c.chat_id,
            tags: c.tags,
            attributes: c.attributes,
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct ContactPatch {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub email: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub notes: Option<String>,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT id, session_id, chat_id, phone, name, push_name, email, notes, attributes, created_at, updated_at ",
            "FROM contacts ",
            $tail
        )
    };
}

/// Newest first by id; `q` is found (ignoring case) in the name, WhatsApp name, phone,
/// chat id, email or notes (through the text search indexes, [`super::search`]).
pub async fn list(
    db: &Db,
    access: &ContactFilter,
    q: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Contact>> {
    let search = q.map(|q| Search::new(db, q));
    let mut sql = String::from(select!(
        "WHERE ($1 IS NULL OR id < $1)
           AND ($3 IS NULL OR (',' || $3 || ',') LIKE ('%,' || CAST(session_id AS TEXT) || ',%'))"
    ));
    if let Some(s) = &search {
        sql.push_str(&format!("\n           AND {}", s.contact("contacts", "$4")));
    }
    sql.push_str("\n         ORDER BY id DESC LIMIT $2");
    let mut rows: Vec<Contact> = on_pool!(db, p => {
        // A search is planned for its text each time (an unnamed statement): how many rows
        // hold it decides between the id order and the search index.
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .persistent(search.is_none())
            .bind(before).bind(limit).bind(id_list(access.sessions.as_deref()));
        // A statement binds exactly the placeholders it holds.
        if let Some(s) = &search {
            query = query.bind(s.bound());
        }
        query.fetch_all(p).await
    })?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut tags = tags_of(db, &ids).await?;
    for c in &mut rows {
        c.tags = tags.remove(&c.id).unwrap_or_default();
    }
    Ok(rows)
}

/// The tags of each of `ids` (in alphabetical order), in one query.
pub async fn tags_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Only placeholders go into the text; the ids are bound.
    let sql = format!(
        "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({}) ORDER BY contact_id, tag",
        placeholders(1, ids.len())
    );
    let rows: Vec<(i64, String)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, tag) in rows {
        out.entry(id).or_default().push(tag);
    }
    Ok(out)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Contact>> {
    let row: Option<Contact> = on_pool!(db, p => sqlx::query_as(select!("WHERE id = $1")).bind(id).fetch_optional(p).await)?;
    match row {
        Some(mut c) => {
            c.tags = tags_of(db, &[id]).await?.remove(&id).unwrap_or_default();
            Ok(Some(c))
        }
        None => Ok(None),
    }
}

/// A contact read in a writer transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Contact> {
    let mut row: Contact =
        on_tx!(tx, c => sqlx::query_as(select!("WHERE id = $1")).bind(id).fetch_one(c).await)?;
    row.tags = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag")
        .bind(id).fetch_all(c).await)?;
    Ok(row)
}

/// Creates a contact in a writer transaction (with its audit entry beside it).
pub async fn create(
    tx: &mut Tx,
    session_id: i64,
    chat_id: &str,
    phone: Option<&str>,
    patch: &ContactPatch,
) -> Result<Contact> {
    let now = tx.now;
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO contacts (session_id, chat_id, phone, name, email, notes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (session_id, chat_id) DO NOTHING RETURNING id")
        .bind(session_id).bind(chat_id).bind(phone).bind(patch.name.as_deref())
        .bind(patch.email.as_deref()).bind(patch.notes.as_deref()).bind(now)
        .fetch_optional(c).await)?;
    match id {
        Some(id) => get_in(tx, id).await,
        None => Err(StoreError::Conflict(format!(
            "a contact for {chat_id} exists in this session"
        ))),
    }
}

/// Applies `patch` in a writer transaction; answers the contact before and after.
pub async fn update(tx: &mut Tx, id: i64, patch: &ContactPatch) -> Result<(Contact, Contact)> {
    let before = get_in(tx, id).await?;
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE contacts SET name = COALESCE($2, name), email = COALESCE($3, email),
            notes = COALESCE($4, notes), updated_at = $5 WHERE id = $1")
        .bind(id).bind(patch.name.as_deref()).bind(patch.email.as_deref()).bind(patch.notes.as_deref())
        .bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok((before, get_in(tx, id).await?))
}

/// Deletes a contact (`false`: there was none) with its tags; its conversations stay,
/// without a contact. Runs on the writer.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    on_tx!(tx, c => sqlx::query("UPDATE conversations SET contact_id = NULL WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM contacts WHERE id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The contact of a person chat, created on first sight; keeps the WhatsApp name current.
pub async fn upsert_seen(
    tx: &mut Tx,
    session_id: i64,
    chat_id: &str,
    phone: Option<&str>,
    push_name: Option<&str>,
) -> Result<i64> {
    let now = tx.now;
    let found: Option<(i64, Option<String>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, push_name FROM contacts WHERE session_id = $1 AND chat_id = $2")
        .bind(session_id).bind(chat_id).fetch_optional(c).await)?;
    match found {
        Some((id, known)) => {
            if push_name.is_some() && push_name != known.as_deref() {
                on_tx!(tx, c => sqlx::query("UPDATE contacts SET push_name = $2, updated_at = $3 WHERE id = $1")
                    .bind(id).bind(push_name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            }
            Ok(id)
        }
        None => {
            let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
                "INSERT INTO contacts (session_id, chat_id, phone, push_name, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                .bind(session_id).bind(chat_id).bind(phone).bind(push_name).bind(now)
                .fetch_one(c).await)?;
            Ok(id)
        }
    }
}

type VarsRow = (Option<String>, Option<String>, Option<String>, String);

fn vars_of(row: Option<VarsRow>) -> crate::domain::bot::ContactVars {
    match row {
        // Attributes are written from JSON objects only; an unreadable one reads as none.
        Some((name, push_name, phone, attributes)) => crate::domain::bot::ContactVars {
            name,
            push_name,
            phone,
            attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        },
        None => Default::default(),
    }
}

/// What bot templates may say about a contact.
pub async fn vars(db: &Db, id: i64) -> Result<crate::domain::bot::ContactVars> {
    let row: Option<VarsRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT name, push_name, phone, attributes FROM contacts WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    Ok(vars_of(row))
}

/// `vars`, read in a writer transaction.
pub async fn vars_in(tx: &mut Tx, id: i64) -> Result<crate::domain::bot::ContactVars> {
    let row: Option<VarsRow> = on_tx!(tx, c => sqlx::query_as(
        "SELECT name, push_name, phone, attributes FROM contacts WHERE id = $1")
        .bind(id).fetch_optional(c).await)?;
    Ok(vars_of(row))
}
