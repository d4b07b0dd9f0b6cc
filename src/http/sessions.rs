//! `/api/sessions`: the WhatsApp numbers connected through WAHA.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::error::{ApiError, ErrorBody};
use super::pagination::Page;
use crate::actors::hub::{SessionAction, SessionView};
use crate::actors::Hub;

#[derive(Deserialize, ToSchema)]
pub struct RegisterSession {
    /// WAHA's session name: letters, digits, `_` and `-`, at most 64.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Qr {
    pub mimetype: String,
    /// Base64 of the QR image to scan with WhatsApp.
    pub data: String,
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some(())
        .ok_or_else(|| ApiError::BadRequest("name must be 1-64 letters, digits, '_' or '-'".into()))
}

#[utoipa::path(get, path = "/api/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = inline(Page<SessionView>)), (status = 401, body = ErrorBody)))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<Page<SessionView>>, ApiError> {
    let items = hub.sessions(&auth.viewer).await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/sessions", tag = "sessions", security(("bearer" = [])), request_body = RegisterSession,
    responses((status = 201, body = SessionView, description = "registered"), (status = 200, body = SessionView, description = "already registered; WAHA's config refreshed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "WAHA refused or is unreachable; the session is recorded and adopted at the next start")))]
pub async fn register(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: web::Json<RegisterSession>,
) -> Result<HttpResponse, ApiError> {
    valid_name(&body.name)?;
    let (session, created) = hub.register_session(&auth.viewer, &body.name).await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(session))
}

#[utoipa::path(get, path = "/api/sessions/{name}", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path)), responses((status = 200, body = SessionView), (status = 404, body = ErrorBody)))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    Ok(web::Json(hub.session(&auth.viewer, &name).await?))
}

async fn act(
    hub: &Hub,
    auth: &AuthUser,
    name: &str,
    action: SessionAction,
) -> Result<web::Json<SessionView>, ApiError> {
    Ok(web::Json(
        hub.session_action(&auth.viewer, name, action).await?,
    ))
}

#[utoipa::path(post, path = "/api/sessions/{name}/start", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path)), responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn start(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Start).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/stop", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path)), responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn stop(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Stop).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/logout", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path)), responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn logout(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Logout).await
}

#[utoipa::path(get, path = "/api/sessions/{name}/qr", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path)), responses((status = 200, body = Qr), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "WAHA has no QR code yet: the session is not waiting for a scan (its status is in the message, and `session.status` follows)"),
        (status = 502, body = ErrorBody, description = "WAHA refused or is unreachable")))]
pub async fn qr(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<Qr>, ApiError> {
    let qr = hub.qr(&auth.viewer, &name).await?;
    Ok(web::Json(Qr {
        mimetype: qr.mimetype,
        data: qr.data,
    }))
}
