//! The supervisors' board (`/api/dashboard`), members' conversation counts
//! (`/api/conversations/counts`) and presence history (`/api/team-members/{id}/presence`).
//! Each change to the first two is also pushed over the websocket (`dashboard.updated`,
//! `counts.updated`; see docs/websocket.md), so clients read them once and never poll.

use std::sync::Arc;

use actix_web::web;

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError};
use super::pagination::{page, Page, PageQuery};
use crate::actors::Hub;
use crate::domain::board::{Board, Counts};
use crate::store::presence::PresenceEntry;

#[utoipa::path(get, path = "/api/dashboard", tag = "team", security(("bearer" = [])),
    responses((status = 200, body = Board, description = "the board as the viewer may see it: their sessions' queues, the members who share a session with them (admins: everything)"),
        ForbiddenError, AuthErrors))]
pub async fn dashboard(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<Board>, ApiError> {
    Ok(web::Json(hub.dashboard(&auth.viewer).await?))
}

#[utoipa::path(get, path = "/api/conversations/counts", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = Counts, description = "over the conversations the viewer may see"),
        ForbiddenError, AuthErrors))]
pub async fn counts(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<Counts>, ApiError> {
    Ok(web::Json(hub.counts(&auth.viewer).await?))
}

#[utoipa::path(get, path = "/api/team-members/{id}/presence", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = inline(Page<PresenceEntry>), description = "the member's presence transitions with their causes, newest first"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn presence_history(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<PresenceEntry>>, ApiError> {
    let limit = p.limit()?;
    let items = hub
        .presence_history(&auth.viewer, *id, p.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |e| e.id.to_string())))
}
