//! `/api/quick-replies`: the team's saved responses. Everyone with an inbox reads them;
//! admins and managers write them.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{checked_limit, page, Page};
use super::validate::no_nul_opt;
use crate::actors::hub::QuickReplyPatch;
use crate::actors::Hub;
use crate::domain::quick_reply::check_shortcut;
use crate::store::quick_replies::QuickReply;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuickReplyQuery {
    /// Matches the shortcut or the text, ignoring case.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/quick-replies", tag = "quick-replies", security(("bearer" = [])),
    params(QuickReplyQuery),
    responses((status = 200, body = inline(Page<QuickReply>), description = "by shortcut"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<QuickReplyQuery>,
) -> Result<web::Json<Page<QuickReply>>, ApiError> {
    let limit = checked_limit(q.limit)?;
    no_nul_opt("q", q.q.as_deref())?;
    if let Some(c) = q.cursor.as_deref() {
        check_shortcut(c).map_err(|_| ApiError::BadRequest(format!("invalid cursor {c:?}")))?;
    }
    let items = hub
        .quick_replies(
            &auth.viewer,
            q.q.as_deref().filter(|s| !s.is_empty()),
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    Ok(web::Json(page(items, limit, |r| r.shortcut.clone())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewQuickReply {
    /// What a member types after `/` to find it; unique.
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub shortcut: String,
    /// Up to 4096 characters, not only whitespace. Template variables
    /// (`{{contact.name}}`, `{{contact.first_name}}`, `{{contact.phone}}`,
    /// `{{contact.<attribute>}}`, `{{business.name}}`, `{{business.hours_today}}`) are
    /// checked as a bot's are: anything else, or a `{{` without its `}}`, is 422.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchQuickReply {
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub shortcut: Option<String>,
    /// As for a new quick reply.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub text: Option<String>,
}

#[utoipa::path(post, path = "/api/quick-replies", tag = "quick-replies", security(("bearer" = [])),
    request_body = NewQuickReply,
    responses((status = 201, body = QuickReply),
        (status = 409, body = ErrorBody, description = "the shortcut is taken"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewQuickReply>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let r = hub
        .create_quick_reply(&auth.viewer, b.shortcut, b.text)
        .await?;
    Ok(HttpResponse::Created().json(r))
}

#[utoipa::path(get, path = "/api/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = QuickReply), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<QuickReply>, ApiError> {
    Ok(web::Json(hub.quick_reply(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatchQuickReply,
    responses((status = 200, body = QuickReply),
        (status = 409, body = ErrorBody, description = "the shortcut is taken"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchQuickReply>,
) -> Result<web::Json<QuickReply>, ApiError> {
    let b = body.0;
    let patch = QuickReplyPatch {
        shortcut: b.shortcut,
        text: b.text,
    };
    Ok(web::Json(
        hub.update_quick_reply(&auth.viewer, *id, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_quick_reply(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
