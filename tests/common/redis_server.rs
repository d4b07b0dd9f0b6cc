//! A `redis-server` of the test's own, on a free loopback port, so a test can stop and
//! restart it (a Redis outage) without disturbing any other test. It keeps nothing on
//! disk: a restart is a Redis that forgot everything, as after a crash without
//! persistence.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::proc::free_port;

/// The path of an external program the cluster tests need: `$var` when set, else the
/// first `name` on PATH or in the sbin directories (Debian puts nginx in /usr/sbin, which
/// is not on a non-root PATH). Missing, the test fails saying what to install: nothing
/// is skipped.
pub fn tool(var: &str, name: &str, package: &str) -> String {
    if let Ok(p) = std::env::var(var) {
        if !p.is_empty() {
            return p;
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path
        .split(':')
        .map(str::to_string)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(String::from));
    for d in dirs {
        let p = std::path::Path::new(&d).join(name);
        if p.is_file() {
            return p.display().to_string();
        }
    }
    panic!(
        "the cluster tests need {name}: install it (Debian/Ubuntu: apt-get install {package}) \
         or set {var}=<path>; scripts/test checks this before running the suites"
    )
}

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    bin: String,
    dir: tempfile::TempDir,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let mut r = RedisServer {
            child: None,
            port: free_port(),
            bin: tool("TICKHUB_TEST_REDIS_SERVER", "redis-server", "redis-server"),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        r.spawn().await;
        r
    }

    /// `redis://127.0.0.1:PORT`, the nodes' `REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("redis.log"))
            .expect("redis log file");
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin));
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.answers().await {
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "redis-server did not answer PING on port {} within 20 s; its log:\n{}",
                    self.port,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether this Redis answers PING (one short-lived connection, no client library).
    pub async fn answers(&self) -> bool {
        let ping = async {
            let mut c = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .ok()?;
            c.write_all(b"PING\r\n").await.ok()?;
            let mut buf = [0u8; 7];
            c.read_exact(&mut buf).await.ok()?;
            Some(&buf == b"+PONG\r\n")
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Some(true))
        )
    }

    /// Redis dies (`kill -9`): every node's connection to it breaks, new ones are refused.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills Redis (when it runs) and starts it again, empty, on the same port; returns
    /// once it answers.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
