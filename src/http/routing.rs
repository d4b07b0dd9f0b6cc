//! Automatic assignment over HTTP, for supervisors: a session's queue and a
//! conversation's assignment history with the why of each automatic assignment
//! (docs/routing.md).

use std::sync::Arc;

use actix_web::web;

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError};
use super::pagination::{page, ActivityPageQuery, Page, PageQuery};
use crate::actors::Hub;
use crate::store::conversations::Cursor;
use crate::store::routing::{AssignmentItem, QueueItem};

#[utoipa::path(get, path = "/api/sessions/{name}/queue", tag = "sessions", security(("bearer" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$"), ActivityPageQuery),
    responses((status = 200, body = inline(Page<QueueItem>),
            description = "the waiting conversations, the next to be assigned first (cursor: `<waiting_since>.<id>`)"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn queue(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
    p: web::Query<ActivityPageQuery>,
) -> Result<web::Json<Page<QueueItem>>, ApiError> {
    let limit = p.limit()?;
    let after = p
        .cursor
        .as_deref()
        .map(|c| {
            Cursor::decode(c).ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {c:?}")))
        })
        .transpose()?;
    let items = hub
        .queue(&auth.viewer, &name, after.map(|c| (c.at, c.id)), limit)
        .await?;
    Ok(web::Json(page(items, limit, |q| {
        Cursor {
            at: q.waiting_since,
            id: q.conversation_id,
        }
        .encode()
    })))
}

#[utoipa::path(get, path = "/api/conversations/{id}/assignments", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = inline(Page<AssignmentItem>),
            description = "every change of hands, oldest first, with the router's why (`detail`) for its own"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn assignments(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<AssignmentItem>>, ApiError> {
    let limit = p.limit()?;
    let items = hub
        .assignments(&auth.viewer, *id, p.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |a| a.id.to_string())))
}
