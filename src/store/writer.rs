//! The writer: every write that logs an event runs here, many to a transaction.
//!
//! Group commit is what makes durable webhooks cheap: while one transaction commits, the
//! next jobs queue up and go into the following one, so the commit (an fsync) is shared.
//!
//! Event `seq` numbers must follow commit order, which `since` replay relies on: a reader
//! may never see seq 11 before seq 10 exists. Jobs only queue their events; each batch
//! ends with an ordered tail — take the turn, write the batch's events (one statement),
//! commit, publish, release — so seqs, commits and publications go in one order. SQLite
//! has one writer anyway; on PostgreSQL several writers run their jobs' statements in
//! parallel and queue only for the tail, whose event insert also takes a
//! transaction-scoped advisory lock so that nodes sharing the database keep the same order
//! (`events::flush`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::ingest_fast::Stage;
use super::{Db, Result, StoreError};
use crate::domain::clock::SharedClock;
use crate::domain::LoggedEvent;

const MAX_BATCH: usize = 256;
const QUEUE: usize = 8192;
/// Parallel writers on PostgreSQL (each holds at most one pool connection at a time). Two
/// keep one batch's statements running while the other's commit waits for the disk; more
/// only split the queue into smaller batches, each paying its own `BEGIN`, events insert
/// and `COMMIT` (4 writers cost ~15 % more CPU per webhook at 1,000/s: docs/benchmarks.md).
const PG_WRITERS: usize = 2;
/// How long a writer waits for more jobs when its queue runs dry under load
/// (`TICKHUB_WRITE_LINGER_MS`; zero: never). On a quiet machine a commit takes well under a
/// millisecond, so without it a batch at 1,000 webhooks/s held one to three jobs and every
/// webhook paid most of a transaction (`BEGIN`, the events insert, `COMMIT` and its WAL
/// flush, and the wake-ups of the threads around them). A few milliseconds more per webhook
/// buy batches several times larger. Below one job per linger a writer would mostly wait
/// for nothing, so it does not wait.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(4);
/// How often the arrival rate is re-estimated.
const RATE_WINDOW: Duration = Duration::from_millis(50);

pub(crate) enum Conn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// One open write transaction, shared by the jobs of a batch.
pub struct Tx {
    pub(crate) conn: Conn,
    /// The batch's clock reading: one `now` per transaction keeps its rows consistent.
    pub now: i64,
    /// Events appended in this transaction, written and published when it ends.
    pub(crate) pending: Vec<super::events::Pending>,
    /// Sessions whose bot version this transaction has read (`bot_cache`, cluster mode).
    pub(crate) bots_checked: Vec<i64>,
    /// Bot events recorded in this transaction, added to the bots report's rollups when
    /// it ends.
    pub(crate) bot_facts: super::analytics::bots::Facts,
    /// Customers' messages written for the batch's jobs before they run.
    pub(crate) stage: super::ingest_fast::Stage,
}

impl Tx {
    pub(crate) fn dialect(&self) -> super::contact_filter::Dialect {
        match self.conn {
            Conn::Sqlite(_) => super::contact_filter::Dialect::Sqlite,
            Conn::Postgres(_) => super::contact_filter::Dialect::Postgres,
        }
    }
}

/// Cluster mode: the owner's hold on a WhatsApp session. A job that carries one commits
/// only while the session's stored token is still this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub session_id: i64,
    pub token: i64,
}

trait Job: Send {
    fn fence(&self) -> Option<Fence>;
    /// Offers the job's first write to the batch's stage; true when it took it.
    fn stage(&self, stage: &mut Stage) -> bool;
    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>>;
    fn finish(self: Box<Self>, outcome: Result<()>);
}

/// What a job offers the stage of its batch (`Writer::run_staged`).
pub(crate) type Stager<I> = fn(&I, &mut Stage) -> bool;

struct TypedJob<I, O, F> {
    fence: Option<Fence>,
    stager: Option<Stager<I>>,
    input: I,
    f: F,
    out: Option<O>,
    reply: oneshot::Sender<Result<O>>,
}

impl<I, O, F> Job for TypedJob<I, O, F>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O>> + Send + Sync + 'static,
{
    fn fence(&self) -> Option<Fence> {
        self.fence
    }

    fn stage(&self, stage: &mut Stage) -> bool {
        self.stager.is_some_and(|f| f(&self.input, stage))
    }

    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let out = (self.f)(tx, &self.input).await?;
            self.out = Some(out);
            Ok(())
        })
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        let result = match (outcome, self.out) {
            (Ok(()), Some(out)) => Ok(out),
            (Ok(()), None) => Err(StoreError::Database("job produced no output".into())),
            (Err(e), _) => Err(e),
        };
        // The caller may have gone away (a closed HTTP request); the write stands anyway.
        let _ = self.reply.send(result);
    }
}

/// Called with each committed batch's events, in seq order.
pub type PostCommit = Arc<dyn Fn(Vec<LoggedEvent>) + Send + Sync>;

/// Handle to the writer tasks.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    control: Arc<Control>,
    /// Carried by every job run through this handle (`fenced`).
    fence: Option<Fence>,
}

struct Control {
    closing: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    db: Db,
    clock: SharedClock,
    post_commit: PostCommit,
    jobs: Mutex<Intake>,
    /// Held from writing a batch's events to publishing them.
    turn: Mutex<()>,
    linger: Duration,
}

impl Writer {
    /// Starts the writer(s) on the current runtime. `post_commit` sees every committed
    /// event, in seq order.
    pub fn start(db: Db, clock: SharedClock, post_commit: PostCommit) -> Writer {
        Writer::start_lingering(db, clock, post_commit, DEFAULT_LINGER)
    }

    /// `start`, with how long a writer under load waits for more jobs (`DEFAULT_LINGER`).
    pub fn start_lingering(
        db: Db,
        clock: SharedClock,
        post_commit: PostCommit,
        linger: Duration,
    ) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let writers = match db {
            Db::Sqlite { .. } => 1,
            Db::Postgres(_) => PG_WRITERS,
        };
        let shared = Arc::new(Shared {
            db,
            clock,
            post_commit,
            jobs: Mutex::new(Intake::new(rx)),
            turn: Mutex::new(()),
            linger,
        });
        let (closing, closed) = watch::channel(false);
        let tasks = (0..writers)
            .map(|_| tokio::spawn(run(shared.clone(), closed.clone())))
            .collect();
        Writer {
            jobs: tx,
            control: Arc::new(Control {
                closing,
                tasks: std::sync::Mutex::new(tasks),
            }),
            fence: None,
        }
    }

    /// This writer, with every job it runs fenced by `fence` (a session owner's writes).
    pub fn fenced(&self, fence: Option<Fence>) -> Writer {
        Writer {
            fence,
            ..self.clone()
        }
    }

    /// Stops taking jobs, commits every job already queued, and returns once the writer
    /// tasks have finished.
    pub async fn close(&self) {
        let _ = self.control.closing.send(true);
        let tasks = std::mem::take(
            &mut *self
                .control
                .tasks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Runs `f` inside the next group-committed transaction and returns its output once
    /// that transaction has committed. `f` may run twice (alone, after its batch failed
    /// because of another job), so it must only write through the transaction.
    pub async fn run<I, O, F>(&self, input: I, f: F) -> Result<O>
    where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O>> + Send + Sync + 'static,
    {
        self.submit(input, None, f).await
    }

    /// `run`, with `stager` offering the job's first write to its batch's stage: written
    /// with the other jobs' in one statement before any job runs, then taken by `f`.
    pub(crate) async fn run_staged<I, O, F>(&self, input: I, stager: Stager<I>, f: F) -> Result<O>
    where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O>> + Send + Sync + 'static,
    {
        self.submit(input, Some(stager), f).await
    }

    async fn submit<I, O, F>(&self, input: I, stager: Option<Stager<I>>, f: F) -> Result<O>
    where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O>> + Send + Sync + 'static,
    {
        if *self.control.closing.borrow() {
            return Err(StoreError::WriterGone);
        }
        let (reply, rx) = oneshot::channel();
        let job = Box::new(TypedJob {
            fence: self.fence,
            stager,
            input,
            f,
            out: None,
            reply,
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        metrics::gauge!("tickhub_writer_queue_depth").set((QUEUE - self.jobs.capacity()) as f64);
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

pub(crate) async fn begin(db: &Db, now: i64) -> Result<Tx> {
    let conn = match db {
        // IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        // then writes fails at once with SQLITE_BUSY under contention.
        Db::Sqlite { write, .. } => Conn::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
        Db::Postgres(pool) => Conn::Postgres(pool.begin().await?),
    };
    Ok(Tx {
        conn,
        now,
        pending: Vec::new(),
        bots_checked: Vec::new(),
        bot_facts: Default::default(),
        stage: Default::default(),
    })
}

pub(crate) async fn commit(tx: Tx) -> Result<()> {
    match tx.conn {
        Conn::Sqlite(t) => t.commit().await?,
        Conn::Postgres(t) => t.commit().await?,
    }
    Ok(())
}

async fn rollback(tx: Tx) {
    let r = match tx.conn {
        Conn::Sqlite(t) => t.rollback().await,
        Conn::Postgres(t) => t.rollback().await,
    };
    if let Err(e) = r {
        debug!(error = %e, "rollback failed (the connection is dropped)");
    }
}

/// The ordered tail: the batch's events get their seqs, the transaction commits, and
/// the events are published, all in this writer's turn.
async fn finish_batch(shared: &Shared, mut tx: Tx) -> Result<()> {
    let _turn = shared.turn.lock().await;
    // The rollups after the events: their lock (PostgreSQL) orders nodes adding to the
    // same rows too.
    let flushed = match super::events::flush(&mut tx).await {
        Ok(e) => super::analytics::bots::flush(&mut tx).await.map(|()| e),
        Err(e) => Err(e),
    };
    let events = match flushed {
        Ok(e) => e,
        Err(e) => {
            rollback(tx).await;
            return Err(e);
        }
    };
    commit(tx).await?;
    if !events.is_empty() {
        (shared.post_commit)(events);
    }
    Ok(())
}

/// Runs jobs in one transaction and commits it.
async fn run_batch(shared: &Shared, jobs: &mut [Box<dyn Job>]) -> Result<()> {
    let mut tx = begin(&shared.db, shared.clock.now_ms()).await?;
    if let Err(e) = write_stage(&mut tx, jobs).await {
        rollback(tx).await;
        return Err(e);
    }
    let mut fences: Vec<Fence> = Vec::new();
    for job in jobs.iter_mut() {
        if let Some(f) = job.fence() {
            if !fences.contains(&f) {
                fences.push(f);
            }
        }
        if let Err(e) = job.run(&mut tx).await {
            rollback(tx).await;
            return Err(e);
        }
    }
    if tx.stage.untaken() > 0 {
        rollback(tx).await;
        return Err(StoreError::Database(
            "a staged message was not taken by its job".into(),
        ));
    }
    if let Err(e) = check_fences(&mut tx, &fences).await {
        rollback(tx).await;
        return Err(e);
    }
    finish_batch(shared, tx).await
}

/// Writes what the jobs staged, and puts the jobs that staged first, so that
/// each writes the rest of its work (and logs its events) straight after its staged rows,
/// before any other job of the batch touches them. Jobs of one batch were queued
/// concurrently, so any order among them is one they could have had.
async fn write_stage(tx: &mut Tx, jobs: &mut [Box<dyn Job>]) -> Result<()> {
    let staged: Vec<bool> = jobs.iter().map(|j| j.stage(&mut tx.stage)).collect();
    if tx.stage.is_empty() {
        return Ok(());
    }
    // a stable partition: staged jobs first, each group in queue order
    let mut front = 0;
    for (i, took) in staged.into_iter().enumerate() {
        if took {
            jobs[front..=i].rotate_right(1);
            front += 1;
        }
    }
    super::ingest_fast::write_stage(tx).await
}

/// Refuses the batch when a session it writes for has a newer owner. The share lock holds
/// until the commit, so a takeover (which raises the token) waits for this batch and every
/// later batch of the old owner sees the new token.
async fn check_fences(tx: &mut Tx, fences: &[Fence]) -> Result<()> {
    for f in fences {
        let token: Option<i64> = match &mut tx.conn {
            Conn::Postgres(t) => {
                sqlx::query_scalar("SELECT fence FROM wa_sessions WHERE id = $1 FOR SHARE")
                    .bind(f.session_id)
                    .fetch_optional(&mut **t)
                    .await?
            }
            // One process owns a SQLite file: there is no one to be fenced from.
            Conn::Sqlite(_) => Some(f.token),
        };
        if token != Some(f.token) {
            return Err(StoreError::Fenced {
                session_id: f.session_id,
            });
        }
    }
    Ok(())
}

/// The queue of jobs, with the arrival rate that decides whether a writer lingers.
struct Intake {
    rx: mpsc::Receiver<Box<dyn Job>>,
    window_start: Instant,
    in_window: u32,
    /// Jobs per second over the last whole window.
    rate: f64,
}

impl Intake {
    fn new(rx: mpsc::Receiver<Box<dyn Job>>) -> Intake {
        Intake {
            rx,
            window_start: Instant::now(),
            in_window: 0,
            rate: 0.0,
        }
    }

    fn count(&mut self, jobs: usize, now: Instant) {
        self.in_window += jobs as u32;
        let elapsed = now.duration_since(self.window_start);
        if elapsed >= RATE_WINDOW {
            self.rate = f64::from(self.in_window) / elapsed.as_secs_f64();
            self.in_window = 0;
            self.window_start = now;
        }
    }

    fn take_queued(&mut self, batch: &mut Vec<Box<dyn Job>>) {
        while batch.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
    }
}

/// The next batch: waits for a job, then takes what else is queued, and under load what
/// arrives within the linger of the first. Once `closed` is set, only what is already queued
/// (`None` when nothing is).
async fn next_batch(
    shared: &Shared,
    closed: &mut watch::Receiver<bool>,
) -> Option<Vec<Box<dyn Job>>> {
    let mut intake = shared.jobs.lock().await;
    let first = if *closed.borrow() {
        intake.rx.try_recv().ok()?
    } else {
        tokio::select! {
            job = intake.rx.recv() => job?,
            _ = closed.wait_for(|c| *c) => intake.rx.try_recv().ok()?,
        }
    };
    let arrived = Instant::now();
    let mut batch = Vec::with_capacity(16);
    batch.push(first);
    intake.take_queued(&mut batch);
    let linger = shared.linger;
    if !linger.is_zero() && intake.rate * linger.as_secs_f64() >= 1.0 && !*closed.borrow() {
        // One sleep, not a wake-up per arriving job: at 1,000 webhooks/s the writer's
        // thread switched in three times a webhook.
        if batch.len() < MAX_BATCH {
            tokio::time::sleep_until(tokio::time::Instant::from_std(arrived + linger)).await;
            intake.take_queued(&mut batch);
        }
    }
    intake.count(batch.len(), Instant::now());
    Some(batch)
}

async fn run(shared: Arc<Shared>, mut closed: watch::Receiver<bool>) {
    while let Some(mut batch) = next_batch(&shared, &mut closed).await {
        let started = std::time::Instant::now();
        let size = batch.len();
        match run_batch(&shared, &mut batch).await {
            Ok(()) => {
                for job in batch.drain(..) {
                    job.finish(Ok(()));
                }
            }
            Err(e) if size == 1 => {
                debug!(error = %e, "write failed");
                if let Some(job) = batch.pop() {
                    job.finish(Err(e));
                }
            }
            Err(StoreError::Unavailable(reason)) => {
                // The database itself is away (down, locked, out of connections): every
                // job would fail the same way, slowly. Fail them all now; callers retry.
                warn!(%reason, size, "database unavailable; batch failed");
                for job in batch.drain(..) {
                    job.finish(Err(StoreError::Unavailable(reason.clone())));
                }
            }
            Err(e) => {
                // One job may have failed for its own reasons: run each alone so the
                // others still commit and only the bad one reports an error.
                warn!(error = %e, size, "batch failed; retrying its jobs one by one");
                for mut job in batch.drain(..) {
                    let outcome = run_batch(&shared, std::slice::from_mut(&mut job)).await;
                    job.finish(outcome);
                }
            }
        }
        metrics::histogram!("tickhub_writer_batch_size").record(size as f64);
        metrics::histogram!("tickhub_writer_batch_seconds").record(started.elapsed().as_secs_f64());
    }
}
