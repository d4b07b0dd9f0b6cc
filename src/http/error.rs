//! Every error the API answers with, mapped to a status and a JSON body in one place:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}` (`field` only when one
//! field is at fault: a 422's, or a 409 such as a taken shortcut). The database's and WAHA's own words
//! never reach a client: they are logged here, and the client gets a plain message with a
//! stable code (`database_unavailable`, `database_error`, `waha_unreachable`, ...).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::actors::HubError;
use crate::domain::FieldError;
use crate::store::StoreError;
use crate::waha::client::WahaError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    Conflict(String),
    /// A well-formed request the hub refuses as a whole (no one field to name).
    #[error("{0}")]
    Unprocessable(String),
    /// A value the hub refuses (422), with the path of its field in `error.field`.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// A value that clashes with what exists (409), with its field in `error.field`.
    #[error(transparent)]
    ConflictOn(FieldError),
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// 503 with a stable code of its own (the message is already safe to show).
    #[error("{message}")]
    UnavailableCode { code: &'static str, message: String },
    /// 503 with `Retry-After`: the hub is too busy for this now (e.g. password checks).
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// 429 with `Retry-After` (whole seconds): too many attempts (login rate limits).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// 403: a state-changing request authenticated by the cookie without a matching
    /// `Origin` (or `X-Tickhub-Request: 1`), i.e. possibly sent by another site's page.
    #[error("{0}")]
    CrossOrigin(String),
    /// 502 with a stable code; the message is the hub's own, never WAHA's text.
    #[error("{message}")]
    BadGateway { code: &'static str, message: String },
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`, `invalid_hmac`.
    pub code: String,
    pub message: String,
    /// The path of the field at fault, exactly as the message names it
    /// (`business_hours.holidays[0]`, `sessions[1]`, `password`): on 422s, and on the 409s
    /// about one field's value (a taken shortcut, a session another bot serves).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// The errors every operation behind a bearer token can answer.
#[derive(IntoResponses)]
pub enum AuthErrors {
    /// No valid bearer token (nor `tickhub_token` cookie).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The database is away; try again.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The errors every operation that takes a JSON body can answer.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// Malformed JSON, a missing field or a refused value (the message names the field).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The body is larger than 256 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `Content-Type: application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
}

/// A value the hub refuses, naming the field (nothing was saved).
#[derive(IntoResponses)]
#[response(status = 422)]
#[allow(dead_code)] // describes a response for the OpenAPI document only
pub struct UnprocessableError(ErrorBody);

/// The role may not do this.
#[derive(IntoResponses)]
#[response(status = 403)]
#[allow(dead_code)] // describes a response for the OpenAPI document only
pub struct ForbiddenError(ErrorBody);

/// The answer for an id (or name) in the path that names nothing.
#[derive(IntoResponses)]
#[response(status = 404)]
#[allow(dead_code)] // describes a response for the OpenAPI document only
pub struct NotFoundError(ErrorBody);

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unprocessable(_) | ApiError::Invalid(_) => "invalid",
            ApiError::ConflictOn(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::UnavailableCode { code, .. } => code,
            ApiError::Busy { .. } => "busy",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::CrossOrigin(_) => "cross_origin_refused",
            ApiError::BadGateway { code, .. } => code,
            ApiError::Internal(_) => "internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) | ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::ConflictOn(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) | ApiError::UnavailableCode { .. } | ApiError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::CrossOrigin(_) => StatusCode::FORBIDDEN,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
            }
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::Busy {
                retry_after_secs, ..
            } => {
                response.insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    (*retry_after_secs).max(1).to_string(),
                ));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                field: match self {
                    ApiError::Invalid(f) | ApiError::ConflictOn(f) => Some(f.field.clone()),
                    _ => None,
                },
            },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::ConflictOn(f) => ApiError::ConflictOn(f),
            StoreError::Unstorable(detail) => {
                tracing::debug!(%detail, "unstorable text");
                ApiError::Unprocessable(
                    "a text holds a character that cannot be stored (U+0000)".into(),
                )
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                ApiError::UnavailableCode {
                    code: "database_unavailable",
                    message: "the database is unavailable; try again".into(),
                }
            }
            StoreError::WriterGone => ApiError::Unavailable("the hub is shutting down".into()),
            // The session moved to another node mid-request: the retry lands on the owner.
            StoreError::Fenced { .. } => ApiError::UnavailableCode {
                code: "session_moved",
                message: "the session moved to another node; try again".into(),
            },
            // A failed write is retried by WAHA and by clients: answer so they do.
            StoreError::Database(detail) => {
                tracing::error!(%detail, "database error");
                ApiError::UnavailableCode {
                    code: "database_error",
                    message: "the database could not do this; try again".into(),
                }
            }
            StoreError::Migrate(m) => ApiError::Internal(format!("migration: {m}")),
            StoreError::Secret(e @ crate::secrets::SecretError::NoKey) => {
                ApiError::UnavailableCode {
                    code: "secret_key_missing",
                    message: e.to_string(),
                }
            }
            StoreError::Secret(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::credentials::CredentialError> for ApiError {
    fn from(e: crate::credentials::CredentialError) -> Self {
        use crate::credentials::CredentialError as C;
        match e {
            C::Busy { retry_after_secs } => ApiError::Busy {
                message: "too many password checks at once; try again shortly".into(),
                retry_after_secs,
            },
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::Store(s) => s.into(),
            HubError::Waha(w) => w.into(),
            e @ HubError::NotFound(_) => ApiError::NotFound(e.to_string()),
            HubError::Forbidden(why) => ApiError::Forbidden(why.to_string()),
            // Kept as 400 for what the API already answered so (an empty reply text).
            HubError::Invalid(m) => ApiError::BadRequest(m),
            HubError::Conflict(m) => ApiError::Conflict(m),
            HubError::Unprocessable(f) => ApiError::Invalid(f),
            HubError::ConflictOn(f) => ApiError::ConflictOn(f),
            HubError::Stopped => ApiError::Unavailable("the hub is shutting down".into()),
            HubError::Credentials(e) => e.into(),
        }
    }
}

impl From<WahaError> for ApiError {
    fn from(e: WahaError) -> Self {
        // WAHA's answer may hold anything (its stack traces, its configuration, the API
        // key it was given): it goes to the log, the client gets the status alone.
        tracing::warn!(error = %e, "WAHA call failed");
        match e {
            // WAHA's 422: the session is not in a state for this (no QR to show while it is
            // not waiting for a scan, ...). That is the caller's timing, not WAHA failing.
            WahaError::Http { status: 422, .. } => ApiError::Conflict(
                "WAHA answered 422: the session is not in a state for this; try again later".into(),
            ),
            WahaError::Http { status, .. } => ApiError::BadGateway {
                code: "waha_error",
                message: format!("WAHA answered {status}"),
            },
            WahaError::Transport(_) => ApiError::BadGateway {
                code: "waha_unreachable",
                message: "WAHA did not answer".into(),
            },
            WahaError::Decode(_) => ApiError::BadGateway {
                code: "waha_bad_answer",
                message: "WAHA's answer could not be read".into(),
            },
        }
    }
}

/// Makes actix's own extractor errors (bad JSON, bad query, bad path) JSON 4xx too.
pub fn json_config() -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(256 * 1024)
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError as E;
            let api = match &err {
                E::ContentType => {
                    ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => {
                    ApiError::PayloadTooLarge(*limit)
                }
                _ => ApiError::BadRequest(format!("invalid JSON body: {err}")),
            };
            actix_web::error::InternalError::from_response(err, api.error_response()).into()
        })
}

pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default().error_handler(|err, _req| {
        let api = ApiError::BadRequest(format!("invalid query: {err}"));
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|err, _req| {
        let api = ApiError::NotFound(format!("invalid path: {err}"));
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}
