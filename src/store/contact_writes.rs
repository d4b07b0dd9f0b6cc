//! The statements that change contacts, run in writer transactions (with their audit
//! entries and `contact.updated` events beside them, by the hub). Values arrive checked
//! (`domain::contact`); these only write them.

use serde_json::{json, Map, Value};

use super::contacts::{get_in, Contact};
use super::{events, Result, StoreError, Tx};
use crate::domain::{EventKind, EventScope};

/// A change to a contact: `None` keeps the field; `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct ContactChange {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub kind: Option<Option<String>>,
    pub spend_cents: Option<i64>,
    pub owner_id: Option<Option<i64>>,
    /// The state (`opted_in`/`opted_out`) and its source, or no state.
    pub consent: Option<Option<(String, String)>>,
    /// The whole set of tags.
    pub tags: Option<Vec<String>>,
    /// Merged into the attributes: a null value removes its key.
    pub attributes: Option<Map<String, Value>>,
    /// More WhatsApp ids of the person, added.
    pub wa_ids: Vec<String>,
}

impl ContactChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.email.is_none()
            && self.notes.is_none()
            && self.kind.is_none()
            && self.spend_cents.is_none()
            && self.owner_id.is_none()
            && self.consent.is_none()
            && self.tags.is_none()
            && self.attributes.is_none()
            && self.wa_ids.is_empty()
    }
}

/// Logs `contact.updated` (`change`: created, updated, deleted) to everyone who sees the
/// contact's session: a notice to read the contact and segment counts again. It carries
/// no personal data, so the event log keeps none.
pub async fn log_change(tx: &mut Tx, id: i64, session_id: i64, change: &str) -> Result<()> {
    events::append(
        tx,
        EventKind::ContactUpdated,
        EventScope::session(session_id),
        &json!({"id": id, "session_id": session_id, "change": change}),
    )
    .await
}

/// Creates a contact with `change` applied (`Conflict` when the session has one for this
/// chat id, or one of its WhatsApp ids is another contact's).
pub async fn create(
    tx: &mut Tx,
    session_id: i64,
    chat_id: &str,
    phone: Option<&str>,
    change: &ContactChange,
) -> Result<Contact> {
    let now = tx.now;
    if owner_of(tx, session_id, chat_id).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a contact for {chat_id} exists in this session"
        )));
    }
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO contacts (session_id, chat_id, phone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (session_id, chat_id) DO NOTHING RETURNING id")
        .bind(session_id).bind(chat_id).bind(phone).bind(now)
        .fetch_optional(c).await)?;
    let Some(id) = id else {
        return Err(StoreError::Conflict(format!(
            "a contact for {chat_id} exists in this session"
        )));
    };
    apply(tx, id, session_id, change).await?;
    get_in(tx, id).await
}

/// The contacts of `wa_ids` in a session (by chat id, or mapped to it), in one query.
pub async fn owners_of(
    tx: &mut Tx,
    session_id: i64,
    wa_ids: &[String],
) -> Result<std::collections::HashMap<String, i64>> {
    if wa_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, i64)> = match &mut tx.conn {
        // One statement text whatever the count (one prepared plan).
        super::writer::Conn::Postgres(t) => sqlx::query_as(
            "SELECT chat_id, id FROM contacts WHERE session_id = $1 AND chat_id = ANY($2::text[])
                 UNION ALL SELECT wa_id, contact_id FROM contact_wa_ids
                 WHERE session_id = $1 AND wa_id = ANY($2::text[])",
        )
        .bind(session_id)
        .bind(wa_ids)
        .fetch_all(&mut **t)
        .await?,
        super::writer::Conn::Sqlite(t) => {
            // Only placeholders go into the text; the ids are bound.
            let list = super::placeholders(2, wa_ids.len());
            let sql = format!(
                "SELECT chat_id, id FROM contacts WHERE session_id = $1 AND chat_id IN ({list})
                 UNION ALL SELECT wa_id, contact_id FROM contact_wa_ids WHERE session_id = $1 AND wa_id IN ({list})"
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(session_id);
            for w in wa_ids {
                q = q.bind(w.clone());
            }
            q.fetch_all(&mut **t).await?
        }
    };
    Ok(rows.into_iter().collect())
}

/// The contact a WhatsApp id of a session belongs to: by its chat id, or mapped to it.
pub async fn owner_of(tx: &mut Tx, session_id: i64, wa_id: &str) -> Result<Option<i64>> {
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM contacts WHERE session_id = $1 AND chat_id = $2
         UNION ALL SELECT contact_id FROM contact_wa_ids WHERE session_id = $1 AND wa_id = $2")
        .bind(session_id).bind(wa_id).fetch_optional(c).await)?;
    Ok(id)
}

/// Applies `change` to contact `id`; answers the contact before and after.
pub async fn update(tx: &mut Tx, id: i64, change: &ContactChange) -> Result<(Contact, Contact)> {
    let before = get_in(tx, id).await?;
    apply(tx, id, before.session_id, change).await?;
    Ok((before, get_in(tx, id).await?))
}

/// Applies `change` to contact `id` of `session_id`, reading nothing back (bulk imports).
pub async fn apply(tx: &mut Tx, id: i64, session_id: i64, ch: &ContactChange) -> Result<()> {
    let now = tx.now;
    let (consent_set, consent) = match &ch.consent {
        Some(Some((state, source))) => (true, Some((state.clone(), source.clone()))),
        Some(None) => (true, None),
        None => (false, None),
    };
    let attributes = match &ch.attributes {
        Some(set) => {
            let current: String = on_tx!(tx, c => sqlx::query_scalar(
                "SELECT attributes FROM contacts WHERE id = $1").bind(id).fetch_one(c).await)?;
            let mut attrs: Map<String, Value> = serde_json::from_str(&current).unwrap_or_default();
            for (k, v) in set {
                if v.is_null() {
                    attrs.remove(k);
                } else {
                    attrs.insert(k.clone(), v.clone());
                }
            }
            Some(Value::Object(attrs).to_string())
        }
        None => None,
    };
    on_tx!(tx, c => sqlx::query(
        "UPDATE contacts SET
            name = CASE WHEN $2 THEN $3 ELSE name END,
            email = CASE WHEN $4 THEN $5 ELSE email END,
            notes = CASE WHEN $6 THEN $7 ELSE notes END,
            type = CASE WHEN $8 THEN $9 ELSE type END,
            lifetime_spend_cents = COALESCE($10, lifetime_spend_cents),
            owner_id = CASE WHEN $11 THEN $12 ELSE owner_id END,
            consent = CASE WHEN $13 THEN $14 ELSE consent END,
            consent_source = CASE WHEN $13 THEN $15 ELSE consent_source END,
            consent_at = CASE WHEN $13 THEN $16 ELSE consent_at END,
            attributes = COALESCE($17, attributes),
            updated_at = $18
         WHERE id = $1")
        .bind(id)
        .bind(ch.name.is_some()).bind(ch.name.clone().flatten())
        .bind(ch.email.is_some()).bind(ch.email.clone().flatten())
        .bind(ch.notes.is_some()).bind(ch.notes.clone().flatten())
        .bind(ch.kind.is_some()).bind(ch.kind.clone().flatten())
        .bind(ch.spend_cents)
        .bind(ch.owner_id.is_some()).bind(ch.owner_id.flatten())
        .bind(consent_set).bind(consent.as_ref().map(|c| c.0.clone()))
        .bind(consent.as_ref().map(|c| c.1.clone())).bind(consent.as_ref().map(|_| now))
        .bind(attributes).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if let Some(tags) = &ch.tags {
        on_tx!(tx, c => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1")
            .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        for tag in tags {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING")
                .bind(id).bind(tag).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    for wa in &ch.wa_ids {
        match owner_of(tx, session_id, wa).await? {
            Some(owner) if owner == id => {}
            Some(_) => {
                return Err(StoreError::ConflictOn(crate::domain::FieldError::new(
                    "wa_ids",
                    format!("{wa} is another contact's in this session"),
                )))
            }
            None => {
                on_tx!(tx, c => sqlx::query(
                    "INSERT INTO contact_wa_ids (session_id, wa_id, contact_id, created_at)
                     VALUES ($1, $2, $3, $4)")
                    .bind(session_id).bind(wa).bind(id).bind(now)
                    .execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
    }
    Ok(())
}

/// A customer's opt-out keyword: the contact is `opted_out` (source `keyword`, now), with
/// an audit entry (by the system) and `contact.updated`. Nothing is written when it had
/// opted out already. (`false`: it had.)
pub async fn opt_out_by_keyword(tx: &mut Tx, id: i64, session_id: i64) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE contacts SET consent = 'opted_out', consent_source = 'keyword', consent_at = $2,
            updated_at = $2
         WHERE id = $1 AND (consent IS NULL OR consent <> 'opted_out')")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(false);
    }
    let entry = crate::domain::audit::AuditEntry::new("contact.opt_out", "contact", id)
        .session(session_id)
        .after(json!({"consent": "opted_out", "consent_source": "keyword"}));
    super::audit::record_system(tx, &entry).await?;
    log_change(tx, id, session_id, "updated").await?;
    Ok(true)
}

/// Deletes a contact (`false`: there was none) with its tags and WhatsApp ids; its
/// conversations stay, without a contact.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    on_tx!(tx, c => sqlx::query("UPDATE conversations SET contact_id = NULL WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_wa_ids WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM contacts WHERE id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The contact of a person chat, created on first sight (or found through a WhatsApp id
/// mapped to it); keeps the WhatsApp name current. On the webhook path: one indexed read,
/// and a write only for a new contact or a changed name.
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
    let found = match found {
        Some(f) => Some(f),
        // Only for a chat the session has no contact for: one more indexed read.
        None => on_tx!(tx, c => sqlx::query_as(
            "SELECT c.id, c.push_name FROM contact_wa_ids w JOIN contacts c ON c.id = w.contact_id
             WHERE w.session_id = $1 AND w.wa_id = $2")
            .bind(session_id).bind(chat_id).fetch_optional(c).await)?,
    };
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
            log_change(tx, id, session_id, "created").await?;
            Ok(id)
        }
    }
}
