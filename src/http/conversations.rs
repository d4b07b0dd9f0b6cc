//! `/api/conversations` and `/api/messages`: the inbox.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, JsonBodyErrors, NotFoundError};
use super::pagination::{page, ActivityPageQuery, Page, PageQuery};
use super::validate::{is_session_name, no_nul_opt};
use crate::actors::{Hub, HubError};
use crate::domain::{ConversationStatus, Reply};
use crate::store::contacts::ContactCard;
use crate::store::conversations::{self, Conversation, Cursor, Filter};
use crate::store::messages::{self, Message};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// One status or several, comma-separated (`bot,pending,open`: everything not
    /// resolved); absent or empty: any status.
    #[param(pattern = r"^((bot|pending|open|resolved)(,(bot|pending|open|resolved))*)?$")]
    pub status: Option<String>,
    /// WhatsApp session name.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    pub assignee_id: Option<i64>,
    /// Only conversations nobody is assigned to.
    pub unassigned: Option<bool>,
    /// A text found (ignoring case) in the chat's number or id, the title, the contact's
    /// name, WhatsApp name, phone, email or notes, or any message of the conversation.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Only conversations whose contact has this tag.
    #[param(pattern = r"^[^\u0000]*$")]
    pub tag: Option<String>,
    /// Only the conversations of this contact.
    pub contact_id: Option<i64>,
}

/// `bot,pending,open` → those statuses, each checked: a bad one is a 400 naming it.
fn statuses(list: Option<&str>) -> Result<Vec<ConversationStatus>, ApiError> {
    let mut out = Vec::new();
    let list = list.unwrap_or("");
    if list.is_empty() {
        return Ok(out);
    }
    for text in list.split(',') {
        let s = ConversationStatus::parse(text).ok_or_else(|| {
            let known: Vec<&str> = ConversationStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::BadRequest(format!(
                "status: unknown status {text:?} (one of {})",
                known.join(", ")
            ))
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/conversations", tag = "conversations", security(("bearer" = [])),
    params(ConversationQuery, ActivityPageQuery),
    responses((status = 200, body = inline(Page<Conversation>), description = "most recent activity first"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"), AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<ConversationQuery>,
    p: web::Query<ActivityPageQuery>,
) -> Result<web::Json<Page<Conversation>>, ApiError> {
    let limit = p.limit()?;
    no_nul_opt("q", q.q.as_deref())?;
    no_nul_opt("tag", q.tag.as_deref())?;
    let status = statuses(q.status.as_deref())?;
    let access = auth
        .viewer
        .conversations()
        .map_err(|d| HubError::denied(d, || "conversations".into()))?;
    let after = p
        .cursor
        .as_deref()
        .map(|c| {
            Cursor::decode(c).ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {c:?}")))
        })
        .transpose()?;
    if let Some(name) = q.session.as_deref().filter(|n| !is_session_name(n)) {
        return Err(ApiError::BadRequest(format!(
            "session must be a session name, got {name:?}"
        )));
    }
    let session_id = match q.session.as_deref() {
        None => None,
        Some(name) => match hub.registry().resolve(name).await? {
            Some(s) => Some(s.id),
            None => {
                return Ok(web::Json(Page {
                    items: vec![],
                    next_cursor: None,
                }))
            }
        },
    };
    // A session outside the viewer's holds nothing it may see: answered without reading
    // the whole list to find that out.
    if let (Some(id), Some(allowed)) = (session_id, access.sessions.as_deref()) {
        if !allowed.contains(&id) {
            return Ok(web::Json(Page {
                items: vec![],
                next_cursor: None,
            }));
        }
    }
    let filter = Filter {
        status,
        session_id,
        assignee_id: q.assignee_id,
        unassigned: q.unassigned.unwrap_or(false),
        // An empty search is no search.
        q: q.q.clone().filter(|s| !s.is_empty()),
        tag: q.tag.clone(),
        contact_id: q.contact_id,
    };
    let items = conversations::list(hub.db(), &access, &filter, after, limit).await?;
    Ok(web::Json(page(items, limit, |c| {
        Cursor {
            at: c.last_message_at,
            id: c.id,
        }
        .encode()
    })))
}

/// One conversation with its contact (only here: lists and events stay lean).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// The contact behind the chat; `null` for a group or a deleted contact.
    pub contact: Option<ContactCard>,
}

#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ConversationDetail), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ConversationDetail>, ApiError> {
    let (conversation, contact) = hub.conversation_with_contact(&auth.viewer, *id).await?;
    Ok(web::Json(ConversationDetail {
        conversation,
        contact,
    }))
}

#[utoipa::path(get, path = "/api/conversations/{id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = inline(Page<Message>), description = "newest first; the cursor pages back in time"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"), NotFoundError, AuthErrors))]
pub async fn messages(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Message>>, ApiError> {
    let limit = p.limit()?;
    hub.conversation(&auth.viewer, *id).await?;
    let items = messages::list(hub.db(), *id, p.id_cursor()?, limit).await?;
    Ok(web::Json(page(items, limit, |m| m.id.to_string())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessage {
    /// At most 4096 characters, not only whitespace, without U+0000.
    #[schema(
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub text: String,
    /// Chosen by the client; echoed in `message.created`, and a repeat with the same id
    /// returns the first message instead of sending twice.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub client_id: Option<String>,
}

#[utoipa::path(post, path = "/api/conversations/{id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SendMessage,
    responses((status = 201, body = Message, description = "stored and queued; sent through WAHA at the session's rate"),
        JsonBodyErrors, NotFoundError, AuthErrors))]
pub async fn reply(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<SendMessage>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    no_nul_opt("client_id", body.client_id.as_deref())?;
    let msg = hub
        .reply(
            &auth.viewer,
            Reply {
                conversation_id: *id,
                text: body.text,
                client_id: body.client_id,
                author_id: auth.user.id,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(msg))
}

#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Conversation), NotFoundError, AuthErrors))]
pub async fn read(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Conversation>, ApiError> {
    Ok(web::Json(hub.mark_read(&auth.viewer, *id).await?))
}

#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Message), NotFoundError, AuthErrors))]
pub async fn message(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Message>, ApiError> {
    Ok(web::Json(hub.message(&auth.viewer, *id).await?))
}

#[cfg(test)]
mod tests {
    use super::statuses;
    use crate::domain::ConversationStatus as S;

    #[test]
    fn a_status_list_is_each_value_checked() {
        assert_eq!(statuses(None).ok(), Some(vec![]));
        assert_eq!(statuses(Some("")).ok(), Some(vec![]));
        assert_eq!(statuses(Some("open")).ok(), Some(vec![S::Open]));
        assert_eq!(
            statuses(Some("bot,pending,open,bot")).ok(),
            Some(vec![S::Bot, S::Pending, S::Open])
        );
        let err = statuses(Some("open,closed")).expect_err("closed is no status");
        assert!(err.to_string().contains("\"closed\""), "{err}");
        assert!(statuses(Some("OPEN")).is_err());
        assert!(
            statuses(Some("open,")).is_err(),
            "an empty value is no status"
        );
    }
}
