//! `/api/contacts`: the people the business talks to (the CRM issue deepens this).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{ApiError, ErrorBody};
use super::pagination::{page, Page, PageQuery};
use crate::actors::Hub;
use crate::store::contacts::{self, Contact, ContactPatch};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContactQuery {
    /// Matches name, WhatsApp name, phone or chat id.
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), params(ContactQuery, PageQuery),
    responses((status = 200, body = inline(Page<Contact>)), (status = 400, body = ErrorBody)))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<ContactQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Contact>>, ApiError> {
    let limit = p.limit()?;
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
    /// The WhatsApp session (name) the contact is reached through.
    pub session: String,
    /// International number, digits with an optional leading `+`.
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

#[utoipa::path(post, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), request_body = NewContact,
    responses((status = 201, body = Contact), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: web::Json<NewContact>,
) -> Result<HttpResponse, ApiError> {
    let digits = body.phone.trim().trim_start_matches('+');
    if digits.len() < 6 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadRequest(
            "phone must be an international number of 6 to 15 digits".into(),
        ));
    }
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

#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Contact>, ApiError> {
    Ok(web::Json(hub.contact(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ContactPatch, responses((status = 200, body = Contact), (status = 404, body = ErrorBody)))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ContactPatch>,
) -> Result<web::Json<Contact>, ApiError> {
    Ok(web::Json(
        hub.update_contact(&auth.viewer, *id, &body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_contact(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
