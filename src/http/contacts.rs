//! `/api/contacts`: the people the business talks to (the CRM issue deepens this).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, JsonBodyErrors, NotFoundError};
use super::pagination::{page, Page, PageQuery};
use super::validate::{is_session_name, no_nul_opt};
use crate::actors::Hub;
use crate::domain::ChatId;
use crate::store::contacts::{self, Contact, ContactPatch};
use crate::store::sessions;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Matches name, WhatsApp name, phone or chat id.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), params(ContactQuery, PageQuery),
    responses((status = 200, body = inline(Page<Contact>)),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"), AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    q: web::Query<ContactQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Contact>>, ApiError> {
    let limit = p.limit()?;
    no_nul_opt("q", q.q.as_deref())?;
    let items = contacts::list(
        &hub.db,
        q.q.as_deref().filter(|s| !s.is_empty()),
        p.id_cursor()?,
        limit,
    )
    .await?;
    Ok(web::Json(page(items, limit, |c| c.id.to_string())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewContact {
    /// The registered WhatsApp session (name) the contact is reached through; another
    /// name is refused with 400.
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: String,
    /// International number: 6 to 15 digits with an optional leading `+`.
    #[schema(pattern = r"^\+?[0-9]{6,15}$")]
    pub phone: String,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub name: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub email: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub notes: Option<String>,
}

#[utoipa::path(post, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), request_body = NewContact,
    responses((status = 201, body = Contact),
        (status = 409, body = ErrorBody, description = "the session already has a contact with this number"),
        JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    body: web::Json<NewContact>,
) -> Result<HttpResponse, ApiError> {
    let digits = body.phone.strip_prefix('+').unwrap_or(&body.phone);
    if digits.len() < 6 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadRequest(
            "phone must be an international number of 6 to 15 digits".into(),
        ));
    }
    let unknown = || ApiError::BadRequest(format!("unknown session {:?}", body.session));
    if !is_session_name(&body.session) {
        return Err(unknown());
    }
    check_fields(&body.name, &body.email, &body.notes)?;
    let session = sessions::by_name(&hub.db, &body.session)
        .await?
        .ok_or_else(unknown)?;
    let chat = ChatId::normalise(&format!("{digits}@c.us"));
    let patch = ContactPatch {
        name: body.name.clone(),
        email: body.email.clone(),
        notes: body.notes.clone(),
    };
    let c = contacts::create(
        &hub.db,
        session.id,
        chat.as_str(),
        chat.phone().as_deref(),
        &patch,
        hub.now_ms(),
    )
    .await?;
    Ok(HttpResponse::Created().json(c))
}

fn check_fields(
    name: &Option<String>,
    email: &Option<String>,
    notes: &Option<String>,
) -> Result<(), ApiError> {
    no_nul_opt("name", name.as_deref())?;
    no_nul_opt("email", email.as_deref())?;
    no_nul_opt("notes", notes.as_deref())
}

#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Contact), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Contact>, ApiError> {
    contacts::get(&hub.db, *id)
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::NotFound(format!("contact {id} not found")))
}

#[utoipa::path(patch, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ContactPatch, responses((status = 200, body = Contact), JsonBodyErrors, NotFoundError, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ContactPatch>,
) -> Result<web::Json<Contact>, ApiError> {
    check_fields(&body.name, &body.email, &body.notes)?;
    Ok(web::Json(
        contacts::update(&hub.db, *id, &body, hub.now_ms()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let existed = hub
        .writer
        .run(*id, |tx, id| Box::pin(contacts::delete(tx, *id)))
        .await?;
    if !existed {
        return Err(ApiError::NotFound(format!("contact {id} not found")));
    }
    Ok(HttpResponse::NoContent().finish())
}
