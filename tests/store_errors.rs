//! What PostgreSQL refuses becomes the error that names whose fault it is: a text it
//! cannot hold is the input's (a 422), not the database's (a 503 that asks to try again).

mod common;

use common::{Backend, TestDb};
use sqlx::Connection;
use tickhub::store::StoreError;

#[tokio::test]
async fn a_nul_in_a_bound_text_is_unstorable_not_a_database_error() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut c = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("the test's PostgreSQL database");
    let refused = sqlx::query("SELECT $1::text")
        .bind("a\u{0}b")
        .execute(&mut c)
        .await
        .expect_err("PostgreSQL refuses a NUL in a text");
    let e = StoreError::from(refused);
    assert!(matches!(e, StoreError::Unstorable(_)), "{e:?}");
    // The same connection is still good: nothing else was taken for the refusal.
    sqlx::query("SELECT 1")
        .execute(&mut c)
        .await
        .expect("the connection goes on");
}
