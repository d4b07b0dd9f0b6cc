//! Many new contacts (and import row errors) in a few statements: a CSV import's chunk
//! (some 900 rows) in one writer transaction. On PostgreSQL each table takes one
//! statement over arrays (`unnest`), whatever the chunk's size, so one prepared plan and
//! one round trip; SQLite, in process, takes multi-row VALUES in groups that stay under
//! its bound-parameter limit.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::contacts::ContactChange;
use super::imports::RowError;
use super::writer::Conn;
use super::{Result, Tx};

/// SQLite's groups: 13 parameters a contact, well under its 32,766.
const SQLITE_ROWS: usize = 500;

/// A contact to create: its chat id, number and fields.
pub struct NewContact<'a> {
    pub chat_id: &'a str,
    pub phone: Option<&'a str>,
    pub change: &'a ContactChange,
}

/// The columns of a new contact, as the statements bind them.
struct Cols {
    chat: Vec<String>,
    phone: Vec<Option<String>>,
    name: Vec<Option<String>>,
    email: Vec<Option<String>>,
    notes: Vec<Option<String>>,
    kind: Vec<Option<String>>,
    spend: Vec<i64>,
    owner: Vec<Option<i64>>,
    consent: Vec<Option<String>>,
    consent_source: Vec<Option<String>>,
    consent_at: Vec<Option<i64>>,
    attributes: Vec<String>,
}

impl Cols {
    fn of(rows: &[NewContact<'_>], now: i64) -> Cols {
        let mut c = Cols {
            chat: Vec::with_capacity(rows.len()),
            phone: Vec::with_capacity(rows.len()),
            name: Vec::with_capacity(rows.len()),
            email: Vec::with_capacity(rows.len()),
            notes: Vec::with_capacity(rows.len()),
            kind: Vec::with_capacity(rows.len()),
            spend: Vec::with_capacity(rows.len()),
            owner: Vec::with_capacity(rows.len()),
            consent: Vec::with_capacity(rows.len()),
            consent_source: Vec::with_capacity(rows.len()),
            consent_at: Vec::with_capacity(rows.len()),
            attributes: Vec::with_capacity(rows.len()),
        };
        for r in rows {
            let ch = r.change;
            let consent = ch.consent.clone().flatten();
            c.chat.push(r.chat_id.to_string());
            c.phone.push(r.phone.map(str::to_string));
            c.name.push(ch.name.clone().flatten());
            c.email.push(ch.email.clone().flatten());
            c.notes.push(ch.notes.clone().flatten());
            c.kind.push(ch.kind.clone().flatten());
            c.spend.push(ch.spend_cents.unwrap_or(0));
            c.owner.push(ch.owner_id.flatten());
            c.consent_at.push(consent.as_ref().map(|_| now));
            let (state, source) = consent.unzip();
            c.consent.push(state);
            c.consent_source.push(source);
            c.attributes.push(attributes_of(ch));
        }
        c
    }
}

/// A new contact's attributes: the change's, without its removals.
fn attributes_of(ch: &ContactChange) -> String {
    match &ch.attributes {
        Some(set) => {
            let kept: Map<String, Value> = set
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(kept).to_string()
        }
        None => "{}".to_string(),
    }
}

/// `n` VALUES rows of `width` placeholders each, numbered from `base + 1`, each row
/// with the statement's shared placeholders (`shared`, e.g. `$1, $2`) after its own.
fn values(n: usize, width: usize, base: usize, shared: &str) -> String {
    (0..n)
        .map(|r| {
            let own: Vec<String> = (1..=width)
                .map(|c| format!("${}", base + r * width + c))
                .collect();
            format!("({}, {shared})", own.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates the contacts of `rows` (their chat ids distinct) with their fields and tags;
/// answers chat id → new id. A chat id the session has a contact for already is left
/// out (it is not in the answer). WhatsApp ids beyond the chat id are not written here.
pub async fn insert_many(
    tx: &mut Tx,
    session_id: i64,
    rows: &[NewContact<'_>],
) -> Result<HashMap<String, i64>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let now = tx.now;
    let cols = Cols::of(rows, now);
    let made: Vec<(String, i64)> = match &mut tx.conn {
        Conn::Postgres(t) => {
            sqlx::query_as(
                "INSERT INTO contacts (session_id, chat_id, phone, name, email, notes, type,
                    lifetime_spend_cents, owner_id, consent, consent_source, consent_at, attributes,
                    created_at, updated_at)
                 SELECT $1, r.chat_id, r.phone, r.name, r.email, r.notes, r.type, r.spend, r.owner_id,
                    r.consent, r.consent_source, r.consent_at, r.attributes, $2, $2
                 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::int8[], $10::int8[], $11::text[], $12::text[], $13::int8[], $14::text[])
                    AS r (chat_id, phone, name, email, notes, type, spend, owner_id, consent,
                        consent_source, consent_at, attributes)
                 ON CONFLICT (session_id, chat_id) DO NOTHING
                 RETURNING chat_id, id",
            )
            .bind(session_id)
            .bind(now)
            .bind(&cols.chat)
            .bind(&cols.phone)
            .bind(&cols.name)
            .bind(&cols.email)
            .bind(&cols.notes)
            .bind(&cols.kind)
            .bind(&cols.spend)
            .bind(&cols.owner)
            .bind(&cols.consent)
            .bind(&cols.consent_source)
            .bind(&cols.consent_at)
            .bind(&cols.attributes)
            .fetch_all(&mut **t)
            .await?
        }
        Conn::Sqlite(t) => {
            let mut made: Vec<(String, i64)> = Vec::with_capacity(rows.len());
            for start in (0..rows.len()).step_by(SQLITE_ROWS) {
                let end = (start + SQLITE_ROWS).min(rows.len());
                // Only placeholders are formatted into the text; every value is bound.
                let sql = format!(
                    "INSERT INTO contacts (chat_id, phone, name, email, notes, type, lifetime_spend_cents,
                        owner_id, consent, consent_source, consent_at, attributes, session_id,
                        created_at, updated_at)
                     VALUES {}
                     ON CONFLICT (session_id, chat_id) DO NOTHING
                     RETURNING chat_id, id",
                    values(end - start, 12, 2, "$1, $2, $2")
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(session_id)
                    .bind(now);
                for i in start..end {
                    q = q
                        .bind(&cols.chat[i])
                        .bind(&cols.phone[i])
                        .bind(&cols.name[i])
                        .bind(&cols.email[i])
                        .bind(&cols.notes[i])
                        .bind(&cols.kind[i])
                        .bind(cols.spend[i])
                        .bind(cols.owner[i])
                        .bind(&cols.consent[i])
                        .bind(&cols.consent_source[i])
                        .bind(cols.consent_at[i])
                        .bind(&cols.attributes[i]);
                }
                made.extend(q.fetch_all(&mut **t).await?);
            }
            made
        }
    };
    let made: HashMap<String, i64> = made.into_iter().collect();
    let mut tag_ids = Vec::new();
    let mut tags = Vec::new();
    for r in rows {
        let (Some(id), Some(ts)) = (made.get(r.chat_id), r.change.tags.as_deref()) else {
            continue;
        };
        for t in ts {
            tag_ids.push(*id);
            tags.push(t.clone());
        }
    }
    insert_tags(tx, &tag_ids, &tags).await?;
    Ok(made)
}

/// `(contact_ids[i], tags[i])` rows of `contact_tags`, an existing pair kept.
async fn insert_tags(tx: &mut Tx, ids: &[i64], tags: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = tx.now;
    match &mut tx.conn {
        Conn::Postgres(t) => {
            sqlx::query(
                "INSERT INTO contact_tags (contact_id, tag, created_at)
                 SELECT r.id, r.tag, $1 FROM unnest($2::int8[], $3::text[]) AS r (id, tag)
                 ON CONFLICT DO NOTHING",
            )
            .bind(now)
            .bind(ids)
            .bind(tags)
            .execute(&mut **t)
            .await?;
        }
        Conn::Sqlite(t) => {
            for start in (0..ids.len()).step_by(SQLITE_ROWS) {
                let end = (start + SQLITE_ROWS).min(ids.len());
                // Only placeholders are formatted into the text; every value is bound.
                let sql = format!(
                    "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES {}
                     ON CONFLICT DO NOTHING",
                    values(end - start, 2, 1, "$1")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
                for i in start..end {
                    q = q.bind(ids[i]).bind(&tags[i]);
                }
                q.execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

/// Whether `update_many`'s statement covers `ch`: it sets texts, spend, tags and
/// attributes (merged), never clears one; anything else goes row by row.
fn batchable(ch: &ContactChange) -> bool {
    let sets = |f: &Option<Option<String>>| !matches!(f, Some(None));
    sets(&ch.name)
        && sets(&ch.email)
        && sets(&ch.notes)
        && sets(&ch.kind)
        && ch.owner_id.is_none()
        && ch.consent.is_none()
        && ch.wa_ids.is_empty()
        && ch
            .attributes
            .as_ref()
            .is_none_or(|a| a.values().all(|v| !v.is_null()))
}

/// Applies each `(contact id, change)` in order, reading nothing back. On PostgreSQL the
/// changes go in rounds of one statement (an id met again waits for the next round, so a
/// later row wins as it would row by row), their tags in two more; SQLite, and a change
/// the statement does not cover, row by row.
pub async fn update_many(
    tx: &mut Tx,
    session_id: i64,
    updates: &[(i64, &ContactChange)],
) -> Result<()> {
    if !matches!(tx.conn, Conn::Postgres(_)) || updates.iter().any(|(_, c)| !batchable(c)) {
        for (id, ch) in updates {
            super::contacts::apply(tx, *id, session_id, ch).await?;
        }
        return Ok(());
    }
    let mut rest: Vec<(i64, &ContactChange)> = updates.to_vec();
    while !rest.is_empty() {
        let mut seen = std::collections::HashSet::new();
        let (round, later): (Vec<_>, Vec<_>) =
            rest.into_iter().partition(|(id, _)| seen.insert(*id));
        update_round(tx, &round).await?;
        rest = later;
    }
    Ok(())
}

/// One statement for changes of distinct contacts (PostgreSQL), then their tags.
async fn update_round(tx: &mut Tx, round: &[(i64, &ContactChange)]) -> Result<()> {
    let now = tx.now;
    let Conn::Postgres(t) = &mut tx.conn else {
        return Ok(());
    };
    let ids: Vec<i64> = round.iter().map(|(id, _)| *id).collect();
    let text = |f: fn(&ContactChange) -> &Option<Option<String>>| -> Vec<Option<String>> {
        round.iter().map(|(_, c)| f(c).clone().flatten()).collect()
    };
    let spend: Vec<Option<i64>> = round.iter().map(|(_, c)| c.spend_cents).collect();
    let attrs: Vec<Option<String>> = round
        .iter()
        .map(|(_, c)| {
            c.attributes
                .as_ref()
                .map(|a| Value::Object(a.clone()).to_string())
        })
        .collect();
    // Stored attributes hold no nulls (a null removes its key), nor do these: `||`
    // merges the row's keys over the contact's.
    sqlx::query(
        "UPDATE contacts c SET
            name = COALESCE(r.name, c.name),
            email = COALESCE(r.email, c.email),
            notes = COALESCE(r.notes, c.notes),
            type = COALESCE(r.type, c.type),
            lifetime_spend_cents = COALESCE(r.spend, c.lifetime_spend_cents),
            attributes = CASE WHEN r.attributes IS NULL THEN c.attributes
                ELSE (c.attributes::jsonb || r.attributes::jsonb)::text END,
            updated_at = $1
         FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])
            AS r (id, name, email, notes, type, spend, attributes)
         WHERE c.id = r.id",
    )
    .bind(now)
    .bind(&ids)
    .bind(text(|c| &c.name))
    .bind(text(|c| &c.email))
    .bind(text(|c| &c.notes))
    .bind(text(|c| &c.kind))
    .bind(&spend)
    .bind(&attrs)
    .execute(&mut **t)
    .await?;
    // Tags are replaced, where the row has them.
    let retagged: Vec<i64> = round
        .iter()
        .filter(|(_, c)| c.tags.is_some())
        .map(|(id, _)| *id)
        .collect();
    if retagged.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM contact_tags WHERE contact_id = ANY($1::int8[])")
        .bind(&retagged)
        .execute(&mut **t)
        .await?;
    let (mut tag_ids, mut tags) = (Vec::new(), Vec::new());
    for (id, c) in round {
        for tag in c.tags.iter().flatten() {
            tag_ids.push(*id);
            tags.push(tag.clone());
        }
    }
    insert_tags(tx, &tag_ids, &tags).await
}

/// An import's row errors, in one statement (PostgreSQL) or a few (SQLite).
pub async fn insert_row_errors(tx: &mut Tx, import_id: i64, errors: &[RowError]) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    match &mut tx.conn {
        Conn::Postgres(t) => {
            let lines: Vec<i64> = errors.iter().map(|e| e.line).collect();
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
            sqlx::query(
                "INSERT INTO contact_import_errors (import_id, line, field, reason)
                 SELECT $1, r.line, r.field, r.reason FROM unnest($2::int8[], $3::text[], $4::text[])
                    AS r (line, field, reason)",
            )
            .bind(import_id)
            .bind(lines)
            .bind(fields)
            .bind(reasons)
            .execute(&mut **t)
            .await?;
        }
        Conn::Sqlite(t) => {
            for group in errors.chunks(SQLITE_ROWS) {
                // Only placeholders are formatted into the text; every value is bound.
                let sql = format!(
                    "INSERT INTO contact_import_errors (line, field, reason, import_id) VALUES {}",
                    values(group.len(), 3, 1, "$1")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(import_id);
                for e in group {
                    q = q.bind(e.line).bind(&e.field).bind(&e.reason);
                }
                q.execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_rows_number_their_placeholders_after_the_shared_ones() {
        assert_eq!(super::values(2, 2, 1, "$1"), "($2, $3, $1), ($4, $5, $1)");
        assert_eq!(super::values(1, 3, 2, "$1, $2"), "($3, $4, $5, $1, $2)");
    }
}
