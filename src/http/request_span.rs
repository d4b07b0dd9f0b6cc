//! One tracing span per request. Unlike the default it records the path without the
//! query string, so the websocket's `?token=` never reaches the logs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::Error;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %request.match_pattern().unwrap_or_default(),
            path = %request.path(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
        if status.is_server_error() {
            let detail = match outcome {
                Ok(r) => r.response().error().map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            span.in_scope(|| {
                tracing::warn!(
                    status = status.as_u16(),
                    error = detail.as_deref().unwrap_or(""),
                    "request failed"
                )
            });
        }
    }
}
