//! Cluster mode's fencing token, against a real PostgreSQL: a node that lost a session's
//! lease (another node took it and raised the token) can no longer write for it, and what
//! its refused job wrote is not committed — while its writes that carry no fence, and the
//! new owner's, go through.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{Backend, TestDb};
use tickhub::config::{Config, Source};
use tickhub::domain::SystemClock;
use tickhub::store::inbox::{self, Received};
use tickhub::store::{sessions, Db, Fence, StoreError, Writer};

async fn store(db: &TestDb) -> (Db, Writer) {
    let vars = BTreeMap::from([("DATABASE_URL".to_string(), db.url.clone())]);
    let config = Config::load(&Source::from_map(&vars)).expect("config");
    let pool = Db::connect(&config).await.expect("connect");
    pool.migrate().await.expect("migrate");
    let writer = Writer::start(pool.clone(), Arc::new(SystemClock), Arc::new(|_| {}));
    (pool, writer)
}

/// Stores a webhook row through `writer`; its key says which.
async fn store_row(writer: &Writer, session_id: i64, key: &str) -> Result<(), StoreError> {
    let row = Received {
        event_key: key.to_string(),
        session_id,
        event: "message".into(),
        body: "{}".into(),
    };
    writer
        .run(row, |tx, row| {
            Box::pin(async move { inbox::insert(tx, row, false).await.map(|_| ()) })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_lease_was_taken_over_cannot_write_for_the_session() {
    let db = TestDb::new(Backend::Postgres).await;
    let (pool, writer) = store(&db).await;
    let (s, _) = sessions::ensure(&pool, "default", 1)
        .await
        .expect("session");

    // Node A takes the session: its token is the session's.
    let a = sessions::take_fence(&pool, s.id).await.expect("fence");
    let node_a = writer.fenced(Some(Fence {
        session_id: s.id,
        token: a,
    }));
    store_row(&node_a, s.id, "a-1")
        .await
        .expect("the owner writes");

    // Node B takes it over (A's lease ran out while A was paused).
    let b = sessions::take_fence(&pool, s.id).await.expect("fence");
    assert!(b > a, "tokens only grow: {a} then {b}");
    let node_b = writer.fenced(Some(Fence {
        session_id: s.id,
        token: b,
    }));

    // A wakes up and writes with its old token: refused, and nothing of it committed.
    match store_row(&node_a, s.id, "a-2").await {
        Err(StoreError::Fenced { session_id }) => assert_eq!(session_id, s.id),
        other => panic!("a write with a stale token must be refused, got {other:?}"),
    }
    store_row(&node_b, s.id, "b-1")
        .await
        .expect("the new owner writes");
    // Work that is not the session owner's (no fence) is not refused.
    store_row(&writer, s.id, "any-1")
        .await
        .expect("an unfenced write");
    let keys: Vec<String> = sqlx_keys(&db, s.id).await;
    assert_eq!(keys, vec!["a-1", "b-1", "any-1"], "a-2 was never committed");
}

async fn sqlx_keys(db: &TestDb, session_id: i64) -> Vec<String> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar("SELECT event_key FROM inbox WHERE session_id = $1 ORDER BY id")
        .bind(session_id)
        .fetch_all(&mut c)
        .await
        .expect("read the inbox")
}

/// A batch that holds one stale job and one good one: the good one still commits (the
/// writer retries a failed batch job by job), only the stale one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_job_does_not_take_its_batch_down_with_it() {
    let db = TestDb::new(Backend::Postgres).await;
    let (pool, writer) = store(&db).await;
    let (s, _) = sessions::ensure(&pool, "default", 1)
        .await
        .expect("session");
    let old = sessions::take_fence(&pool, s.id).await.expect("fence");
    let new = sessions::take_fence(&pool, s.id).await.expect("fence");
    let stale = writer.fenced(Some(Fence {
        session_id: s.id,
        token: old,
    }));
    let fresh = writer.fenced(Some(Fence {
        session_id: s.id,
        token: new,
    }));
    let (a, b) = tokio::join!(
        store_row(&stale, s.id, "stale"),
        store_row(&fresh, s.id, "fresh")
    );
    assert!(matches!(a, Err(StoreError::Fenced { .. })), "{a:?}");
    b.expect("the fresh job commits");
    assert_eq!(sqlx_keys(&db, s.id).await, vec!["fresh"]);
}
