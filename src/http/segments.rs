//! `/api/segments`: saved contact filters with their live count (docs/segments.md).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{checked_limit, page, Page};
use crate::actors::hub::SegmentView;
use crate::actors::Hub;
use crate::store::segments::Segment;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SegmentQuery {
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `count`: each segment with its `count` (one count query per segment: keep the page
    /// small on a big database).
    #[param(pattern = "^count$")]
    pub include: Option<String>,
}

/// A listed segment; `count` only with `?include=count`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentItem {
    #[serde(flatten)]
    pub segment: Segment,
    /// The contacts (that you may see) it holds now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSegment {
    /// 1 to 200 characters.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: String,
    /// `{"all"|"any": [{"field", "op", "value"}, …]}` (docs/segments.md); a bad clause is
    /// 422 naming it (`filter.all[2]: unknown field 'foo'`).
    #[schema(value_type = Object)]
    pub filter: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchSegment {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewSegment {
    #[schema(value_type = Object)]
    pub filter: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentCount {
    /// The contacts (that you may see) the filter holds now.
    pub count: i64,
}

#[utoipa::path(get, path = "/api/segments", tag = "segments", security(("bearer" = [])), params(SegmentQuery),
    responses((status = 200, body = inline(Page<SegmentItem>), description = "oldest first; with `?include=count` each with its count (else `GET /api/segments/{id}` counts)"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<SegmentQuery>,
) -> Result<web::Json<Page<SegmentItem>>, ApiError> {
    let limit = checked_limit(q.limit)?;
    let counted = match q.include.as_deref() {
        None => false,
        Some("count") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "include: only `count`, got {other:?}"
            )))
        }
    };
    let after = super::pagination::id_cursor(q.cursor.as_deref())?;
    let list = hub.segments(&auth.viewer, after, limit).await?;
    let items: Vec<SegmentItem> = if counted {
        hub.count_segments(&auth.viewer, list)
            .await?
            .into_iter()
            .map(|v| SegmentItem {
                segment: v.segment,
                count: Some(v.count),
            })
            .collect()
    } else {
        list.into_iter()
            .map(|segment| SegmentItem {
                segment,
                count: None,
            })
            .collect()
    };
    Ok(web::Json(page(items, limit, |s| s.segment.id.to_string())))
}

#[utoipa::path(post, path = "/api/segments", tag = "segments", security(("bearer" = [])), request_body = NewSegment,
    responses((status = 201, body = SegmentView), ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewSegment>,
) -> Result<HttpResponse, ApiError> {
    let s = hub
        .create_segment(&auth.viewer, &body.0.name, &body.0.filter)
        .await?;
    Ok(HttpResponse::Created().json(s))
}

#[utoipa::path(post, path = "/api/segments/preview", tag = "segments", security(("bearer" = [])), request_body = PreviewSegment,
    responses((status = 200, body = SegmentCount, description = "what a segment of this filter would count now"),
        UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn preview(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<PreviewSegment>,
) -> Result<web::Json<SegmentCount>, ApiError> {
    let count = hub.preview_segment(&auth.viewer, &body.0.filter).await?;
    Ok(web::Json(SegmentCount { count }))
}

#[utoipa::path(get, path = "/api/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = SegmentView), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<SegmentView>, ApiError> {
    Ok(web::Json(hub.segment(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = PatchSegment,
    responses((status = 200, body = SegmentView), ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchSegment>,
) -> Result<web::Json<SegmentView>, ApiError> {
    let b = body.0;
    Ok(web::Json(
        hub.update_segment(&auth.viewer, *id, b.name.as_deref(), b.filter.as_ref())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"),
        (status = 409, body = ErrorBody, description = "an unfinished campaign (draft, scheduled, running or paused) has it as its audience; the message names them"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_segment(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
