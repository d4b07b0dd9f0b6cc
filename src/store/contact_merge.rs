//! Duplicate contacts: the suggestions (computed in SQL) and the merge of one contact into
//! another, in one writer transaction.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::contact_writes::{delete, update, ContactChange};
use super::contacts::{get_in, Contact};
use super::{id_list, in_id_list, Db, Result, StoreError, Tx};
use crate::domain::access::ContactFilter;

/// Contacts that look like one person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DuplicateGroup {
    /// `phone`: the same number (digits only: written in another format, or in another
    /// session); `email`: the same address, ignoring case.
    pub reason: String,
    /// The number's digits, or the lower-cased address.
    pub value: String,
    /// The contacts, oldest first (the first is the natural one to keep).
    pub contact_ids: Vec<i64>,
}

/// A number's digits, in SQL the same on both databases (no regular expressions in
/// SQLite): the stored phone without its formatting, or a `…@c.us` chat id's user part.
const PHONE_KEY: &str = "replace(replace(replace(replace(replace(replace(
        COALESCE(c.phone, CASE WHEN c.chat_id LIKE '%@c.us' THEN substr(c.chat_id, 1, length(c.chat_id) - 5) END),
        '+', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')";

/// At most `limit` groups of contacts the viewer may see, by reason and value; erased
/// contacts are no one's duplicates.
pub async fn duplicates(
    db: &Db,
    access: &ContactFilter,
    limit: i64,
) -> Result<Vec<DuplicateGroup>> {
    let visible = format!(
        "c.erased_at IS NULL AND {}",
        in_id_list(Dialect::of(db), "c.session_id", "$1")
    );
    let sql = format!(
        "WITH keyed AS (
            SELECT c.id, 'phone' AS reason, {PHONE_KEY} AS k FROM contacts c WHERE {visible}
            UNION ALL
            SELECT c.id, 'email' AS reason, lower(c.email) AS k FROM contacts c
             WHERE c.email IS NOT NULL AND {visible}
         ), dup AS (
            SELECT reason, k FROM keyed WHERE k IS NOT NULL AND k <> ''
             GROUP BY reason, k HAVING COUNT(*) > 1 ORDER BY reason, k LIMIT $2
         )
         SELECT keyed.reason, keyed.k, keyed.id FROM keyed
           JOIN dup ON dup.reason = keyed.reason AND dup.k = keyed.k
         ORDER BY keyed.reason, keyed.k, keyed.id"
    );
    let rows: Vec<(String, String, i64)> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_list(access.sessions.as_deref())).bind(limit).fetch_all(p).await)?;
    let mut out: Vec<DuplicateGroup> = Vec::new();
    for (reason, value, id) in rows {
        match out.last_mut() {
            Some(g) if g.reason == reason && g.value == value => g.contact_ids.push(id),
            _ => out.push(DuplicateGroup {
                reason,
                value,
                contact_ids: vec![id],
            }),
        }
    }
    Ok(out)
}

/// What `kept` becomes with `from` merged in: its own values win, missing ones are taken;
/// notes appended; spend added; tags united; an opt-out (either's) wins.
fn merged_change(kept: &Contact, from: &Contact) -> ContactChange {
    let fill = |k: &Option<String>, f: &Option<String>| match (k, f) {
        (None, Some(v)) => Some(Some(v.clone())),
        _ => None,
    };
    let mut ch = ContactChange {
        name: fill(&kept.name, &from.name),
        email: fill(&kept.email, &from.email),
        kind: fill(&kept.kind, &from.kind),
        ..Default::default()
    };
    ch.notes = match (&kept.notes, &from.notes) {
        (Some(k), Some(f)) if k != f => Some(Some(format!("{k}\n\n{f}"))),
        (None, Some(f)) => Some(Some(f.clone())),
        _ => None,
    };
    if from.lifetime_spend_cents != 0 {
        ch.spend_cents = Some(
            kept.lifetime_spend_cents
                .saturating_add(from.lifetime_spend_cents),
        );
    }
    if kept.owner_id.is_none() && from.owner_id.is_some() {
        ch.owner_id = Some(from.owner_id);
    }
    let consent_of = |c: &Contact| {
        c.consent
            .clone()
            .map(|s| (s, c.consent_source.clone().unwrap_or_else(|| "api".into())))
    };
    ch.consent = match (kept.opted_out, from.opted_out, &kept.consent) {
        (false, true, _) => Some(consent_of(from)),
        (false, false, None) if from.consent.is_some() => Some(consent_of(from)),
        _ => None,
    };
    if from.tags.iter().any(|t| !kept.tags.contains(t)) {
        let mut tags = kept.tags.clone();
        tags.extend(from.tags.iter().filter(|t| !kept.tags.contains(t)).cloned());
        ch.tags = Some(tags);
    }
    let missing: Map<String, Value> = from
        .attributes
        .0
        .iter()
        .filter(|(k, _)| !kept.attributes.0.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() {
        ch.attributes = Some(missing);
    }
    ch
}

/// Merges contact `from_id` into `kept_id`: its conversations, WhatsApp ids (its chat id
/// among them, in its own session: a later message from it lands on the kept contact),
/// tags, attributes, notes and consent move over, and it is deleted. Answers both as they
/// were and the kept one as it is.
pub async fn merge(tx: &mut Tx, kept_id: i64, from_id: i64) -> Result<(Contact, Contact, Contact)> {
    let kept = get_in(tx, kept_id).await?;
    let from = get_in(tx, from_id).await?;
    if kept.erased_at.is_some() || from.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "an erased contact cannot be merged".into(),
        ));
    }
    let change = merged_change(&kept, &from);
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE conversations SET contact_id = $1 WHERE contact_id = $2")
        .bind(kept_id).bind(from_id).execute(c).await.map(|r| r.rows_affected()))?;
    delete(tx, from_id).await?;
    for wa in &from.wa_ids {
        if from.session_id == kept.session_id && *wa == kept.chat_id {
            continue;
        }
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO contact_wa_ids (session_id, wa_id, contact_id, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(from.session_id).bind(wa).bind(kept_id).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    let (_, after) = update(tx, kept_id, &change).await?;
    Ok((kept, from, after))
}
