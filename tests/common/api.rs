//! A client of the hub's HTTP API holding a member's token: the one every test that
//! drives the API through HTTP uses.

use std::time::Duration;

use serde_json::Value;

use super::status_json;

/// A client of the hub's API at `base` holding `token`.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Logs in at `base` as `email`.
    pub async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> Api {
        Api {
            http: http.clone(),
            base: base.to_string(),
            token: super::login(http, base, email, password).await,
        }
    }

    /// Another member's client on the same hub.
    pub async fn as_member(&self, email: &str, password: &str) -> Api {
        Api::login(&self.http, &self.base, email, password).await
    }

    /// `method path` (with a body, or `None`) that must succeed (2xx): its JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: impl Into<Option<Value>>,
    ) -> Value {
        let (code, v) = self.request(method.clone(), path, body.into()).await;
        assert!((200..300).contains(&code), "{method} {path}: {code} {v}");
        v
    }

    /// `GET path` that must answer 200: its JSON body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (code, v) = self.get(path).await;
        assert_eq!(code, 200, "GET {path}: {v}");
        v
    }

    /// The id of the conversation with `chat_id`, once the inbox lists it (20 s at most).
    pub async fn conversation_id(&self, chat_id: &str) -> i64 {
        let has = |c: &Value| c["chat_id"] == chat_id;
        let list = self
            .until("/api/conversations", |l| {
                l["items"].as_array().is_some_and(|i| i.iter().any(has))
            })
            .await;
        list["items"]
            .as_array()
            .and_then(|i| i.iter().find(|c| has(c)))
            .and_then(|c| c["id"].as_i64())
            .expect("the conversation has an id")
    }

    /// `eventually` within 20 s.
    pub async fn until(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.eventually(path, Duration::from_secs(20), pred).await
    }

    /// `method path` with an optional JSON body: (status, JSON body); a transport error
    /// (the node is down) is status 0 with the error as the body.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(30));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => status_json(r).await,
            Err(e) => (0, Value::String(e.to_string())),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// Waits (at most `wait`) until GET `path` answers 200 with a body `pred` accepts.
    pub async fn eventually(
        &self,
        path: &str,
        wait: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        super::poll(path, wait, pred, || self.get(path)).await
    }

    /// The items of every page of the list at `first` (a path with a query).
    pub async fn all_pages(&self, first: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = first.to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", super::urlencode(c)));
            }
            let (code, page) = self.get(&path).await;
            assert_eq!(code, 200, "GET {path}: {page}");
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}
