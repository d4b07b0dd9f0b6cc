//! The hub's client for WAHA's REST API. WAHA's answers differ by version and engine, so
//! every answer is read leniently: any 2xx is success, unknown fields are ignored and
//! missing ones tolerated.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum WahaError {
    #[error("WAHA answered {status}: {body}")]
    Http { status: u16, body: String },
    #[error("WAHA unreachable: {0}")]
    Transport(String),
    #[error("unexpected answer from WAHA: {0}")]
    Decode(String),
}

impl WahaError {
    /// Worth trying again later: WAHA or the network is having a moment, or the session
    /// is not WORKING yet (422). Other 4xx will not change by retrying.
    pub fn is_retryable(&self) -> bool {
        match self {
            WahaError::Transport(_) => true,
            WahaError::Http { status, .. } => {
                *status >= 500 || *status == 429 || *status == 422 || *status == 408
            }
            WahaError::Decode(_) => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, WahaError::Http { status: 404, .. })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MeInfo {
    pub id: String,
    #[serde(rename = "pushName", default)]
    pub push_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionInfo {
    pub name: String,
    #[serde(default = "unknown")]
    pub status: String,
    #[serde(default)]
    pub me: Option<MeInfo>,
    #[serde(default)]
    pub engine: Option<Value>,
    #[serde(default)]
    pub config: Option<Value>,
}

fn unknown() -> String {
    "UNKNOWN".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Qr {
    pub mimetype: String,
    pub data: String,
}

/// A file WAHA fetches and sends (`sendImage`, `sendFile`).
#[derive(Debug, Clone, Serialize)]
pub struct FileRef {
    pub url: String,
    pub mimetype: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// An image or a file with its caption; `id` as in [`SendText`].
#[derive(Debug, Clone, Serialize)]
pub struct SendFile {
    pub session: String,
    #[serde(rename = "chatId")]
    pub chat_id: String,
    pub file: FileRef,
    pub caption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SendText {
    pub session: String,
    #[serde(rename = "chatId")]
    pub chat_id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// A pre-reserved message id (WAHA 2026.4.3+), so a retry maps to the same message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SentMessage {
    /// WAHA's id for the sent message, when its answer says.
    pub id: Option<String>,
}

#[derive(Clone)]
pub struct WahaClient {
    http: reqwest::Client,
    base: String,
    /// `base` parsed (`None` if it cannot be: then no media URL matches it).
    base_url: Option<url::Url>,
    /// `WAHA_API_KEY`, unless the hub's settings hold one (`set_api_key`).
    api_key: Option<String>,
    /// The key stored in the hub's settings (`PUT /api/settings/waha`), which overrides
    /// `api_key`; shared by every clone, re-read on every node (`app::background`).
    stored_key: Arc<RwLock<Option<String>>>,
    timeout: Duration,
}

/// Path segments such as chat ids contain `@`, which WAHA wants encoded.
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl WahaClient {
    /// `timeout` bounds each whole call; a send that outlives it has an unknown outcome,
    /// which the session actor resolves by asking WAHA for the message before resending.
    pub fn new(base: &str, api_key: Option<String>, timeout: Duration) -> WahaClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2).min(timeout))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let base = base.trim_end_matches('/').to_string();
        WahaClient {
            http,
            base_url: url::Url::parse(&base).ok(),
            base,
            api_key,
            stored_key: Arc::default(),
            timeout,
        }
    }

    /// The key from the hub's settings (`None`: back to `WAHA_API_KEY`), for every clone.
    pub fn set_api_key(&self, key: Option<String>) {
        let mut k = self
            .stored_key
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *k = key;
    }

    /// The key calls carry now.
    fn api_key(&self) -> Option<String> {
        let stored = self
            .stored_key
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        stored.clone().or_else(|| self.api_key.clone())
    }

    pub(super) fn base_url(&self) -> Option<&url::Url> {
        self.base_url.as_ref()
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A request to WAHA, with the API key when there is one.
    pub(super) fn request(
        &self,
        method: Method,
        url: impl reqwest::IntoUrl,
    ) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.api_key() {
            Some(k) => req.header("X-Api-Key", k),
            None => req,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<(StatusCode, String), WahaError> {
        let mut req = self
            .request(method, format!("{}{}", self.base, path))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| WahaError::Transport(e.to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| WahaError::Transport(e.to_string()))?;
        if status.is_success() {
            Ok((status, text))
        } else {
            Err(WahaError::Http {
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            })
        }
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, WahaError> {
        let (_, text) = self.call(method, path, body).await?;
        serde_json::from_str(&text).map_err(|e| WahaError::Decode(format!("{path}: {e}")))
    }

    const NO_BODY: Option<&'static Value> = None;

    /// WAHA's version (`/api/server/version`, or `/api/version` on older WAHA).
    pub async fn version(&self) -> Result<crate::waha::version::WahaVersion, WahaError> {
        match self
            .json(Method::GET, "/api/server/version", Self::NO_BODY)
            .await
        {
            Err(e) if e.is_not_found() => {
                self.json(Method::GET, "/api/version", Self::NO_BODY).await
            }
            r => r,
        }
    }

    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>, WahaError> {
        self.json(Method::GET, "/api/sessions?all=true", Self::NO_BODY)
            .await
    }

    pub async fn get_session(&self, name: &str) -> Result<Option<SessionInfo>, WahaError> {
        match self
            .json(
                Method::GET,
                &format!("/api/sessions/{}", seg(name)),
                Self::NO_BODY,
            )
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates the session with this config (started when `start`); when WAHA has it
    /// already, replaces its config (the caller merges what should survive) and, when
    /// `start`, makes sure it runs.
    pub async fn upsert_session(
        &self,
        name: &str,
        config: &Value,
        start: bool,
    ) -> Result<SessionInfo, WahaError> {
        let create = serde_json::json!({ "name": name, "start": start, "config": config });
        match self
            .json::<SessionInfo>(Method::POST, "/api/sessions", Some(&create))
            .await
        {
            Ok(s) => Ok(s),
            Err(WahaError::Http { status: 422, .. }) | Err(WahaError::Http { status: 409, .. }) => {
                let update = serde_json::json!({ "config": config });
                let s: SessionInfo = self
                    .json(
                        Method::PUT,
                        &format!("/api/sessions/{}", seg(name)),
                        Some(&update),
                    )
                    .await?;
                if start && (s.status == "STOPPED" || s.status == "FAILED") {
                    self.start(name).await
                } else {
                    Ok(s)
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn session_action(&self, name: &str, action: &str) -> Result<SessionInfo, WahaError> {
        let path = format!("/api/sessions/{}/{action}", seg(name));
        let (_, text) = self.call(Method::POST, &path, Self::NO_BODY).await?;
        match serde_json::from_str(&text) {
            Ok(s) => Ok(s),
            // Some versions answer these with an empty body: ask for the state.
            Err(_) => self.get_session(name).await?.ok_or_else(|| {
                WahaError::Decode(format!("session {name} vanished after {action}"))
            }),
        }
    }

    pub async fn start(&self, name: &str) -> Result<SessionInfo, WahaError> {
        self.session_action(name, "start").await
    }

    pub async fn stop(&self, name: &str) -> Result<SessionInfo, WahaError> {
        self.session_action(name, "stop").await
    }

    pub async fn logout(&self, name: &str) -> Result<SessionInfo, WahaError> {
        self.session_action(name, "logout").await
    }

    pub async fn qr(&self, name: &str) -> Result<Qr, WahaError> {
        self.json(
            Method::GET,
            &format!("/api/{}/auth/qr?format=image", seg(name)),
            Self::NO_BODY,
        )
        .await
    }

    /// A message id reserved for the next send (WAHA 2026.4.3+); `None` on older WAHA.
    pub async fn new_message_id(&self, session: &str) -> Result<Option<String>, WahaError> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        match self
            .json::<Id>(
                Method::GET,
                &format!("/api/{}/new-message-id", seg(session)),
                Self::NO_BODY,
            )
            .await
        {
            Ok(i) => Ok(Some(i.id)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn send_text(&self, req: &SendText) -> Result<SentMessage, WahaError> {
        let (_, text) = self.call(Method::POST, "/api/sendText", Some(req)).await?;
        Ok(SentMessage { id: sent_id(&text) })
    }

    /// An image (`image/*`, through `sendImage`) or any other file (`sendFile`).
    pub async fn send_file(&self, req: &SendFile) -> Result<SentMessage, WahaError> {
        let path = if req.file.mimetype.starts_with("image/") {
            "/api/sendImage"
        } else {
            "/api/sendFile"
        };
        let (_, text) = self.call(Method::POST, path, Some(req)).await?;
        Ok(SentMessage { id: sent_id(&text) })
    }

    /// A message WAHA has, by its (serialized or raw) id; `None` when it has none.
    pub async fn get_message(
        &self,
        session: &str,
        chat_id: &str,
        message_id: &str,
    ) -> Result<Option<Value>, WahaError> {
        let path = format!(
            "/api/{}/chats/{}/messages/{}",
            seg(session),
            seg(chat_id),
            seg(message_id)
        );
        match self.json(Method::GET, &path, Self::NO_BODY).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn send_seen(
        &self,
        session: &str,
        chat_id: &str,
        message_ids: &[String],
    ) -> Result<(), WahaError> {
        let body =
            serde_json::json!({ "session": session, "chatId": chat_id, "messageIds": message_ids });
        self.call(Method::POST, "/api/sendSeen", Some(&body))
            .await
            .map(|_| ())
    }

    pub async fn start_typing(&self, session: &str, chat_id: &str) -> Result<(), WahaError> {
        let body = serde_json::json!({ "session": session, "chatId": chat_id });
        self.call(Method::POST, "/api/startTyping", Some(&body))
            .await
            .map(|_| ())
    }

    pub async fn stop_typing(&self, session: &str, chat_id: &str) -> Result<(), WahaError> {
        let body = serde_json::json!({ "session": session, "chatId": chat_id });
        self.call(Method::POST, "/api/stopTyping", Some(&body))
            .await
            .map(|_| ())
    }
}

/// The sent message's id in any engine's answer: GOWS `id` (string), WEBJS
/// `id._serialized`, NOWEB `key.id`; an empty body (seen on some versions) has none.
fn sent_id(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    match v.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(obj @ Value::Object(_)) => obj
            .get("_serialized")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => v
            .pointer("/key/id")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::sent_id;

    #[test]
    fn reads_every_engines_send_answer() {
        assert_eq!(
            sent_id(r#"{"id":"true_1@c.us_AB","_data":{}}"#).as_deref(),
            Some("true_1@c.us_AB")
        );
        assert_eq!(
            sent_id(r#"{"id":{"fromMe":true,"_serialized":"true_1@c.us_CD"}}"#).as_deref(),
            Some("true_1@c.us_CD")
        );
        assert_eq!(
            sent_id(r#"{"key":{"remoteJid":"1@s.whatsapp.net","id":"EF"}}"#).as_deref(),
            Some("EF")
        );
        assert_eq!(sent_id(""), None);
    }
}
