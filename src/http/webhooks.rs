//! `POST /webhooks/waha`: WAHA's webhooks, checked, stored durably (deduplicated) and only
//! then acknowledged; processing continues from the stored row.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::debug;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::validate::{no_nul, no_nul_opt};
use crate::actors::hub::WAHA_EVENTS;
use crate::actors::Hub;
use crate::store::inbox::Received;
use crate::store::processing::{Ingest, Ingested, SessionRef};
use crate::store::sessions;
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

fn check_signature(hub: &Hub, req: &HttpRequest, body: &[u8]) -> Result<(), ApiError> {
    let Some(key) = hub.config.webhook_hmac_key.as_deref() else {
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
        let age = hub.now_ms() - ts;
        if age > hub.config.webhook_replay_window.as_millis() as i64 {
            return Err(ApiError::Unauthorized(
                "webhook timestamp outside the replay window".into(),
            ));
        }
    }
    Ok(())
}

async fn session_ref(hub: &Hub, name: &str) -> Result<SessionRef, ApiError> {
    if let Some(s) = hub.session_cache.get(name) {
        return Ok(s.clone());
    }
    let s = sessions::by_name(&hub.db, name).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown WhatsApp session {name:?}: register it with POST /api/sessions"
        ))
    })?;
    let r = SessionRef {
        id: s.id,
        name: s.name,
    };
    hub.session_cache.insert(name.to_string(), r.clone());
    Ok(r)
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
        return Err(ApiError::UnsupportedMediaType(format!(
            "expected Content-Type: application/json, got {content_type:?}"
        )));
    }
    let body = read_body(payload, hub.config.webhook_max_body).await?;
    check_signature(&hub, &req, &body)?;
    let envelope: Envelope = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid webhook body: {e}")))?;
    no_nul("session", &envelope.session)?;
    no_nul_opt("id", envelope.id.as_deref())?;
    // The hub acts on the events it asks WAHA for; anything else is acknowledged and dropped.
    if !WAHA_EVENTS.contains(&envelope.event.as_str()) {
        debug!(event = %envelope.event, "ignoring an event the hub does not handle");
        metrics::counter!("tickhub_webhooks_total", "outcome" => "ignored").increment(1);
        return Ok(HttpResponse::Ok().json(WebhookAck { status: "ignored" }));
    }
    let session = session_ref(&hub, &envelope.session).await?;
    let event_key = match envelope.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => id.to_string(),
        // Old WAHA sends no event id; its retries resend the same bytes.
        None => format!("sha256:{}", hex::encode(Sha256::digest(&body))),
    };
    let received = Received {
        event_key,
        session_id: session.id,
        event: envelope.event.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let ingested = hub
        .ingest(Ingest {
            session,
            received,
            envelope: Arc::new(envelope),
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
