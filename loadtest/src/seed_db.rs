//! Where `loadtest seed` writes: SQLite or PostgreSQL behind one small interface (a
//! statement, a count, many rows per INSERT with every value bound), and its errors.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tickhub::store::Db;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Refused(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Store(#[from] tickhub::store::StoreError),
    #[error("password hash: {0}")]
    Hash(String),
}

/// One bound value of a row.
pub enum V {
    I(i64),
    OI(Option<i64>),
    T(String),
    OT(Option<String>),
    B(bool),
}

/// Bind variables per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 32_000;

pub enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

macro_rules! bind_all {
    ($q:expr, $rows:expr) => {{
        let mut q = $q;
        for row in $rows {
            for v in row {
                q = match v {
                    V::I(x) => q.bind(*x),
                    V::OI(x) => q.bind(*x),
                    V::T(x) => q.bind(x.as_str()),
                    V::OT(x) => q.bind(x.as_deref()),
                    V::B(x) => q.bind(*x),
                };
            }
        }
        q
    }};
}

impl Pools {
    pub async fn exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Pools::Sqlite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .map(|_| ()),
            Pools::Postgres(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .map(|_| ()),
        }
    }

    pub async fn count(&self, table: &str) -> Result<i64, sqlx::Error> {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self {
            Pools::Sqlite(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
            Pools::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
        }
    }

    /// Inserts `rows` into `table`, as many per statement as the bind limit allows.
    pub async fn insert(
        &self,
        table: &str,
        cols: &[&str],
        rows: &[Vec<V>],
    ) -> Result<(), sqlx::Error> {
        let per = (MAX_BINDS / cols.len()).max(1);
        for chunk in rows.chunks(per) {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
            // SQLite takes plain `?` in order: numbered ones are looked up by name, one
            // by one, which is quadratic in a statement of thousands
            let sqlite = matches!(self, Pools::Sqlite(_));
            let mut n = 0;
            for r in 0..chunk.len() {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..cols.len() {
                    n += 1;
                    let sep = if c == 0 { "" } else { ", " };
                    if sqlite {
                        sql.push_str(sep);
                        sql.push('?');
                    } else {
                        sql.push_str(&format!("{sep}${n}"));
                    }
                }
                sql.push(')');
            }
            match self {
                Pools::Sqlite(p) => {
                    bind_all!(
                        sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false),
                        chunk
                    )
                    .execute(p)
                    .await?;
                }
                Pools::Postgres(p) => {
                    bind_all!(
                        sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false),
                        chunk
                    )
                    .execute(p)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

pub async fn connect(url: &str) -> Result<(Pools, Db), SeedError> {
    if url.starts_with("sqlite:") {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // a fixture: a crash mid-seed means seeding again
            .synchronous(SqliteSynchronous::Off)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let p = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        let db = Db::Sqlite {
            read: p.clone(),
            write: p.clone(),
        };
        Ok((Pools::Sqlite(p), db))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let p = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        Ok((Pools::Postgres(p.clone()), Db::Postgres(p)))
    } else {
        Err(SeedError::Refused(format!(
            "--database-url must start with sqlite: or postgres: (got {url:?})"
        )))
    }
}
