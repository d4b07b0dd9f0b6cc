//! An agent's browser tab in a cluster: a websocket that, when it ends (its node killed
//! or drained, or the hub closing it), reconnects through nginx with `since` = the last
//! seq it saw, as the web app does, and keeps every frame it got across reconnects.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::cluster::Cluster;
use super::Socket;

pub struct Agent {
    pub name: String,
    pub token: String,
    socket: Option<Socket>,
    /// Every frame but `hello`, across reconnects, in arrival order.
    pub frames: Vec<Value>,
    /// The highest seq seen (what a reconnect passes as `since`).
    pub last_seq: i64,
    /// The node of each connection's `hello`, in order.
    pub nodes: Vec<String>,
    /// Why each earlier connection ended.
    pub ended: Vec<String>,
}

impl Agent {
    /// A tab open straight on node `i`.
    pub async fn on_node(c: &Cluster, i: usize, name: &str, token: &str) -> Agent {
        let s = c.socket(i, token, None).await;
        Self::with(name, token, s)
    }

    /// A tab opened through nginx.
    pub async fn via_lb(c: &Cluster, name: &str, token: &str) -> Agent {
        let s = c.lb_socket(token, None).await;
        Self::with(name, token, s)
    }

    fn with(name: &str, token: &str, s: Socket) -> Agent {
        Agent {
            name: name.into(),
            token: token.into(),
            last_seq: s.last_seq,
            nodes: vec![s.hello["data"]["node"].as_str().unwrap_or("").to_string()],
            socket: Some(s),
            frames: Vec::new(),
            ended: Vec::new(),
        }
    }

    /// The node of the current connection's `hello`.
    pub fn node(&self) -> &str {
        self.nodes.last().map(String::as_str).unwrap_or("")
    }

    pub fn reconnects(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The tab goes away (closed, or its network dropped); `reconnect` brings it back.
    pub fn disconnect(&mut self) {
        self.socket = None;
    }

    /// Opens the tab again through nginx with `since` = the last seq seen.
    pub async fn reconnect(&mut self, c: &Cluster) {
        let s = c.lb_socket(&self.token, Some(self.last_seq)).await;
        assert_eq!(
            s.hello["seq"], self.last_seq,
            "{}: hello after since={} says {}",
            self.name, self.last_seq, s.hello
        );
        self.nodes
            .push(s.hello["data"]["node"].as_str().unwrap_or("").to_string());
        self.socket = Some(s);
    }

    /// Reads frames until `done` holds for all frames so far (at most `wait`); a socket
    /// that ends is reopened through nginx with `since`. Fails the test after `wait`.
    pub async fn read_until(
        &mut self,
        c: &Cluster,
        wait: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) {
        if !self.try_read_until(c, wait, done).await {
            panic!(
                "{}: condition not met within {wait:?}; {}",
                self.name,
                self.summary()
            );
        }
    }

    /// `read_until` that answers whether `done` came to hold instead of failing.
    pub async fn try_read_until(
        &mut self,
        c: &Cluster,
        wait: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !done(&self.frames) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.socket.is_none() {
                self.reconnect(c).await;
            }
            let Some(s) = self.socket.as_mut() else {
                continue;
            };
            match s.recv(left.min(Duration::from_millis(500))).await {
                Ok(None) => {}
                Ok(Some(v)) => {
                    if let Some(seq) = v["seq"].as_i64() {
                        // Within a connection `recv` checks this; across reconnects, here.
                        assert!(
                            seq > self.last_seq,
                            "{}: seq went from {} to {seq} across a reconnect: {v}",
                            self.name,
                            self.last_seq
                        );
                        self.last_seq = seq;
                    }
                    self.frames.push(v);
                }
                Err(why) => {
                    self.ended.push(why);
                    self.socket = None;
                }
            }
        }
        true
    }

    /// What the tab went through, for failure messages: frames (type and seq of the
    /// last few), nodes, why connections ended.
    pub fn summary(&self) -> String {
        let last: Vec<String> = self.frames[self.frames.len().saturating_sub(8)..]
            .iter()
            .map(|v| format!("{}@{}", v["type"].as_str().unwrap_or("?"), v["seq"]))
            .collect();
        format!(
            "{} frames ({} message.created), last seq {}, nodes {:?}, ended {:?}, last frames {last:?}",
            self.frames.len(),
            self.created().len(),
            self.last_seq,
            self.nodes,
            self.ended
        )
    }

    /// Reads until a `message.created` whose `waha_id` is `waha_id` has arrived.
    pub async fn read_until_message(&mut self, c: &Cluster, waha_id: &str, wait: Duration) {
        self.read_until(c, wait, |f| {
            f.iter()
                .any(|v| v["type"] == "message.created" && v["data"]["waha_id"] == waha_id)
        })
        .await
    }

    /// The `message.created` frames received, in order.
    pub fn created(&self) -> Vec<&Value> {
        self.frames
            .iter()
            .filter(|v| v["type"] == "message.created")
            .collect()
    }

    /// Checks each of `ids` (stored messages) came as exactly one `message.created`, and
    /// nothing else did.
    pub fn assert_each_message_once(&self, ids: &BTreeSet<i64>) {
        let got: Vec<i64> = self
            .created()
            .iter()
            .map(|v| v["data"]["id"].as_i64().expect("message id"))
            .collect();
        let unique: BTreeSet<i64> = got.iter().copied().collect();
        assert_eq!(
            unique.len(),
            got.len(),
            "{}: a message.created came twice (ids {got:?})",
            self.name
        );
        let missing: Vec<_> = ids.difference(&unique).collect();
        let extra: Vec<_> = unique.difference(ids).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: {} stored messages never came as message.created: {missing:?}; unexpected: {extra:?}; {}",
            self.name,
            missing.len(),
            self.summary()
        );
    }

    /// The seqs of the `message.created` frames, to compare agents with the same access.
    pub fn created_seqs(&self) -> Vec<i64> {
        self.created()
            .iter()
            .filter_map(|v| v["seq"].as_i64())
            .collect()
    }
}
