//! `/api/sessions`: the WhatsApp numbers connected through WAHA.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
};
use super::pagination::Page;
use super::validate::is_session_name;
use crate::actors::hub::{SessionAction, SessionSettingsPatch, SessionView};
use crate::actors::Hub;
use crate::store::members::SessionMember;

#[derive(Deserialize, ToSchema)]
pub struct RegisterSession {
    /// WAHA's session name: letters, digits, `_` and `-`, at most 64.
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Qr {
    pub mimetype: String,
    /// Base64 of the QR image to scan with WhatsApp.
    pub data: String,
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    is_session_name(name)
        .then_some(())
        .ok_or_else(|| ApiError::BadRequest("name must be 1-64 letters, digits, '_' or '-'".into()))
}

/// What an operation that calls WAHA adds to its answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // describes responses for the OpenAPI document only
enum WahaErrors {
    /// WAHA refused for the session's state (e.g. no QR while it is not waiting for a scan).
    #[response(status = 409)]
    WrongState(ErrorBody),
    /// WAHA failed or is unreachable (a registered session is recorded and adopted at the
    /// next start).
    #[response(status = 502)]
    Waha(ErrorBody),
}

#[utoipa::path(get, path = "/api/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = inline(Page<SessionView>)), AuthErrors))]
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
        (status = 403, body = ErrorBody, description = "only admins manage WhatsApp sessions"),
        JsonBodyErrors, AuthErrors, WahaErrors))]
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
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = SessionView), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    Ok(web::Json(hub.session(&auth.viewer, &name).await?))
}

#[utoipa::path(get, path = "/api/sessions/{name}/members", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = inline(Page<SessionMember>),
            description = "the active members with an inbox who work in the session (admins included), by name; all at once (`next_cursor` is always null)"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn members(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<Page<SessionMember>>, ApiError> {
    let items = hub.session_members(&auth.viewer, &name).await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
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
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = SessionView),
        (status = 403, body = ErrorBody, description = "only admins manage WhatsApp sessions"),
        NotFoundError, AuthErrors, WahaErrors))]
pub async fn start(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Start).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/stop", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = SessionView),
        (status = 403, body = ErrorBody, description = "only admins manage WhatsApp sessions"),
        NotFoundError, AuthErrors, WahaErrors))]
pub async fn stop(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Stop).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/logout", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = SessionView),
        (status = 403, body = ErrorBody, description = "only admins manage WhatsApp sessions"),
        NotFoundError, AuthErrors, WahaErrors))]
pub async fn logout(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<SessionView>, ApiError> {
    act(&hub, &auth, &name, SessionAction::Logout).await
}

#[utoipa::path(get, path = "/api/sessions/{name}/qr", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = Qr),
        (status = 403, body = ErrorBody, description = "only admins manage WhatsApp sessions"),
        NotFoundError, AuthErrors, WahaErrors))]
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionSettings {
    /// `anyone` who may see a conversation replies, or only its `assignee` (and supervisors).
    pub reply_policy: Option<crate::domain::ReplyPolicy>,
    /// Whether the router assigns the session's waiting conversations automatically
    /// (turning it on drains the queue; off: they wait for someone to take them).
    pub auto_assign: Option<bool>,
    /// The hours the reports' business-hours figures count; `null` clears them (every
    /// hour counts).
    #[serde(default, deserialize_with = "super::body::present")]
    #[schema(value_type = Option<crate::domain::hours::WeeklyHours>)]
    pub business_hours: Option<Option<crate::domain::hours::WeeklyHours>>,
    /// Whether resolving a conversation sends the customer the rating question
    /// (docs/csat.md).
    pub csat_enabled: Option<bool>,
    /// The rating question (at most 1000 characters); `null` or blank: the default one.
    #[serde(default, deserialize_with = "super::body::present")]
    #[schema(value_type = Option<String>)]
    pub csat_question: Option<Option<String>>,
    /// Alert supervisors when a customer has waited this many seconds for a reply (1 to
    /// 2592000); `null`: no alerts (docs/notifications.md).
    #[serde(default, deserialize_with = "super::body::present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 2592000)]
    pub sla_wait_seconds: Option<Option<i64>>,
}

#[utoipa::path(patch, path = "/api/sessions/{name}", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), request_body = SessionSettings,
    responses((status = 200, body = SessionView, description = "the settings given are changed; the others are kept"),
        (status = 403, body = ErrorBody, description = "admins only"),
        (status = 422, body = ErrorBody, description = "a value the hub refuses, naming the field"),
        NotFoundError, JsonBodyErrors, AuthErrors))]
pub async fn settings(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
    body: super::body::Checked<SessionSettings>,
) -> Result<web::Json<SessionView>, ApiError> {
    let patch = SessionSettingsPatch {
        reply_policy: body.0.reply_policy,
        auto_assign: body.0.auto_assign,
        business_hours: body.0.business_hours,
        csat_enabled: body.0.csat_enabled,
        csat_question: body.0.csat_question,
        sla_wait_seconds: body.0.sla_wait_seconds,
    };
    Ok(web::Json(
        hub.update_session_settings(&auth.viewer, &name, patch)
            .await?,
    ))
}
