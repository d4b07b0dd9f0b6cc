//! `/api/me/notifications`: a member's own email choices (docs/notifications.md).

use std::sync::Arc;

use actix_web::web;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{ApiError, AuthErrors, JsonBodyErrors, UnprocessableError};
use crate::actors::hub::PrefsPatch;
use crate::actors::Hub;
use crate::domain::notify::{HandoffEmail, NotificationPrefs};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NotificationsPatch {
    /// Emails about a conversation given to you: `off`, `offline` (only while you are not
    /// online; the default) or `always`.
    pub handoff: Option<HandoffEmail>,
    /// Emails when a customer in your sessions waits past the session's SLA (admins and
    /// managers; default on for them).
    pub sla_breach: Option<bool>,
    /// Yesterday's summary, once a day (default off).
    pub daily_summary: Option<bool>,
}

#[utoipa::path(get, path = "/api/me/notifications", tag = "team", security(("bearer" = [])),
    responses((status = 200, body = NotificationPrefs, description = "your email choices (the defaults until you change them)"),
        AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<NotificationPrefs>, ApiError> {
    Ok(web::Json(hub.notification_prefs(&auth.viewer).await?))
}

#[utoipa::path(put, path = "/api/me/notifications", tag = "team", security(("bearer" = [])),
    request_body = NotificationsPatch,
    responses((status = 200, body = NotificationPrefs, description = "the choices given are changed; the others are kept"),
        UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn put(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NotificationsPatch>,
) -> Result<web::Json<NotificationPrefs>, ApiError> {
    let patch = PrefsPatch {
        handoff: body.0.handoff,
        sla_breach: body.0.sla_breach,
        daily_summary: body.0.daily_summary,
    };
    Ok(web::Json(
        hub.set_notification_prefs(&auth.viewer, patch).await?,
    ))
}
