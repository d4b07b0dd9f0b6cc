//! Contacts: the people behind person chats, created on their first message and kept by
//! the team (the CRM: types, spend, owner, consent, tags, typed attributes). Lists and
//! counts filter in SQL (`contact_filter`), never in memory. Writes are in
//! `contact_writes`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::contact_filter::{bind_params, Dialect, Sql, CONVERSATION_COUNT, LAST_MESSAGE_AT};
use super::conversations::{Conversation, SELECT_PREFIX};
use super::search::Search;
use super::{id_list, in_id_list, placeholders, Db, Result, Tx};
use crate::domain::access::{ContactFilter, ConversationFilter};
use crate::domain::segment_filter::Filter;

pub use super::contact_writes::*;

/// A contact's custom attributes (a JSON object: values checked against their declared
/// types when written through the API; bots' triggers write texts).
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

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub session_id: i64,
    /// The WhatsApp session (name) the contact is reached through.
    pub session: String,
    /// The contact's WhatsApp id (`…@c.us`, or `…@lid` when WhatsApp hides the number).
    pub chat_id: String,
    /// Every WhatsApp id of the contact in its session: `chat_id` first, then the others
    /// mapped to it (a message from any of them lands on this contact).
    #[sqlx(skip)]
    pub wa_ids: Vec<String>,
    /// E.164 (`+447700900123`) when the number is known.
    pub phone: Option<String>,
    /// The name the team gave the contact.
    pub name: Option<String>,
    /// The name the customer set in WhatsApp.
    pub push_name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    /// One of the configured types (`GET /api/contact-types`), or null.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// In major units (12.5 is 12.50).
    #[sqlx(skip)]
    pub lifetime_spend: f64,
    #[serde(skip)]
    pub lifetime_spend_cents: i64,
    /// The member who owns the relationship.
    pub owner_id: Option<i64>,
    /// `opted_in`, `opted_out`, or null (never asked).
    pub consent: Option<String>,
    /// Where the consent state came from (`api`, `whatsapp`, `import`, a form's name…).
    pub consent_source: Option<String>,
    /// When the consent state was set (milliseconds since the Unix epoch).
    pub consent_at: Option<i64>,
    /// When the contact's personal data was erased (GDPR, `POST /api/contacts/{id}/erase`);
    /// null: never. An erased contact is a tombstone: no campaign messages it.
    pub erased_at: Option<i64>,
    /// True when the contact opted out: campaigns skip it.
    #[sqlx(skip)]
    pub opted_out: bool,
    /// Tags, in alphabetical order.
    #[sqlx(skip)]
    pub tags: Vec<String>,
    /// Custom attributes (a JSON object).
    #[sqlx(try_from = "String")]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    /// The latest message in the contact's conversations (computed; null: none yet).
    pub last_message_at: Option<i64>,
    /// How many conversations the contact has (computed).
    pub conversation_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A contact with its conversations, across sessions (`GET /api/contacts/{id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: Contact,
    /// The conversations with this person the viewer may see, newest first: the contact's
    /// own, and those of other sessions with one of its WhatsApp ids.
    pub conversations: Vec<Conversation>,
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

/// The columns of a contact, over `contacts c`.
fn select(tail: &str) -> String {
    format!(
        "SELECT c.id, c.session_id, s.name AS session, c.chat_id, c.phone, c.name, c.push_name,
            c.email, c.notes, c.type, c.lifetime_spend_cents, c.owner_id, c.consent, c.consent_source,
            c.consent_at, c.erased_at, c.attributes, {LAST_MESSAGE_AT} AS last_message_at,
            {CONVERSATION_COUNT} AS conversation_count, c.created_at, c.updated_at
         FROM contacts c JOIN wa_sessions s ON s.id = c.session_id
         {tail}"
    )
}

/// Fills what is not a column: tags, WhatsApp ids, spend in major units, `opted_out`.
async fn complete(db: &Db, rows: &mut [Contact]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut tags = tags_of(db, &ids).await?;
    let mut wa = wa_ids_of(db, &ids).await?;
    for c in rows.iter_mut() {
        c.tags = tags.remove(&c.id).unwrap_or_default();
        let mut ids = vec![c.chat_id.clone()];
        ids.extend(wa.remove(&c.id).unwrap_or_default());
        c.wa_ids = ids;
        derive(c);
    }
    Ok(())
}

fn derive(c: &mut Contact) {
    c.lifetime_spend = c.lifetime_spend_cents as f64 / 100.0;
    c.opted_out = c.consent.as_deref() == Some("opted_out");
}

/// Newest first by id: the contacts `access` lets the viewer see that match `filter`
/// and, with `q`, hold it (ignoring case) in the name, WhatsApp name, phone, chat id,
/// email or notes (through the text search indexes, [`super::search`]).
pub async fn list(
    db: &Db,
    access: &ContactFilter,
    q: Option<&str>,
    filter: &Filter,
    now: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Contact>> {
    let search = q.map(|q| Search::new(db, q));
    let mut sql = Sql::new(Dialect::of(db), 4, now);
    let mut text = select(&format!(
        "WHERE ($1 IS NULL OR c.id < $1)
           AND {}",
        in_id_list(Dialect::of(db), "c.session_id", "$3")
    ));
    if let Some(s) = &search {
        let p = sql.bind(super::contact_filter::Param::Text(s.bound().to_string()));
        text.push_str(&format!("\n           AND {}", s.contact("c", &p)));
    }
    let cond = sql.filter(filter);
    text.push_str(&format!(
        "\n           AND {cond}\n         ORDER BY c.id DESC LIMIT $2"
    ));
    let plain = search.is_none() && sql.params.is_empty();
    let mut rows: Vec<Contact> = on_pool!(db, p => {
        // A filtered statement is planned for its values each time (an unnamed statement):
        // how many rows hold them decides between the id order and an index.
        let q = sqlx::query_as(sqlx::AssertSqlSafe(text))
            .persistent(plain)
            .bind(before).bind(limit).bind(id_list(access.sessions.as_deref()));
        bind_params!(q, &sql.params).fetch_all(p).await
    })?;
    complete(db, &mut rows).await?;
    Ok(rows)
}

/// How many contacts `access` lets the viewer see match `filter`, counted in the database.
pub async fn count(db: &Db, access: &ContactFilter, filter: &Filter, now: i64) -> Result<i64> {
    let mut sql = Sql::new(Dialect::of(db), 2, now);
    let cond = sql.filter(filter);
    let text = format!(
        "SELECT COUNT(*) FROM contacts c
         WHERE {}
           AND {cond}",
        in_id_list(Dialect::of(db), "c.session_id", "$1")
    );
    let n: i64 = on_pool!(db, p => {
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(text))
            .persistent(false)
            .bind(id_list(access.sessions.as_deref()));
        bind_params!(q, &sql.params).fetch_one(p).await
    })?;
    Ok(n)
}

/// The tags of each of `ids` (in alphabetical order), in one query.
pub async fn tags_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
    pairs_of(db, "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({}) ORDER BY contact_id, tag", ids).await
}

/// The WhatsApp ids mapped to each of `ids` besides its chat id, in one query.
async fn wa_ids_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
    pairs_of(db, "SELECT contact_id, wa_id FROM contact_wa_ids WHERE contact_id IN ({}) ORDER BY contact_id, wa_id", ids).await
}

async fn pairs_of(db: &Db, template: &str, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Only placeholders go into the text; the ids are bound.
    let sql = template.replace("{}", &placeholders(1, ids.len()));
    let rows: Vec<(i64, String)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, v) in rows {
        out.entry(id).or_default().push(v);
    }
    Ok(out)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Contact>> {
    let text = select("WHERE c.id = $1");
    let row: Option<Contact> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(text)).bind(id).fetch_optional(p).await)?;
    match row {
        Some(c) => {
            let mut rows = [c];
            complete(db, &mut rows).await?;
            let [c] = rows;
            Ok(Some(c))
        }
        None => Ok(None),
    }
}

/// A contact read in a writer transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Contact> {
    let text = select("WHERE c.id = $1");
    let mut row: Contact =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(text)).bind(id).fetch_one(c).await)?;
    row.tags = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag")
        .bind(id).fetch_all(c).await)?;
    let more: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT wa_id FROM contact_wa_ids WHERE contact_id = $1 ORDER BY wa_id")
        .bind(id).fetch_all(c).await)?;
    row.wa_ids = std::iter::once(row.chat_id.clone()).chain(more).collect();
    derive(&mut row);
    Ok(row)
}

/// The conversations with the person behind `c` that `access` lets the viewer see,
/// newest first (at most `limit`): the contact's own, and those of other sessions whose
/// chat is one of its WhatsApp ids.
pub async fn conversations(
    db: &Db,
    c: &Contact,
    access: &ConversationFilter,
    limit: i64,
) -> Result<Vec<Conversation>> {
    let ids = placeholders(5, c.wa_ids.len());
    let text = format!(
        "{SELECT_PREFIX} WHERE (c.contact_id = $1 OR c.chat_id IN ({ids}))
           AND {}
           AND ($3 IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $3)
         ORDER BY c.last_message_at DESC, c.id DESC LIMIT $4",
        in_id_list(Dialect::of(db), "c.session_id", "$2")
    );
    let rows: Vec<Conversation> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text))
            .bind(c.id).bind(id_list(access.sessions.as_deref()))
            .bind(access.mine_or_unassigned).bind(limit);
        for id in &c.wa_ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(p).await
    })?;
    Ok(rows)
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
