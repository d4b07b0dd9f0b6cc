//! `/api/templates`: saved message templates for campaigns (docs/templates.md).

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
use crate::actors::Hub;
use crate::store::templates::MessageTemplate;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTemplate {
    /// 1 to 200 characters.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: String,
    /// Up to 4096 characters of text with template variables and fallbacks
    /// (`Hi {{contact.first_name | "there"}}`, docs/bots.md); one the engine cannot read is
    /// 422 naming `body`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchTemplate {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub body: Option<String>,
}

#[utoipa::path(get, path = "/api/templates", tag = "templates", security(("bearer" = [])), params(TemplateQuery),
    responses((status = 200, body = inline(Page<MessageTemplate>), description = "oldest first"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<TemplateQuery>,
) -> Result<web::Json<Page<MessageTemplate>>, ApiError> {
    let limit = checked_limit(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid cursor {c:?}")))
        })
        .transpose()?;
    let items = hub.templates(&auth.viewer, after, limit).await?;
    Ok(web::Json(page(items, limit, |t| t.id.to_string())))
}

#[utoipa::path(post, path = "/api/templates", tag = "templates", security(("bearer" = [])), request_body = NewTemplate,
    responses((status = 201, body = MessageTemplate), ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewTemplate>,
) -> Result<HttpResponse, ApiError> {
    let t = hub
        .create_template(&auth.viewer, &body.0.name, &body.0.body)
        .await?;
    Ok(HttpResponse::Created().json(t))
}

#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = MessageTemplate), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    Ok(web::Json(hub.template(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = PatchTemplate,
    responses((status = 200, body = MessageTemplate), ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchTemplate>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    let b = body.0;
    Ok(web::Json(
        hub.update_template(&auth.viewer, *id, b.name.as_deref(), b.body.as_deref())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted; campaigns keep the text they copied"), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_template(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
