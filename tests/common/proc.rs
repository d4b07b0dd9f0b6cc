//! The hub and the simulator as real processes of the `tickhub` binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_tickhub");

/// Starts a child and waits for its "<what> listening on http://ADDR" line.
fn spawn(mut cmd: Command, what: &str) -> (Child, String) {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn tickhub");
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
        Ok(url) => (child, url),
        Err(_) => {
            let _ = child.kill();
            panic!("{what} did not start within 60 s");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub struct Sim {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        let mut cmd = Command::new(BIN);
        cmd.args(["waha-sim", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn");
        let (child, url) = spawn(cmd, "waha-sim");
        Sim {
            child,
            url,
            http: reqwest::Client::new(),
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
}

impl Hub {
    pub async fn start(db: &TestDb, waha_url: &str, extra: Vec<(String, String)>) -> Hub {
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
        let mut hub = Hub {
            child: None,
            url: String::new(),
            port,
            env,
        };
        hub.spawn();
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
        let mut cmd = self.command();
        cmd.arg("serve");
        let (child, url) = spawn(cmd, "tickhub");
        self.child = Some(child);
        self.url = url;
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
