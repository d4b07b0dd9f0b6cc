//! Leases in Redis: a key holding the holder's node id, with an expiry the holder renews.
//! Who holds a lease decides who may act; what keeps a former holder from writing after
//! it lost one is the fencing token in the database (`store::writer::Fence`), not this.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;

use super::wire::PREFIX;

pub fn session_key(session_id: i64) -> String {
    format!("{PREFIX}:session:{session_id}:owner")
}

pub fn coordinator_key() -> String {
    format!("{PREFIX}:coordinator")
}

pub fn nodes_key() -> String {
    format!("{PREFIX}:nodes")
}

/// What renewing a lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewed {
    /// Still ours, for another period.
    Held,
    /// The key was gone (Redis restarted empty) and is ours again. The holder keeps its
    /// fencing token: had anyone else taken the lease meanwhile, they would have raised
    /// the token and the holder's next write would be refused.
    Retaken,
    /// Someone else holds it now.
    Lost,
}

fn renew_script() -> Script {
    Script::new(
        r"local v = redis.call('GET', KEYS[1])
          if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
          if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
          return 0",
    )
}

fn release_script() -> Script {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
          return 0",
    )
}

/// Records this node as alive (on Redis's clock, so nodes' clocks need not agree) and
/// answers the nodes alive within `ttl`.
fn heartbeat_script() -> Script {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          if ARGV[3] == '1' then redis.call('ZADD', KEYS[1], now, ARGV[1])
          else redis.call('ZREM', KEYS[1], ARGV[1]) end
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
          return redis.call('ZRANGE', KEYS[1], 0, -1)",
    )
}

pub async fn acquire(
    c: &mut ConnectionManager,
    key: &str,
    node: &str,
    ttl: Duration,
) -> redis::RedisResult<bool> {
    let r: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(node)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query_async(c)
        .await?;
    Ok(r.is_some())
}

pub async fn renew(
    c: &mut ConnectionManager,
    key: &str,
    node: &str,
    ttl: Duration,
) -> redis::RedisResult<Renewed> {
    let r: i64 = renew_script()
        .key(key)
        .arg(node)
        .arg(ttl.as_millis() as u64)
        .invoke_async(c)
        .await?;
    Ok(match r {
        1 => Renewed::Held,
        2 => Renewed::Retaken,
        _ => Renewed::Lost,
    })
}

pub async fn release(c: &mut ConnectionManager, key: &str, node: &str) -> redis::RedisResult<()> {
    let _: i64 = release_script().key(key).arg(node).invoke_async(c).await?;
    Ok(())
}

/// `alive: false` takes the node out at once (draining).
pub async fn heartbeat(
    c: &mut ConnectionManager,
    node: &str,
    ttl: Duration,
    alive: bool,
) -> redis::RedisResult<Vec<String>> {
    heartbeat_script()
        .key(nodes_key())
        .arg(node)
        .arg(ttl.as_millis() as u64)
        .arg(if alive { "1" } else { "0" })
        .invoke_async(c)
        .await
}

/// The holders of `keys`, in order (`None`: nobody).
pub async fn holders(
    c: &mut ConnectionManager,
    keys: &[String],
) -> redis::RedisResult<Vec<Option<String>>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    redis::cmd("MGET").arg(keys).query_async(c).await
}
