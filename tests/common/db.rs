//! A fresh database per test: a SQLite file in a temporary directory, or a new database
//! on the PostgreSQL server at `TEST_POSTGRES_URL` (default: local, trust auth). Missing
//! PostgreSQL fails the test loudly; nothing is skipped.

use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("tickhub.db").display());
                TestDb {
                    backend,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!("tickhub_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is needed for this test (TEST_POSTGRES_URL={admin}): {e}. Run the suite with scripts/test, which starts one.")
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("TEST_POSTGRES_URL");
                url.set_path(&name);
                TestDb {
                    backend,
                    url: url.to_string(),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// The database URL with the host and port replaced (to route through a proxy).
    pub fn url_via(&self, host_port: &str) -> String {
        let mut u = url::Url::parse(&self.url).expect("url");
        let (h, p) = host_port.split_once(':').expect("host:port");
        u.set_host(Some(h)).expect("host");
        u.set_port(Some(p.parse().expect("port"))).expect("port");
        u.to_string()
    }

    /// Runs statements on the test's database beside the running hub (to set up what no
    /// API makes yet, or to inject a fault): `sqlite` on SQLite, each of `postgres` on
    /// PostgreSQL.
    pub async fn exec(&self, sqlite: &str, postgres: &[&str]) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("open the test's SQLite database");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_string()))
                    .execute(&mut c)
                    .await
                    .expect("sqlite statement");
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("open the test's PostgreSQL database");
                for stmt in postgres {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(stmt.to_string()))
                        .execute(&mut c)
                        .await
                        .expect("postgres statement");
                }
            }
        }
    }

    /// `exec` for a statement that may be refused: the database's error as text.
    pub async fn try_exec(&self, sqlite: &str, postgres: &str) -> Result<(), String> {
        use sqlx::Connection;
        let e = |e: sqlx::Error| e.to_string();
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(e)?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_string()))
                    .execute(&mut c)
                    .await
                    .map_err(e)?;
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.map_err(e)?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_string()))
                    .execute(&mut c)
                    .await
                    .map_err(e)?;
            }
        }
        Ok(())
    }

    /// The first column (a text) of each row `sql` answers: reading what the hub stored,
    /// beside it (the same statement on both databases).
    #[allow(dead_code)]
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("open the test's SQLite database");
                sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("open the test's PostgreSQL database");
                sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect()
            }
        }
    }

    /// The PostgreSQL server's host:port.
    pub fn pg_addr(&self) -> String {
        let u = url::Url::parse(&self.url).expect("url");
        format!(
            "{}:{}",
            u.host_str().unwrap_or("127.0.0.1"),
            u.port().unwrap_or(5432)
        )
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs outside async context: a small runtime of its own.
            let admin = admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut c)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}
