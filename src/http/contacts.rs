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
use crate::store::contacts::{self, Contact, ContactPatch};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Found (ignoring case) in the name, WhatsApp name, phone, chat id, email or notes.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), params(ContactQuery, PageQuery),
    responses((status = 200, body = inline(Page<Contact>)),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"), AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<ContactQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Contact>>, ApiError> {
    let limit = p.limit()?;
    no_nul_opt("q", q.q.as_deref())?;
    let items = contacts::list(
        hub.db(),
        &auth.viewer.contacts(),
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
    auth: AuthUser,
    body: web::Json<NewContact>,
) -> Result<HttpResponse, ApiError> {
    let digits = body.phone.strip_prefix('+').unwrap_or(&body.phone);
    if digits.len() < 6 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadRequest(
            "phone must be an international number of 6 to 15 digits".into(),
        ));
    }
    if !is_session_name(&body.session) {
        return Err(ApiError::BadRequest(format!(
            "unknown session {:?}",
            body.session
        )));
    }
    check_fields(&body.name, &body.email, &body.notes)?;
    let patch = ContactPatch {
        name: body.name.clone(),
        email: body.email.clone(),
        notes: body.notes.clone(),
    };
    let c = hub
        .create_contact(&auth.viewer, &body.session, digits, &patch)
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
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Contact>, ApiError> {
    Ok(web::Json(hub.contact(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ContactPatch, responses((status = 200, body = Contact), JsonBodyErrors, NotFoundError, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ContactPatch>,
) -> Result<web::Json<Contact>, ApiError> {
    check_fields(&body.name, &body.email, &body.notes)?;
    Ok(web::Json(
        hub.update_contact(&auth.viewer, *id, &body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_contact(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
