//! A websocket client speaking the hub's protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Socket {
    stream: Stream,
    pub hello: Value,
    /// Highest seq seen.
    pub last_seq: i64,
}

impl Socket {
    pub async fn connect(http_url: &str, token: &str, since: Option<i64>) -> Socket {
        let mut url = format!(
            "{}/ws?token={token}",
            http_url.replacen("http://", "ws://", 1)
        );
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connect");
        let mut s = Socket {
            stream,
            hello: Value::Null,
            last_seq: 0,
        };
        let hello = s.next(Duration::from_secs(10)).await.expect("hello frame");
        assert_eq!(hello["type"], "hello", "first frame must be hello: {hello}");
        s.last_seq = hello["seq"].as_i64().expect("hello seq");
        s.hello = hello;
        s
    }

    /// The next JSON frame, or `None` after `wait`. Checks seq only increases.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match msg.expect("websocket read") {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).expect("frames are JSON");
                    if let Some(seq) = v["seq"].as_i64() {
                        if v["type"] != "hello" {
                            assert!(
                                seq > self.last_seq,
                                "seq went from {} to {seq}: {v}",
                                self.last_seq
                            );
                            self.last_seq = seq;
                        }
                    }
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Like `next`, for sockets that may end under the test (a node killed, a drain):
    /// `Ok(None)` after `wait`, `Err(why)` once the socket has ended (a close frame, or
    /// the connection dropped), where `next` would panic.
    pub async fn recv(&mut self, wait: Duration) -> Result<Option<Value>, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err("the connection ended".into()),
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).expect("frames are JSON");
                    if let (Some(seq), false) = (v["seq"].as_i64(), v["type"] == "hello") {
                        assert!(
                            seq > self.last_seq,
                            "seq went from {} to {seq}: {v}",
                            self.last_seq
                        );
                        self.last_seq = seq;
                    }
                    return Ok(Some(v));
                }
                Message::Close(f) => {
                    return Err(format!(
                        "closed: {}",
                        f.map(|f| f.reason.to_string()).unwrap_or_default()
                    ))
                }
                _ => continue,
            }
        }
    }

    /// Waits for a frame of `kind` matching `pred`, skipping others.
    pub async fn expect(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(kind, Duration::from_secs(10), pred)
            .await
    }

    /// `expect` with a deadline of `wait`.
    pub async fn expect_within(
        &mut self,
        kind: &str,
        wait: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(v) if v["type"] == kind && pred(&v["data"]) => return v,
                Some(_) => continue,
                None => panic!("no {kind} frame matched within {wait:?}"),
            }
        }
    }

    /// Collects frames until `done` holds for the frames so far, or `wait` passes.
    pub async fn collect_until(
        &mut self,
        wait: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while !done(&out) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    /// Every frame that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.next(wait).await {
            out.push(v);
        }
        out
    }

    /// Reads until the server closes the socket; its close reason (`None` if the socket
    /// did not close within `wait`).
    pub async fn closed_within(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(String::new()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map(|f| f.reason.to_string()).unwrap_or_default())
                }
                Ok(Some(Err(_))) => return Some(String::new()),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends a raw text frame (for malformed commands).
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_string().into()))
            .await
            .expect("websocket send");
    }

    /// Sends websocket-level ping and pong frames, as a hidden tab answering the hub's
    /// pings does (they keep the socket alive but are no activity of the member).
    pub async fn send_keepalive(&mut self) {
        for m in [
            Message::Ping(Vec::new().into()),
            Message::Pong(Vec::new().into()),
        ] {
            self.stream.send(m).await.expect("websocket send");
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("websocket send");
    }
}
