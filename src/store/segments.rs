//! Segments: saved contact filters (docs/segments.md). The filter is kept as the JSON the
//! team wrote and read again through `domain::segment_filter` whenever it is counted.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{Db, Result, Tx};
use crate::domain::segment_filter::{Filter, Mode};
use crate::domain::FieldError;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    /// The filter (docs/segments.md).
    #[schema(value_type = Object)]
    pub filter: Value,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

type Row = (i64, String, String, Option<i64>, i64, i64);

fn of(r: Row) -> Segment {
    let (id, name, filter, created_by, created_at, updated_at) = r;
    Segment {
        id,
        name,
        // Written from a validated JSON object only.
        filter: serde_json::from_str(&filter).unwrap_or(Value::Null),
        created_by,
        created_at,
        updated_at,
    }
}

const SELECT: &str = "SELECT id, name, filter, created_by, created_at, updated_at FROM segments";

/// A stored segment's filter, read again against today's attribute definitions
/// (`None`: no such segment; an inner error names the clause that no longer reads).
pub async fn filter_of(
    db: &Db,
    id: i64,
) -> Result<Option<std::result::Result<Filter, FieldError>>> {
    let Some(seg) = get(db, id).await? else {
        return Ok(None);
    };
    let schema = super::contact_schema::schema(db).await?;
    Ok(Some(Filter::parse(
        &seg.filter,
        "filter",
        &schema,
        Mode::Stored,
    )))
}

/// By id, from `after` on (exclusive), at most `limit`.
pub async fn list(db: &Db, after: Option<i64>, limit: i64) -> Result<Vec<Segment>> {
    let sql = format!("{SELECT} WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(of).collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Segment>> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(of))
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Segment>> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(c).await)?;
    Ok(row.map(of))
}

pub async fn insert(tx: &mut Tx, name: &str, filter: &Value, by: i64) -> Result<Segment> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO segments (name, filter, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id")
        .bind(name).bind(filter.to_string()).bind((by > 0).then_some(by)).bind(now)
        .fetch_one(c).await)?;
    get_in(tx, id).await?.ok_or(super::StoreError::NotFound)
}

/// `None`: no such segment.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    name: Option<&str>,
    filter: Option<&Value>,
) -> Result<Option<(Segment, Segment)>> {
    let Some(before) = get_in(tx, id).await? else {
        return Ok(None);
    };
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE segments SET name = COALESCE($2, name), filter = COALESCE($3, filter), updated_at = $4
         WHERE id = $1")
        .bind(id).bind(name).bind(filter.map(Value::to_string)).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let after = get_in(tx, id).await?.ok_or(super::StoreError::NotFound)?;
    Ok(Some((before, after)))
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<Segment>> {
    let Some(before) = get_in(tx, id).await? else {
        return Ok(None);
    };
    on_tx!(tx, c => sqlx::query("DELETE FROM segments WHERE id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Some(before))
}
