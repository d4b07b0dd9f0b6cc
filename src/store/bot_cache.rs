//! Compiled bots, cached per session so a message is matched without reading or compiling
//! the bot again. An entry is trusted for `RECHECK` after it was read, and dropped at once
//! when this node changes a bot (`invalidate`); after `RECHECK` the bot's version is read
//! again (one indexed row) and the compiled matcher kept when it is unchanged.
//!
//! In a cluster a bot may change on any node, so the cache is `strict`: the version is read
//! once per transaction that uses the session's bot (a batch of webhooks reads it once),
//! and a message applied after a change committed anywhere meets the changed bot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tracing::warn;

use super::{bots, Db, Result, Tx};
use crate::domain::bot::CompiledBot;

const RECHECK: Duration = Duration::from_secs(5);

struct Entry {
    checked: Instant,
    generation: u64,
    /// The bot and version this entry holds (`None`: the session has no active bot).
    version: Option<(i64, i64)>,
    bot: Option<Arc<CompiledBot>>,
}

#[derive(Default)]
pub struct BotCache {
    sessions: DashMap<i64, Entry>,
    generation: AtomicU64,
    strict: bool,
}

impl BotCache {
    /// `strict`: bots may change on other nodes (cluster mode).
    pub fn new(strict: bool) -> BotCache {
        BotCache {
            strict,
            ..BotCache::default()
        }
    }

    /// The active bot serving `session_id`, compiled.
    pub async fn for_session(
        &self,
        tx: &mut Tx,
        session_id: i64,
    ) -> Result<Option<Arc<CompiledBot>>> {
        let generation = self.generation.load(Ordering::Acquire);
        let fresh_in_tx = tx.bots_checked.contains(&session_id);
        if let Some(e) = self.sessions.get(&session_id) {
            let trusted = match self.strict {
                true => fresh_in_tx,
                false => e.checked.elapsed() < RECHECK,
            };
            if e.generation == generation && trusted {
                return Ok(e.bot.clone());
            }
        }
        let version = bots::active_for_session_in(tx, session_id).await?;
        if self.strict && !fresh_in_tx {
            tx.bots_checked.push(session_id);
        }
        let kept = self
            .sessions
            .get(&session_id)
            .filter(|e| e.version == version)
            .map(|e| e.bot.clone());
        let bot = match (kept, version) {
            (Some(bot), _) => bot,
            (None, None) => None,
            (None, Some((bot_id, _))) => {
                let def = bots::def_in(tx, bot_id).await?;
                match CompiledBot::compile(def) {
                    Ok(b) => Some(Arc::new(b)),
                    // Saved definitions were validated; one that no longer compiles (a
                    // stricter engine) leaves the session without a bot rather than stuck.
                    Err(e) => {
                        warn!(bot_id, error = %e, "the bot does not compile; it is not used");
                        None
                    }
                }
            }
        };
        self.sessions.insert(
            session_id,
            Entry {
                checked: Instant::now(),
                generation,
                version,
                bot: bot.clone(),
            },
        );
        Ok(bot)
    }

    /// A bot changed on this node: every entry is read again before its next use.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Compiles the bots of `sessions` now, on a blocking thread, so the next message there
    /// finds them ready instead of compiling inside its transaction (a bot of a thousand
    /// triggers takes tens of milliseconds to compile). Call after `invalidate`.
    pub async fn warm(&self, db: &Db, sessions: &[i64]) -> Result<()> {
        let generation = self.generation.load(Ordering::Acquire);
        for &session_id in sessions {
            let version = bots::active_for_session(db, session_id).await?;
            let bot = match version {
                None => None,
                Some((bot_id, _)) => {
                    let Some(def) = bots::def(db, bot_id).await? else {
                        continue;
                    };
                    match tokio::task::spawn_blocking(move || CompiledBot::compile(def)).await {
                        Ok(Ok(b)) => Some(Arc::new(b)),
                        // The next message reads and compiles it again, and says why.
                        _ => continue,
                    }
                }
            };
            self.sessions.insert(
                session_id,
                Entry {
                    checked: Instant::now(),
                    generation,
                    version,
                    bot,
                },
            );
        }
        Ok(())
    }
}
