//! The event log behind `seq` and `since`, on both databases: events appended in one batch
//! get consecutive seqs in append order; pruning cuts at the last event older than the
//! retention (found along the primary key, the log has no index on its time), keeps the
//! rest, and a `since` below the cut asks for a resync instead of replaying a gap.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use common::{Backend, TestDb};
use tickhub::config::{Config, Source};
use tickhub::domain::access::{ConversationEvents, EventFilter};
use tickhub::domain::clock::Clock;
use tickhub::domain::presence::PresenceCause;
use tickhub::domain::{EventKind, EventScope, LoggedEvent, PresenceStatus, Role};
use tickhub::store::events::{self, Replay};
use tickhub::store::presence::{self, Transition};
use tickhub::store::{users, Db, Writer};

/// A clock the test sets: each batch is stamped with its reading.
struct SetClock(AtomicI64);

impl Clock for SetClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Log {
    db: Db,
    writer: Writer,
    clock: Arc<SetClock>,
    published: Arc<Mutex<Vec<LoggedEvent>>>,
}

impl Log {
    async fn new(db: &TestDb) -> Log {
        let vars = BTreeMap::from([("DATABASE_URL".to_string(), db.url.clone())]);
        let config = Config::load(&Source::from_map(&vars)).expect("config");
        let pool = Db::connect(&config).await.expect("connect");
        pool.migrate().await.expect("migrate");
        let clock = Arc::new(SetClock(AtomicI64::new(1_000)));
        let published = Arc::new(Mutex::new(Vec::new()));
        let sink = published.clone();
        let writer = Writer::start(
            pool.clone(),
            clock.clone(),
            Arc::new(move |evs| sink.lock().expect("sink").extend(evs)),
        );
        Log {
            db: pool,
            writer,
            clock,
            published,
        }
    }

    /// Appends `n` presence events (numbered by `data`) in one transaction at time `at`.
    async fn append(&self, at: i64, n: usize) {
        self.clock.0.store(at, Ordering::SeqCst);
        self.writer
            .run(n, |tx, n| {
                Box::pin(async move {
                    for i in 0..*n {
                        events::append(
                            tx,
                            EventKind::PresenceUpdated,
                            EventScope::supervisors(),
                            &serde_json::json!({ "i": i }),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
            .expect("append");
    }

    async fn prune(&self, before_ms: i64) -> u64 {
        self.prune_keeping(before_ms, i64::MAX).await
    }

    /// `prune`, keeping every event after `keep_after` (outbound webhooks' copy cursor).
    async fn prune_keeping(&self, before_ms: i64, keep_after: i64) -> u64 {
        self.writer
            .run((before_ms, keep_after), |tx, (before, keep)| {
                Box::pin(async move { events::prune(tx, *before, *keep).await })
            })
            .await
            .expect("prune")
    }

    async fn replay(&self, since: i64) -> Replay {
        let upto = events::last_seq(&self.db).await.expect("head");
        let filter = EventFilter {
            user_id: 1,
            supervisor: true,
            sessions: None,
            conversations: ConversationEvents::None,
            campaigns: true,
        };
        events::replay(&self.db, &filter, since, upto, 1_000)
            .await
            .expect("replay")
    }
}

fn frames(r: Replay) -> Vec<serde_json::Value> {
    match r {
        Replay::Page { frames, .. } => frames
            .iter()
            .map(|f| serde_json::from_str(f).expect("a frame is JSON"))
            .collect(),
        Replay::ResyncRequired => panic!("resync required"),
    }
}

async fn a_batch_gets_consecutive_seqs_in_append_order(b: Backend) {
    let db = TestDb::new(b).await;
    let log = Log::new(&db).await;
    log.append(1_000, 300).await;
    let published = log.published.lock().expect("published").clone();
    assert_eq!(published.len(), 300);
    let first = published[0].seq.expect("a seq");
    for (i, e) in published.iter().enumerate() {
        assert_eq!(
            e.seq,
            Some(first + i as i64),
            "seqs follow the append order"
        );
        let f: serde_json::Value = serde_json::from_str(&e.frame).expect("JSON");
        assert_eq!(f["data"]["i"], i as i64, "event {i} carries its own data");
        assert_eq!(f["seq"], first + i as i64);
    }
    let replayed = frames(log.replay(first - 1).await);
    assert_eq!(replayed.len(), 300, "the replay has the batch");
    assert_eq!(replayed[299]["data"]["i"], 299);
}
both!(a_batch_gets_consecutive_seqs_in_append_order);

async fn pruning_cuts_at_the_last_event_before_the_time(b: Backend) {
    let db = TestDb::new(b).await;
    let log = Log::new(&db).await;
    assert_eq!(
        log.prune(10_000).await,
        0,
        "an empty log has nothing to cut"
    );
    // Batches of different sizes a second apart: 1,000 … 9,000 ms.
    for (k, n) in [3, 1, 4, 1, 5, 9, 2, 6, 5].into_iter().enumerate() {
        log.append(1_000 * (k as i64 + 1), n).await;
    }
    let published = log.published.lock().expect("published").clone();
    let seq_at = |t: i64| -> Vec<i64> {
        published
            .iter()
            .zip(
                [3, 1, 4, 1, 5, 9, 2, 6, 5]
                    .iter()
                    .enumerate()
                    .flat_map(|(k, n)| std::iter::repeat_n(1_000 * (k as i64 + 1), *n)),
            )
            .filter(|(_, at)| *at == t)
            .map(|(e, _)| e.seq.expect("seq"))
            .collect()
    };
    assert_eq!(
        log.prune(500).await,
        0,
        "nothing is older than the first event"
    );
    // Everything before 5,500 ms: the first five batches (3+1+4+1+5 = 14 events).
    assert_eq!(log.prune(5_500).await, 14);
    let cut = *seq_at(5_000).last().expect("batch 5");
    match log.replay(cut - 1).await {
        Replay::ResyncRequired => {}
        Replay::Page { .. } => panic!("a since below the cut must ask for a resync"),
    }
    let rest = frames(log.replay(cut).await);
    assert_eq!(rest.len(), 9 + 2 + 6 + 5, "what is newer stays, whole");
    assert_eq!(rest[0]["seq"], seq_at(6_000)[0]);
    // A time between two events of the log, and one past its end.
    assert_eq!(
        log.prune(6_000).await,
        0,
        "the batch at 6,000 ms is not older than 6,000 ms"
    );
    assert_eq!(log.prune(6_001).await, 9);
    assert_eq!(log.prune(100_000).await, 2 + 6 + 5);
    assert_eq!(
        events::last_seq(&log.db).await.expect("head"),
        0,
        "an empty log"
    );
}
both!(pruning_cuts_at_the_last_event_before_the_time);

/// Events the outbound webhooks have not copied yet outlive their retention.
async fn pruning_keeps_what_webhooks_have_not_copied(b: Backend) {
    let db = TestDb::new(b).await;
    let log = Log::new(&db).await;
    for (k, n) in [2, 3, 4].into_iter().enumerate() {
        log.append(1_000 * (k as i64 + 1), n).await;
    }
    let seqs: Vec<i64> = log
        .published
        .lock()
        .expect("published")
        .iter()
        .map(|e| e.seq.expect("seq"))
        .collect();
    // Copied up to the end of the second batch: all are past retention, five may go.
    assert_eq!(log.prune_keeping(100_000, seqs[4]).await, 5);
    let rest = frames(log.replay(seqs[4]).await);
    assert_eq!(rest.len(), 4, "the uncopied batch stays whole");
    assert_eq!(log.prune_keeping(100_000, seqs[4]).await, 0);
    assert_eq!(
        log.prune_keeping(100_000, 0).await,
        0,
        "nothing copied: nothing goes"
    );
    assert_eq!(log.prune(100_000).await, 4);
}
both!(pruning_keeps_what_webhooks_have_not_copied);

/// A presence status is announced once however many keepers decide it: two nodes' writers
/// (keepers overlapping while the coordinator's role moves) logging the same status at
/// once, and again after, leave one transition and one event; a real change is logged.
async fn a_presence_status_is_logged_once_whoever_decides_it(b: Backend) {
    let db = TestDb::new(b).await;
    let a = Log::new(&db).await;
    let other = Log::new(&db).await;
    let ana = a
        .writer
        .run((), |tx, _| {
            Box::pin(async move {
                users::create_in(tx, "ana@test.tickhub", "Ana", Role::Manager, "x").await
            })
        })
        .await
        .expect("a member")
        .id;
    let step = |status| Transition {
        user_id: ana,
        status,
        cause: PresenceCause::FirstSocket,
        at: 2_000,
    };
    let log = |l: &Log, node: &'static str, t: Transition| {
        let writer = l.writer.clone();
        async move {
            writer
                .run(t, move |tx, t| {
                    Box::pin(presence::log(tx, node, std::slice::from_ref(t)))
                })
                .await
                .expect("logged")
        }
    };
    tokio::join!(
        log(&a, "a", step(PresenceStatus::Online)),
        log(&other, "b", step(PresenceStatus::Online))
    );
    log(&other, "b", step(PresenceStatus::Online)).await;
    log(&a, "a", step(PresenceStatus::Offline)).await;
    let history = presence::history(&a.db, ana, None, 10)
        .await
        .expect("history");
    let statuses: Vec<PresenceStatus> = history.iter().rev().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [PresenceStatus::Online, PresenceStatus::Offline],
        "{history:?}"
    );
    let announced = |l: &Log| {
        l.published
            .lock()
            .expect("published")
            .iter()
            .filter(|e| e.kind == EventKind::PresenceUpdated)
            .count()
    };
    assert_eq!(announced(&a) + announced(&other), 2, "one event per change");
}
both!(a_presence_status_is_logged_once_whoever_decides_it);
