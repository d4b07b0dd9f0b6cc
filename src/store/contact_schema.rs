//! What the team declares about contacts: the types (lead, customer, VIP, …) and the
//! custom attributes with their types.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, StoreError, Tx};
use crate::domain::contact::{AttrDef, AttrType};
use crate::domain::segment_filter::Schema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ContactType {
    /// The value a contact's `type` holds (a-z, 0-9, _).
    pub name: String,
    /// How the web app shows it.
    pub label: String,
    /// Where it comes in lists (lowest first).
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AttributeDef {
    /// The key under a contact's `attributes` (a-z, 0-9, _).
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    /// The allowed values of a `choice` attribute (empty for other types).
    pub choices: Vec<String>,
    pub created_at: i64,
}

impl AttributeDef {
    pub fn def(&self) -> AttrDef {
        AttrDef {
            name: self.name.clone(),
            kind: self.kind,
            choices: self.choices.clone(),
        }
    }
}

type DefRow = (String, String, String, Option<String>, i64);

fn def_of(r: DefRow) -> Result<AttributeDef> {
    let (name, label, kind, choices, created_at) = r;
    let kind = AttrType::parse(&kind)
        .ok_or_else(|| StoreError::Database(format!("attribute {name} has type {kind:?}")))?;
    Ok(AttributeDef {
        name,
        label,
        kind,
        choices: choices
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        created_at,
    })
}

pub async fn types(db: &Db) -> Result<Vec<ContactType>> {
    let rows: Vec<ContactType> = on_pool!(db, p => sqlx::query_as(
        "SELECT name, label, position FROM contact_types ORDER BY position, name").fetch_all(p).await)?;
    Ok(rows)
}

pub async fn type_exists(db: &Db, name: &str) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_types WHERE name = $1").bind(name).fetch_one(p).await)?;
    Ok(n > 0)
}

/// `false`: a type of that name exists.
pub async fn insert_type(tx: &mut Tx, t: &ContactType) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "INSERT INTO contact_types (name, label, position, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING")
        .bind(&t.name).bind(&t.label).bind(t.position).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// How many contacts have type `name`.
pub async fn type_uses_in(tx: &mut Tx, name: &str) -> Result<i64> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM contacts WHERE type = $1").bind(name).fetch_one(c).await)?;
    Ok(n)
}

/// `false`: there was none.
pub async fn delete_type(tx: &mut Tx, name: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM contact_types WHERE name = $1")
        .bind(name).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn attributes(db: &Db) -> Result<Vec<AttributeDef>> {
    let rows: Vec<DefRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT name, label, type, choices, created_at FROM contact_attribute_defs ORDER BY name")
        .fetch_all(p).await)?;
    rows.into_iter().map(def_of).collect()
}

pub async fn attribute(db: &Db, name: &str) -> Result<Option<AttributeDef>> {
    let row: Option<DefRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT name, label, type, choices, created_at FROM contact_attribute_defs WHERE name = $1")
        .bind(name).fetch_optional(p).await)?;
    row.map(def_of).transpose()
}

/// The declared attributes, as filters and checks read them.
pub async fn schema(db: &Db) -> Result<Schema> {
    let defs = attributes(db).await?;
    Ok(Schema {
        attributes: defs
            .into_iter()
            .map(|d| (d.name.clone(), d.def()))
            .collect::<HashMap<_, _>>(),
    })
}

/// `false`: an attribute of that name is declared.
pub async fn insert_attribute(tx: &mut Tx, d: &AttributeDef) -> Result<bool> {
    let choices = (d.kind == AttrType::Choice)
        .then(|| serde_json::to_string(&d.choices).unwrap_or_else(|_| "[]".into()));
    let n = on_tx!(tx, c => sqlx::query(
        "INSERT INTO contact_attribute_defs (name, label, type, choices, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING")
        .bind(&d.name).bind(&d.label).bind(d.kind.as_str()).bind(choices).bind(d.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Changes the label and choices (a type never changes: stored values and saved
/// segments were checked against it). `false`: no such attribute.
pub async fn update_attribute(tx: &mut Tx, d: &AttributeDef) -> Result<bool> {
    let choices = (d.kind == AttrType::Choice)
        .then(|| serde_json::to_string(&d.choices).unwrap_or_else(|_| "[]".into()));
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE contact_attribute_defs SET label = $2, choices = $3 WHERE name = $1")
        .bind(&d.name).bind(&d.label).bind(choices)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Forgets the declaration (values stay on contacts, as undeclared attributes).
pub async fn delete_attribute(tx: &mut Tx, name: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM contact_attribute_defs WHERE name = $1")
        .bind(name).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
