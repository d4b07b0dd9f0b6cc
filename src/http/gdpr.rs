//! `/api/contacts/{id}/export` and `/api/contacts/{id}/erase`: GDPR (contract §3c), for
//! admins and managers of the contact's session (docs/permissions.md).

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ForbiddenError, NotFoundError};
use crate::actors::hub::{ContactExport, ErasedContact};
use crate::actors::Hub;

#[utoipa::path(get, path = "/api/contacts/{id}/export", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ContactExport, description = "everything held about the contact (the profile, its conversations with every message and note, the audit entries about it, stored import rows naming it, campaign history)"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn export(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let export = hub.export_contact(&auth.viewer, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"contact-{}.json\"", *id),
        ))
        .json(export))
}

#[utoipa::path(post, path = "/api/contacts/{id}/erase", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ErasedContact, description = "the contact's personal data removed and its messages redacted everywhere they are read; asking again is harmless"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn erase(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ErasedContact>, ApiError> {
    Ok(web::Json(hub.erase_contact(&auth.viewer, *id).await?))
}
