//! `/api/sessions`: the WhatsApp numbers connected through WAHA.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, JsonBodyErrors, NotFoundError};
use super::pagination::Page;
use super::validate::is_session_name;
use crate::actors::hub::RegisterError;
use crate::actors::Hub;
use crate::store::processing::SessionRef;
use crate::store::sessions::{self, WaSession};

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

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Store(s) => s.into(),
            RegisterError::Hub(h) => h.into(),
            RegisterError::Waha(w) => w.into(),
        }
    }
}

#[utoipa::path(get, path = "/api/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = inline(Page<WaSession>)), AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
) -> Result<web::Json<Page<WaSession>>, ApiError> {
    let items = sessions::list(&hub.db).await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/sessions", tag = "sessions", security(("bearer" = [])), request_body = RegisterSession,
    responses((status = 201, body = WaSession, description = "registered"), (status = 200, body = WaSession, description = "already registered; WAHA's config refreshed"),
        JsonBodyErrors, AuthErrors, WahaErrors))]
pub async fn register(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    body: web::Json<RegisterSession>,
) -> Result<HttpResponse, ApiError> {
    valid_name(&body.name)?;
    let (session, created) = hub.register_session(&body.name).await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(session))
}

async fn known(hub: &Hub, name: &str) -> Result<WaSession, ApiError> {
    let unknown = || ApiError::NotFound(format!("session {name:?} is not registered"));
    if !is_session_name(name) {
        return Err(unknown());
    }
    sessions::by_name(&hub.db, name).await?.ok_or_else(unknown)
}

#[utoipa::path(get, path = "/api/sessions/{name}", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = WaSession), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<WaSession>, ApiError> {
    Ok(web::Json(known(&hub, &name).await?))
}

#[derive(Clone, Copy)]
enum Action {
    Start,
    Stop,
    Logout,
}

async fn act(hub: &Arc<Hub>, name: &str, action: Action) -> Result<web::Json<WaSession>, ApiError> {
    let s = known(hub, name).await?;
    let info = match action {
        Action::Start => hub.waha.start(name).await?,
        Action::Stop => hub.waha.stop(name).await?,
        Action::Logout => hub.waha.logout(name).await?,
    };
    hub.record_waha_status(
        &SessionRef {
            id: s.id,
            name: s.name.clone(),
        },
        &info,
        false,
    )
    .await?;
    // WAHA's answer is the freshest word; the `session.status` event follows.
    let mut session = known(hub, name).await?;
    session.status = info.status;
    Ok(web::Json(session))
}

#[utoipa::path(post, path = "/api/sessions/{name}/start", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = WaSession), NotFoundError, AuthErrors, WahaErrors))]
pub async fn start(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<WaSession>, ApiError> {
    act(&hub, &name, Action::Start).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/stop", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = WaSession), NotFoundError, AuthErrors, WahaErrors))]
pub async fn stop(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<WaSession>, ApiError> {
    act(&hub, &name, Action::Stop).await
}

#[utoipa::path(post, path = "/api/sessions/{name}/logout", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = WaSession), NotFoundError, AuthErrors, WahaErrors))]
pub async fn logout(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<WaSession>, ApiError> {
    act(&hub, &name, Action::Logout).await
}

#[utoipa::path(get, path = "/api/sessions/{name}/qr", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), responses((status = 200, body = Qr), NotFoundError, AuthErrors, WahaErrors))]
pub async fn qr(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    name: web::Path<String>,
) -> Result<web::Json<Qr>, ApiError> {
    known(&hub, &name).await?;
    let qr = hub.waha.qr(&name).await?;
    Ok(web::Json(Qr {
        mimetype: qr.mimetype,
        data: qr.data,
    }))
}
