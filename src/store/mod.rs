//! Durable state behind one interface for SQLite (embedded default) and PostgreSQL:
//! one file per aggregate (reads and the statements that change it), and transaction
//! scripts over domain types for what the actors do (`ingest` for what arrives from
//! WhatsApp, `outbound` for what the business sends); the hot path's statements, written a
//! batch at a time, sit in their own file (`ingest_fast`).
//!
//! Queries are written once with `$n` placeholders, which both backends accept, and run on
//! whichever pool is configured through the `on_pool!`/`on_tx!` macros. Writes that log
//! events go through the [`writer::Writer`], a group-committing task, so that event `seq`
//! numbers are assigned in commit order and thousands of webhooks per second cost a
//! handful of transactions.

/// Runs the same query code on whichever read pool is configured.
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { read: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// Runs the same statement code on whichever write pool is configured (outside the writer:
/// only for writes that log no event, e.g. users and tokens).
macro_rules! on_write_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { write: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// Runs the same statement code on whichever backend the transaction is on.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::store::writer::Conn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::writer::Conn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub mod analytics;
pub mod api_keys;
pub mod audit;
pub mod board;
pub mod bot_cache;
pub mod bot_flow;
pub mod bot_metrics;
pub mod bots;
pub mod campaign_flow;
pub mod campaign_recipients;
pub mod campaign_sessions;
pub mod campaigns;
pub mod contact_bulk;
pub mod contact_filter;
pub mod contact_merge;
pub mod contact_schema;
mod contact_writes;
pub mod contacts;
mod conversation_list;
pub mod conversations;
pub mod csat;
pub mod email;
pub mod events;
pub mod gdpr;
pub mod handling;
pub mod hook_queue;
pub mod hooks;
pub mod imports;
pub mod inbox;
pub mod ingest;
mod ingest_fast;
pub mod members;
pub mod messages;
pub mod notes;
pub mod notify;
pub mod outbound;
pub mod outbox;
pub mod presence;
pub mod quick_replies;
pub mod routing;
pub mod search;
pub mod secrets;
pub mod segments;
pub mod sessions;
pub mod sla;
pub mod templates;
pub mod tokens;
pub mod users;
pub mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::{Config, DatabaseKind};

pub use writer::{Fence, Tx, Writer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value that clashes with what is stored, with the path of the field that holds it.
    #[error("conflict: {0}")]
    ConflictOn(crate::domain::FieldError),
    /// A text the database cannot hold (PostgreSQL refuses U+0000 in any text, also in a
    /// value only looked up): the input's fault, not the database's.
    #[error("unstorable text: {0}")]
    Unstorable(String),
    #[error("the writer has stopped")]
    WriterGone,
    /// Cluster mode: this node's hold on the session has been taken over by another node
    /// (its fencing token is no longer the session's), so its write was refused.
    #[error("session {session_id} is now owned by another node")]
    Fenced { session_id: i64 },
    /// A secret could not be sealed or opened (`crate::secrets`).
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            // A connection that broke mid-conversation (reset, or garbage where the
            // server's answer should be) means the server is away, not the statement.
            sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => {
                let msg = db.message().to_string();
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                // SQLite answers "database is locked"/"busy" when another process holds
                // it; PostgreSQL's classes 08 (connection), 53 (resources) and 57P
                // (shutdown) mean the server, not the statement, is the problem.
                let server_away =
                    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P");
                if server_away || msg.contains("database is locked") || msg.contains("busy") {
                    StoreError::Unavailable(msg)
                } else if code == "22021" || code == "22P05" {
                    // Invalid or untranslatable characters in a bound text.
                    StoreError::Unstorable(msg)
                } else if db.is_unique_violation() {
                    // The database's own words name tables and constraints: they go to
                    // the log, the caller gets a plain conflict.
                    tracing::debug!(detail = %msg, "unique violation");
                    StoreError::Conflict("something with the same unique value exists".into())
                } else {
                    StoreError::Database(msg)
                }
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The configured backend. SQLite has one writer, so it keeps a one-connection write pool
/// beside a read pool; PostgreSQL uses one pool for both.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// A list of ids as one bound text value (`"1,2,3"`), matched in SQL with [`in_id_list`]:
/// one bound value whatever the list's length. `None` stays `NULL` (no restriction).
pub(crate) fn id_list(ids: Option<&[i64]>) -> Option<String> {
    ids.map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// True where `col` is one of the ids of the [`id_list`] bound at `p` (`NULL`: any). On
/// PostgreSQL the list becomes an array, whose values the planner sees when it plans a
/// statement for its values: behind the text form it guessed a viewer's sessions held a
/// few rows, and an agent's contact search sorted thousands of matches (21 ms) instead of
/// walking the newest contacts until the page was full (under 1 ms). SQLite's planner
/// gains nothing from it, so it keeps the text form,
/// `(',' || p || ',') LIKE ('%,' || CAST(col AS TEXT) || ',%')`.
pub(crate) fn in_id_list(dialect: contact_filter::Dialect, col: &str, p: &str) -> String {
    match dialect {
        contact_filter::Dialect::Sqlite => {
            format!(
                "({p} IS NULL OR (',' || {p} || ',') LIKE ('%,' || CAST({col} AS TEXT) || ',%'))"
            )
        }
        contact_filter::Dialect::Postgres => {
            format!("({p} IS NULL OR {col} = ANY(CAST(string_to_array({p}, ',') AS BIGINT[])))")
        }
    }
}

/// A statement whose text differs by dialect only (an [`in_id_list`]), written once for
/// both on first use: for hot paths, where a `format!` per call would show. The text is
/// `&'static`, which sqlx takes without copying it.
#[derive(Debug)]
pub(crate) struct PerDialect {
    write: fn(contact_filter::Dialect) -> String,
    texts: std::sync::OnceLock<[String; 2]>,
}

impl PerDialect {
    pub(crate) const fn new(write: fn(contact_filter::Dialect) -> String) -> PerDialect {
        PerDialect {
            write,
            texts: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn of(&'static self, db: &Db) -> &'static str {
        let [sqlite, postgres] = self.texts.get_or_init(|| {
            [
                (self.write)(contact_filter::Dialect::Sqlite),
                (self.write)(contact_filter::Dialect::Postgres),
            ]
        });
        match contact_filter::Dialect::of(db) {
            contact_filter::Dialect::Sqlite => sqlite,
            contact_filter::Dialect::Postgres => postgres,
        }
    }
}

/// `%…%` for a case-insensitive substring match with `LIKE … ESCAPE '\'`: the search text
/// is lower-cased and its own `%`, `_` and `\` match only themselves.
pub(crate) fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// `$from, $from+1, …` for `n` bound values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` rows of `width` placeholders (a multi-row `VALUES`), bound in order: `($1, $2),
/// ($3, $4)` on PostgreSQL, anonymous `(?, ?), (?, ?)` on SQLite, which finds a numbered
/// parameter's name by a scan of them all (quadratic in a statement of thousands). Only
/// placeholders, never values, so every value is bound.
pub(crate) fn placeholder_rows(dialect: contact_filter::Dialect, n: usize, width: usize) -> String {
    match dialect {
        contact_filter::Dialect::Sqlite => {
            let row = format!("({})", vec!["?"; width].join(", "));
            vec![row; n].join(", ")
        }
        contact_filter::Dialect::Postgres => (0..n)
            .map(|r| format!("({})", placeholders(r * width + 1, width)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// How much of a SQLite database file is memory-mapped (address space, not memory: pages
/// are loaded as they are read and shared by every connection).
const MMAP_BYTES: &str = "1073741824";

impl Db {
    pub async fn connect(config: &Config) -> Result<Db> {
        match config.database_kind {
            DatabaseKind::Sqlite => {
                let opts = SqliteConnectOptions::from_str(&config.database_url)
                    .map_err(|e| StoreError::Unavailable(format!("DATABASE_URL: {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    // Each webhook descends the index pages of messages and conversations.
                    // SQLite caches 2 MB per connection by default, so on a big database
                    // those pages were read from the OS again and again; mapped, the
                    // connections share the OS's copy instead of keeping their own.
                    .pragma("mmap_size", MMAP_BYTES);
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts.clone())
                    .await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts.read_only(true))
                    .await?;
                Ok(Db::Sqlite { read, write })
            }
            DatabaseKind::Postgres => {
                let opts = PgConnectOptions::from_str(&config.database_url)
                    .map_err(|e| StoreError::Unavailable(format!("DATABASE_URL: {e}")))?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite")
                .run(write)
                .await
                .map_err(|e| StoreError::Migrate(e.to_string())),
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres")
                .run(pool)
                .await
                .map_err(|e| StoreError::Migrate(e.to_string())),
        }
    }

    /// A cheap round trip for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::contact_filter::Dialect;
    use super::{contains_pattern, placeholder_rows};

    #[test]
    fn search_text_matches_only_itself() {
        assert_eq!(contains_pattern("Hi"), "%hi%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn placeholder_rows_number_on_postgres_only() {
        assert_eq!(
            placeholder_rows(Dialect::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholder_rows(Dialect::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
