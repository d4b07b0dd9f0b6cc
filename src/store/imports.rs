//! Contact imports: the stored CSV (chunks of whole records), their progress and their
//! row errors. Chunks are written as the body streams in (outside the writer: they log
//! no event); applying a chunk runs in the writer (`claim_chunk` first, so a chunk is
//! applied once however many workers try).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, Tx};

/// The errors an import's answer lists (the rest are counted in `errors_total`).
pub const ERRORS_SHOWN: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RowError {
    /// The CSV line the row starts on (the header is line 1).
    pub line: i64,
    /// The column at fault (`phone`, `email`, `attr.plan`, …).
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Import {
    pub id: i64,
    pub session_id: i64,
    /// `skip` or `update`: what a row whose number is already a contact does.
    pub on_duplicate: String,
    /// `running` (also while the body arrives), `completed` or `failed`.
    pub status: String,
    /// The rows read so far.
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    /// Rows not applied because of an error.
    pub failed: i64,
    /// The first 1000 errors, by line.
    pub errors: Vec<RowError>,
    pub errors_total: i64,
    /// Why a failed import stopped.
    pub failure: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

type ImportRow = (
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
);

/// Starts an import in `receiving`.
pub async fn insert(
    db: &Db,
    session_id: i64,
    on_duplicate: &str,
    columns: &[String],
    by: i64,
    now: i64,
) -> Result<i64> {
    let cols = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
    let id: i64 = on_write_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO contact_imports (session_id, on_duplicate, status, columns, created_by, created_at, updated_at)
         VALUES ($1, $2, 'receiving', $3, $4, $5, $5) RETURNING id")
        .bind(session_id).bind(on_duplicate).bind(cols).bind((by > 0).then_some(by)).bind(now)
        .fetch_one(p).await)?;
    Ok(id)
}

pub async fn add_chunk(db: &Db, id: i64, seq: i64, first_line: i64, data: &str) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "INSERT INTO contact_import_chunks (import_id, seq, first_line, data) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING")
        .bind(id).bind(seq).bind(first_line).bind(data).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The body is all stored: `chunks` of them, to apply.
pub async fn received(db: &Db, id: i64, chunks: i64, now: i64) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "UPDATE contact_imports SET status = 'running', chunks = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(chunks).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn fail(db: &Db, id: i64, why: &str, now: i64) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "UPDATE contact_imports SET status = 'failed', failure = $2, updated_at = $3
         WHERE id = $1 AND status IN ('receiving', 'running')")
        .bind(id).bind(why).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Imports a restart left behind: (id, status).
pub async fn unfinished(db: &Db) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, status FROM contact_imports WHERE status IN ('receiving', 'running') ORDER BY id")
        .fetch_all(p).await)?;
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Import>> {
    let row: Option<ImportRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, on_duplicate, status, rows, created, updated, skipped, failed, failure,
            created_at, updated_at FROM contact_imports WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    let Some((
        id,
        session_id,
        on_duplicate,
        status,
        rows,
        created,
        updated,
        skipped,
        failed,
        failure,
        created_at,
        updated_at,
    )) = row
    else {
        return Ok(None);
    };
    let errors: Vec<(i64, String, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT line, field, reason FROM contact_import_errors WHERE import_id = $1 ORDER BY line, field LIMIT $2")
        .bind(id).bind(ERRORS_SHOWN).fetch_all(p).await)?;
    let errors_total: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_import_errors WHERE import_id = $1").bind(id).fetch_one(p).await)?;
    Ok(Some(Import {
        id,
        session_id,
        on_duplicate,
        status: if status == "receiving" {
            "running".into()
        } else {
            status
        },
        rows,
        created,
        updated,
        skipped,
        failed,
        errors: errors
            .into_iter()
            .map(|(line, field, reason)| RowError {
                line,
                field,
                reason,
            })
            .collect(),
        errors_total,
        failure,
        created_at,
        updated_at,
    }))
}

/// What the worker needs: (session id, on_duplicate, columns, chunks, next chunk, status).
pub async fn plan(
    db: &Db,
    id: i64,
) -> Result<Option<(i64, String, Vec<String>, i64, i64, String)>> {
    let row: Option<(i64, String, String, i64, i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT session_id, on_duplicate, columns, chunks, next_chunk, status FROM contact_imports WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(|(s, d, cols, chunks, next, status)| {
        (
            s,
            d,
            serde_json::from_str(&cols).unwrap_or_default(),
            chunks,
            next,
            status,
        )
    }))
}

pub async fn chunk(db: &Db, id: i64, seq: i64) -> Result<Option<(i64, String)>> {
    let row: Option<(i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT first_line, data FROM contact_import_chunks WHERE import_id = $1 AND seq = $2")
        .bind(id).bind(seq).fetch_optional(p).await)?;
    Ok(row)
}

/// Takes chunk `seq` for this transaction: `false` when it was applied already (by an
/// earlier run, before a restart, or by another worker). The row lock holds to the commit.
pub async fn claim_chunk(tx: &mut Tx, id: i64, seq: i64) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE contact_imports SET next_chunk = next_chunk + 1, updated_at = $3
         WHERE id = $1 AND next_chunk = $2 AND status = 'running'")
        .bind(id).bind(seq).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Adds a chunk's outcome to the counters (in the chunk's transaction); marks the import
/// completed after its last chunk. Answers the counters.
pub async fn count_chunk(
    tx: &mut Tx,
    id: i64,
    counts: [i64; 5],
    errors: &[RowError],
) -> Result<(String, [i64; 5])> {
    let now = tx.now;
    super::contact_bulk::insert_row_errors(tx, id, errors).await?;
    let [rows, created, updated, skipped, failed] = counts;
    let row: (String, i64, i64, i64, i64, i64) = on_tx!(tx, c => sqlx::query_as(
        "UPDATE contact_imports SET rows = rows + $2, created = created + $3, updated = updated + $4,
            skipped = skipped + $5, failed = failed + $6,
            status = CASE WHEN next_chunk >= chunks THEN 'completed' ELSE status END, updated_at = $7
         WHERE id = $1 RETURNING status, rows, created, updated, skipped, failed")
        .bind(id).bind(rows).bind(created).bind(updated).bind(skipped).bind(failed).bind(now)
        .fetch_one(c).await)?;
    Ok((row.0, [row.1, row.2, row.3, row.4, row.5]))
}

/// An import with no rows at all: completed at once.
pub async fn complete_empty(db: &Db, id: i64, now: i64) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "UPDATE contact_imports SET status = 'completed', updated_at = $2 WHERE id = $1 AND chunks = 0")
        .bind(id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
