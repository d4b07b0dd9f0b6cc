//! Handling a conversation over HTTP (contract §3a): assign, resolve, reopen, private notes.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{page, Page, PageQuery};
use crate::actors::Hub;
use crate::domain::protocol::id_or_null;
use crate::store::conversations::Conversation;
use crate::store::notes::Note;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignBody {
    /// A member's id, or null to return the conversation to the queue. Required.
    #[schema(value_type = Option<i64>, required = true)]
    pub assignee_id: serde_json::Value,
    /// A private note kept with the change (a transfer's reason).
    #[schema(
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    /// At most 4096 characters, not only whitespace, without U+0000.
    #[schema(
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub text: String,
}

#[utoipa::path(post, path = "/api/conversations/{id}/assign", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AssignBody,
    responses((status = 200, body = Conversation),
        (status = 409, body = ErrorBody, description = "the assignee is at capacity"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn assign(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<AssignBody>,
) -> Result<web::Json<Conversation>, ApiError> {
    let b = body.0;
    let to = id_or_null("assignee_id", &b.assignee_id)?;
    let done = hub.assign(&auth.viewer, *id, to, b.note).await?;
    Ok(web::Json(done.conversation))
}

#[utoipa::path(post, path = "/api/conversations/{id}/resolve", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Conversation), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn resolve(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Conversation>, ApiError> {
    Ok(web::Json(hub.set_resolved(&auth.viewer, *id, true).await?))
}

#[utoipa::path(post, path = "/api/conversations/{id}/reopen", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Conversation), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn reopen(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Conversation>, ApiError> {
    Ok(web::Json(hub.set_resolved(&auth.viewer, *id, false).await?))
}

#[utoipa::path(post, path = "/api/conversations/{id}/notes", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NoteBody,
    responses((status = 201, body = Note, description = "kept for the team; never sent to WhatsApp"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn add_note(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<NoteBody>,
) -> Result<HttpResponse, ApiError> {
    let note = hub.add_note(&auth.viewer, *id, body.0.text).await?;
    Ok(HttpResponse::Created().json(note))
}

#[utoipa::path(get, path = "/api/conversations/{id}/notes", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = inline(Page<Note>), description = "newest first"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn notes(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Note>>, ApiError> {
    let limit = p.limit()?;
    let items = hub.notes(&auth.viewer, *id, p.id_cursor()?, limit).await?;
    Ok(web::Json(page(items, limit, |n| n.id.to_string())))
}
