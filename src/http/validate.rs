//! Checks on text the API takes, each stated as a pattern in the OpenAPI document too.

use super::error::ApiError;

/// PostgreSQL's text cannot hold U+0000, so no field takes it, on either backend (the
/// document's `^[^\u0000]*$`).
pub fn no_nul(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::BadRequest(format!(
            "{field} must not contain U+0000"
        )));
    }
    Ok(())
}

/// `no_nul` for an optional field.
pub fn no_nul_opt(field: &str, value: Option<&str>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| no_nul(field, v))
}

pub use crate::domain::session::is_session_name;

/// 400 unless `name` can be a registered session's name (which one exists is the hub's
/// to say).
pub fn session_name(name: &str) -> Result<(), ApiError> {
    if is_session_name(name) {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!("unknown session {name:?}")))
}

/// 415 unless the request says its body is CSV.
pub fn csv_body(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    let csv = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    if csv {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(
        "expected Content-Type: text/csv".into(),
    ))
}
