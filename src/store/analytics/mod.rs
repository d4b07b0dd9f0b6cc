//! The analytics tables: kept up to date from the event log (`project`), rebuilt from the
//! stored rows (`project::rebuild`), and read by the reports (`reports`).

pub mod bots;
pub mod project;
pub mod reports;

pub use project::project;

use super::writer::{self, Conn};
use super::{Db, Result};

/// Serialises the live projection with a rebuild across nodes sharing a PostgreSQL
/// database ("analytic" in ASCII).
pub(crate) const LOCK: i64 = 0x0061_6e61_6c79_7469;

/// One step of the live projection: up to `limit` events; returns how many were read.
/// On PostgreSQL it runs in a transaction of its own: event ids follow commit order across
/// connections (they are appended under one lock), so it needs nothing of the writer's, and
/// a step over thousands of events never holds up the inbox's writes. SQLite has one
/// writer, so there it is a writer job.
pub async fn project_step(
    db: &Db,
    writer: &writer::Writer,
    now_ms: i64,
    limit: i64,
) -> Result<usize> {
    match db {
        Db::Postgres(_) => {
            let mut tx = writer::begin(db, now_ms).await?;
            let n = project(&mut tx, limit).await?;
            writer::commit(tx).await?;
            Ok(n)
        }
        Db::Sqlite { .. } => {
            writer
                .run(limit, |tx, limit| Box::pin(project(tx, *limit)))
                .await
        }
    }
}

/// Recomputes the analytics tables from the stored rows in one transaction (`tickhub
/// analytics-rebuild`). On PostgreSQL it reads one snapshot and holds the projection's
/// lock, so the live projection waits and then goes on from where the rebuild ended; on
/// SQLite it holds the database's one write lock, so the hub's writes wait for it. The
/// bots' rollups follow, recomputed from `bot_events` (`bots::rebuild`).
pub async fn rebuild(db: &Db, now_ms: i64) -> Result<u64> {
    let mut tx = writer::begin(db, now_ms).await?;
    if let Conn::Postgres(c) = &mut tx.conn {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut **c)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK)
            .execute(&mut **c)
            .await?;
    }
    let n = project::rebuild(&mut tx).await?;
    writer::commit(tx).await?;
    bots::rebuild(db, now_ms).await?;
    Ok(n)
}
