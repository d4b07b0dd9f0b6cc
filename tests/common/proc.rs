//! The hub and the simulator as real processes of the `tickhub` binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_tickhub");

/// What a hub wrote to stderr (its logs), kept when the test asks for it.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<String>>, Option<Arc<str>>);

impl Logs {
    /// Logs whose lines are echoed to the test's stderr behind `[label]`, so the
    /// interleaved logs of several hubs (a cluster's nodes) say which node wrote what.
    pub fn labelled(label: &str) -> Logs {
        Logs(Arc::default(), Some(label.into()))
    }

    pub fn text(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Copies `stderr` into the buffer (and on to the test's own stderr, as an inherited
    /// one would show it) until it closes.
    fn follow(&self, stderr: std::process::ChildStderr) -> std::thread::JoinHandle<()> {
        let buf = self.0.clone();
        let label = self.1.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                match &label {
                    Some(l) => eprintln!("[{l}] {line}"),
                    None => eprintln!("{line}"),
                }
                if let Ok(mut b) = buf.lock() {
                    b.push_str(&line);
                    b.push('\n');
                }
            }
        })
    }
}

/// Starts a child and waits for its "<what> listening on http://ADDR" line.
fn spawn(cmd: Command, what: &str) -> (Child, String) {
    let (child, url, _) = spawn_logged(cmd, what, None);
    (child, url)
}

/// `spawn`, with the child's stderr copied into `logs` when given.
fn spawn_logged(
    cmd: Command,
    what: &str,
    logs: Option<&Logs>,
) -> (Child, String, Option<std::thread::JoinHandle<()>>) {
    match try_spawn_logged(cmd, what, logs) {
        Ok(started) => started,
        Err(why) => panic!("{what} {why}"),
    }
}

type Started = (Child, String, Option<std::thread::JoinHandle<()>>);

/// `spawn_logged`, telling a child that exited before listening (a port another test took
/// between `free_port` and the bind) from one that never started.
fn try_spawn_logged(mut cmd: Command, what: &str, logs: Option<&Logs>) -> Result<Started, String> {
    cmd.stdout(Stdio::piped())
        .stderr(if logs.is_some() {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn tickhub");
    let reader = match (logs, child.stderr.take()) {
        (Some(logs), Some(stderr)) => Some(logs.follow(stderr)),
        _ => None,
    };
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let prefix = format!("{what} listening on ");
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut sent = false;
        while let Some(Ok(line)) = lines.next() {
            if !sent {
                if let Some(url) = line.strip_prefix(&prefix) {
                    let _ = tx.send(url.trim().to_string());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => Ok((child, url, reader)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("exited before listening ({status})"))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let _ = child.kill();
            Err("did not start within 60 s".into())
        }
    }
}

/// A port nothing listens on: any the system gives, or, with `TICKHUB_TEST_PORTS=LOW-HIGH`
/// set, one of that range (for machines where several suites share the ports and each
/// keeps to its own range).
pub fn free_port() -> u16 {
    if let Some((low, high)) = port_range() {
        let span = u32::from(high - low) + 1;
        let start = (std::process::id() ^ uuid::Uuid::new_v4().as_u128() as u32) % span;
        for i in 0..span {
            let port = low + ((start + i) % span) as u16;
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
        panic!("TICKHUB_TEST_PORTS: no free port in {low}-{high}");
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn port_range() -> Option<(u16, u16)> {
    let v = std::env::var("TICKHUB_TEST_PORTS").ok()?;
    let (low, high) = v.split_once('-')?;
    let (low, high) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
    (low <= high).then_some((low, high))
}

/// The address a child server listens on: port 0 (the system chooses), or one of
/// `TICKHUB_TEST_PORTS`.
pub fn listen_addr() -> String {
    match port_range() {
        Some(_) => format!("127.0.0.1:{}", free_port()),
        None => "127.0.0.1:0".into(),
    }
}

pub struct Sim {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        Self::start_with(&[]).await
    }

    /// `start` with more of the simulator's options (`--api-key K`, …).
    pub async fn start_with(args: &[String]) -> Sim {
        let mut cmd = Command::new(BIN);
        cmd.args(["waha-sim", "--listen", &listen_addr()])
            .args(args)
            .env("RUST_LOG", "warn");
        let (child, url) = spawn(cmd, "waha-sim");
        Sim {
            child,
            url,
            http: super::http_client(),
        }
    }

    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.url, path))
            .json(&body)
            .send()
            .await
            .expect("sim control");
        super::status_json(r).await
    }

    /// A control call that must answer 201 Created; returns its body.
    pub async fn control_created(&self, path: &str, body: Value) -> Value {
        let (code, r) = self.control(path, body.clone()).await;
        assert_eq!(code, 201, "sim {path} {body}: {r}");
        r
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{}", self.url, path))
            .send()
            .await
            .expect("sim get");
        super::status_json(r).await.1
    }

    /// The sends of `text` WAHA put through to the customer.
    pub async fn sent_with(&self, text: &str) -> Vec<Value> {
        self.sent()
            .await
            .into_iter()
            .filter(|m| m["text"] == text)
            .collect()
    }

    /// Every send WAHA accepted, in order.
    pub async fn sent(&self) -> Vec<Value> {
        self.get("/sim/sent")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Hub {
    child: Option<Child>,
    pub url: String,
    pub port: u16,
    env: Vec<(String, String)>,
    /// Set by `start_logged`: everything the hub wrote to stderr.
    logs: Option<Logs>,
    log_readers: Vec<std::thread::JoinHandle<()>>,
}

impl Hub {
    pub async fn start(db: &TestDb, waha_url: &str, extra: Vec<(String, String)>) -> Hub {
        Self::start_with(db, waha_url, extra, None).await
    }

    /// `start`, keeping what the hub writes to stderr (its logs) for `logs`.
    pub async fn start_logged(db: &TestDb, waha_url: &str, extra: Vec<(String, String)>) -> Hub {
        Self::start_with(db, waha_url, extra, Some(Logs::default())).await
    }

    /// `start` with the logs kept in `logs` when given (e.g. `Logs::labelled`).
    pub async fn start_with(
        db: &TestDb,
        waha_url: &str,
        extra: Vec<(String, String)>,
        logs: Option<Logs>,
    ) -> Hub {
        let port = free_port();
        let mut env = vec![
            ("DATABASE_URL".to_string(), db.url.clone()),
            ("WAHA_URL".to_string(), waha_url.to_string()),
            ("TICKHUB_BIND".to_string(), format!("127.0.0.1:{port}")),
            (
                "RUST_LOG".to_string(),
                std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ];
        for (k, v) in extra {
            env.retain(|(ek, _)| *ek != k);
            env.push((k, v));
        }
        let own_port = !env
            .iter()
            .any(|(k, v)| k == "TICKHUB_BIND" && !v.ends_with(&format!(":{port}")));
        let mut hub = Hub {
            child: None,
            url: String::new(),
            port,
            env,
            logs,
            log_readers: Vec::new(),
        };
        // The free port may be taken by another test before the hub binds it: a hub that
        // exits before listening gets another port (unless the test chose the address).
        for attempt in 1.. {
            match hub.try_spawn() {
                Ok(()) => break,
                Err(why) if own_port && attempt < 5 => {
                    eprintln!("tickhub {why}; trying another port");
                    hub.port = free_port();
                    let bind = format!("127.0.0.1:{}", hub.port);
                    for (k, v) in hub.env.iter_mut() {
                        if k == "TICKHUB_BIND" {
                            *v = bind.clone();
                        }
                    }
                }
                Err(why) => panic!("tickhub {why}"),
            }
        }
        hub
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    fn spawn(&mut self) {
        if let Err(why) = self.try_spawn() {
            panic!("tickhub {why}");
        }
    }

    fn try_spawn(&mut self) -> Result<(), String> {
        let mut cmd = self.command();
        cmd.arg("serve");
        let (child, url, reader) = try_spawn_logged(cmd, "tickhub", self.logs.as_ref())?;
        self.child = Some(child);
        self.url = url;
        self.log_readers.extend(reader);
        Ok(())
    }

    /// What the hub has written to stderr so far (`start_logged` only).
    pub fn logs(&self) -> String {
        self.logs
            .as_ref()
            .expect("start the hub with start_logged to read its logs")
            .text()
    }

    /// Waits (at most `wait`) until the hub's logs hold `needle`; the logs.
    pub async fn wait_for_log(&self, needle: &str, wait: Duration) -> String {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("the hub never logged {needle:?} within {wait:?}; logs:\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the hub (SIGTERM, as an operator would) and returns everything it logged,
    /// to the last line: its stderr has closed.
    pub async fn stop_and_logs(&mut self) -> String {
        let status = self.terminate(Duration::from_secs(30)).await;
        assert!(status.success(), "the hub exited with {status}");
        for r in self.log_readers.drain(..) {
            let _ = r.join();
        }
        self.logs()
    }

    pub fn create_admin(&self, email: &str, password: &str) {
        let out = self
            .command()
            .args([
                "create-admin",
                "--email",
                email,
                "--name",
                "Test Admin",
                "--password",
                password,
            ])
            .output()
            .expect("create-admin");
        assert!(
            out.status.success(),
            "create-admin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `tickhub <args>` with the hub's environment and returns what it did
    /// (for commands expected to fail).
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tickhub")
    }

    /// `kill -9`: no graceful shutdown, nothing flushed.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits (at most `wait`) for the hub to exit; its exit status.
    pub async fn terminate(&mut self, wait: Duration) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("the hub is running");
        let sent = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = std::time::Instant::now() + wait;
        loop {
            if let Some(status) = c.try_wait().expect("wait for the hub") {
                return status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = c.kill();
                panic!("the hub did not exit within {wait:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the hub's process is still running (not killed, not exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Starts the hub again on the same port and database.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill9();
    }
}
