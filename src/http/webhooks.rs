//! `POST /webhooks/waha`: WAHA's webhooks, checked, stored durably (deduplicated) and only
//! then acknowledged; processing continues from the stored row.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use tracing::debug;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::validate::{no_nul, no_nul_opt};
use crate::actors::Hub;
use crate::store::inbox::Received;
use crate::store::ingest::{Ingest, Ingested};
use crate::waha::events::{translate, WahaEvent};
use crate::waha::webhook::Envelope;

/// WAHA's webhook envelope: the fields the hub reads (the rest is stored as sent).
#[derive(ToSchema)]
#[allow(dead_code)] // only describes the body for the OpenAPI document
pub struct WebhookEnvelope {
    /// WAHA's event id (`evt_…`); absent before late 2024.
    #[schema(pattern = r"^[^\u0000]*$")]
    id: Option<String>,
    /// e.g. `message`; events the hub does not handle are acknowledged and ignored.
    event: String,
    /// The WAHA session the event belongs to; it must be registered (404 otherwise).
    #[schema(pattern = r"^[^\u0000]*$")]
    session: String,
    me: Option<WebhookMe>,
    /// The event's own body.
    payload: Option<serde_json::Value>,
}

/// The business's own WhatsApp account.
#[derive(ToSchema)]
#[allow(dead_code)] // as above
pub struct WebhookMe {
    id: String,
    #[schema(rename = "pushName")]
    push_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookAck {
    /// `stored`, `duplicate` or `ignored`.
    pub status: &'static str,
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Counts a refused webhook by reason (`tickhub_webhooks_rejected_total`).
fn refuse(reason: &'static str, e: ApiError) -> ApiError {
    metrics::counter!("tickhub_webhooks_rejected_total", "reason" => reason).increment(1);
    e
}

/// The session a body names, read without trusting it (for saying whose webhooks are
/// being refused).
fn session_named(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        session: String,
    }
    serde_json::from_slice::<Named>(body)
        .ok()
        .map(|n| n.session)
}

fn check_signature(hub: &Hub, req: &HttpRequest, body: &[u8]) -> Result<(), ApiError> {
    let Some(key) = hub.config().webhook_hmac_key.as_deref() else {
        return Ok(());
    };
    if let Some(alg) = header(req, "x-webhook-hmac-algorithm") {
        if !alg.eq_ignore_ascii_case("sha512") {
            return Err(ApiError::Unauthorized(format!(
                "unsupported HMAC algorithm {alg:?}"
            )));
        }
    }
    let sig = header(req, "x-webhook-hmac")
        .ok_or_else(|| ApiError::Unauthorized("missing X-Webhook-Hmac".into()))?;
    if !crate::waha::hmac::verify(key.as_bytes(), body, sig) {
        return Err(ApiError::Unauthorized("invalid X-Webhook-Hmac".into()));
    }
    // WAHA signs only the body: the timestamp header bounds how long a captured request
    // can be replayed (older WAHA does not send it).
    if let Some(ts) = header(req, "x-webhook-timestamp") {
        let ts: i64 = ts
            .trim()
            .parse()
            .map_err(|_| ApiError::Unauthorized("X-Webhook-Timestamp is not a number".into()))?;
        let window = hub.config().webhook_replay_window.as_millis() as i64;
        if !within_window(hub.now_ms(), ts, window) {
            return Err(ApiError::Unauthorized(
                "webhook timestamp outside the replay window".into(),
            ));
        }
    }
    Ok(())
}

/// Whether a webhook stamped `ts` may be accepted at `now` (both ms): at most `window`
/// old, and no further ahead than that either (clocks drift; a stamp from far in the
/// future is a forgery or a broken clock, not a fresh request).
fn within_window(now: i64, ts: i64, window: i64) -> bool {
    now.checked_sub(ts)
        .and_then(i64::checked_abs)
        .is_some_and(|age| age <= window)
}

#[utoipa::path(post, path = "/webhooks/waha", tag = "webhooks",
    request_body(content = WebhookEnvelope, content_type = "application/json", description = "WAHA's webhook body, unchanged"),
    params(("X-Webhook-Hmac" = Option<String>, Header, description = "hex HMAC-SHA512 of the raw body (required when WAHA_WEBHOOK_HMAC_KEY is set)"),
           ("X-Webhook-Timestamp" = Option<String>, Header, description = "ms since epoch; checked against the replay window")),
    responses((status = 200, body = WebhookAck, description = "stored durably (or a duplicate, or an event the hub ignores)"),
        (status = 400, body = ErrorBody, description = "not a webhook envelope"),
        (status = 401, body = ErrorBody, description = "a missing or wrong HMAC, or a timestamp outside the replay window"),
        (status = 404, body = ErrorBody, description = "the session is not registered"),
        (status = 413, body = ErrorBody, description = "the body is larger than the limit (TICKHUB_WEBHOOK_MAX_BYTES)"),
        (status = 415, body = ErrorBody, description = "the body is not `Content-Type: application/json`"),
        (status = 503, body = ErrorBody, description = "not stored (the database is away): WAHA retries")))]
pub async fn receive(
    hub: web::Data<Arc<Hub>>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = header(&req, "content-type").unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(refuse(
            "content_type",
            ApiError::UnsupportedMediaType(format!(
                "expected Content-Type: application/json, got {content_type:?}"
            )),
        ));
    }
    let body = read_body(payload, hub.config().webhook_max_body)
        .await
        .map_err(|e| refuse("body", e))?;
    if let Err(e) = check_signature(&hub, &req, &body) {
        let session = session_named(&body);
        hub.health()
            .refused(session.as_deref(), &e.to_string(), hub.now_ms());
        return Err(refuse("signature", e));
    }
    let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            "invalid_body",
            ApiError::BadRequest(format!("invalid webhook body: {e}")),
        )
    })?;
    no_nul("session", &envelope.session).map_err(|e| refuse("invalid_body", e))?;
    no_nul_opt("id", envelope.id.as_deref()).map_err(|e| refuse("invalid_body", e))?;
    // The hub acts on the events it asks WAHA for; anything else is acknowledged and dropped.
    if WahaEvent::parse(&envelope.event).is_none() {
        debug!(event = %envelope.event, "ignoring an event the hub does not handle");
        metrics::counter!("tickhub_webhooks_total", "outcome" => "ignored").increment(1);
        return Ok(HttpResponse::Ok().json(WebhookAck { status: "ignored" }));
    }
    let session = hub
        .registry()
        .resolve(&envelope.session)
        .await?
        .ok_or_else(|| {
            refuse(
                "unknown_session",
                ApiError::NotFound(format!(
                    "unknown WhatsApp session {:?}: register it with POST /api/sessions",
                    envelope.session
                )),
            )
        })?;
    hub.health().accepted(&session.name);
    let inbound = translate(&envelope);
    let event_key = match envelope.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => id.to_string(),
        // Old WAHA sends no event id: the change's business key says what a repeat is
        // (identical bodies can be real repeats, e.g. a status after a reconnect).
        None => match inbound.dedupe_key() {
            Some(key) => format!("s{}:{key}", session.id),
            None => format!("once:{}", uuid::Uuid::new_v4().simple()),
        },
    };
    let received = Received {
        event_key,
        session_id: session.id,
        event: envelope.event.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let ingested = hub
        .registry()
        .ingest(Ingest {
            session,
            row: received,
            inbound: Arc::new(inbound),
            known: None,
        })
        .await?;
    let status = match ingested {
        Ingested::Stored(_) => "stored",
        Ingested::Duplicate => "duplicate",
    };
    metrics::counter!("tickhub_webhooks_total", "outcome" => status).increment(1);
    Ok(HttpResponse::Ok().json(WebhookAck { status }))
}

#[cfg(test)]
mod tests {
    use super::within_window;

    #[test]
    fn the_replay_window_bounds_both_ways_without_overflow() {
        let now = 1_700_000_000_000;
        assert!(within_window(now, now, 600_000));
        assert!(within_window(now, now - 600_000, 600_000));
        assert!(!within_window(now, now - 600_001, 600_000));
        assert!(within_window(now, now + 5_000, 600_000));
        assert!(!within_window(now, now + 600_001, 600_000));
        assert!(!within_window(now, i64::MIN, 600_000));
        assert!(!within_window(now, i64::MAX, 600_000));
        assert!(!within_window(-1, i64::MAX, 600_000));
    }
}
