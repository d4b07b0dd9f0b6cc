//! `/api/contact-types` and `/api/contact-attributes`: what a contact's `type` may be and
//! which custom attributes are declared with which type. Everyone reads them; admins and
//! managers change them.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use crate::actors::Hub;
use crate::store::contact_schema::{AttributeDef, ContactType};

/// A whole list (these lists are short: no paging).
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Always null: the whole list is here.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewContactType {
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,63}$")]
    pub name: String,
    /// How it is shown (default: the name).
    #[schema(pattern = r"^[^\u0000]*$")]
    pub label: Option<String>,
    /// Where it comes in lists (lowest first; default 100).
    pub position: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAttribute {
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,63}$")]
    pub name: String,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub label: Option<String>,
    /// `text`, `number`, `date` (YYYY-MM-DD), `boolean` or `choice`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(text|number|date|boolean|choice)$")]
    pub kind: String,
    /// The allowed values of a `choice` (1 to 100); none for other types.
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchAttribute {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub label: Option<String>,
    /// A choice attribute's new list of choices.
    pub choices: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/contact-types", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = inline(List<ContactType>)), AuthErrors))]
pub async fn types(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<List<ContactType>>, ApiError> {
    let items = hub.contact_types(&auth.viewer).await?;
    Ok(web::Json(List {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/contact-types", tag = "contacts", security(("bearer" = [])), request_body = NewContactType,
    responses((status = 201, body = ContactType), (status = 409, body = ErrorBody, description = "the name is taken"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create_type(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewContactType>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let t = hub
        .create_contact_type(&auth.viewer, &b.name, b.label.as_deref(), b.position)
        .await?;
    Ok(HttpResponse::Created().json(t))
}

#[utoipa::path(delete, path = "/api/contact-types/{name}", tag = "contacts", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, body = ErrorBody, description = "contacts have this type"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete_type(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_contact_type(&auth.viewer, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/contact-attributes", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = inline(List<AttributeDef>)), AuthErrors))]
pub async fn attributes(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<List<AttributeDef>>, ApiError> {
    let items = hub.contact_attributes(&auth.viewer).await?;
    Ok(web::Json(List {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/contact-attributes", tag = "contacts", security(("bearer" = [])), request_body = NewAttribute,
    responses((status = 201, body = AttributeDef), (status = 409, body = ErrorBody, description = "the name is declared"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create_attribute(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewAttribute>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let d = hub
        .create_contact_attribute(
            &auth.viewer,
            &b.name,
            b.label.as_deref(),
            &b.kind,
            &b.choices,
        )
        .await?;
    Ok(HttpResponse::Created().json(d))
}

#[utoipa::path(patch, path = "/api/contact-attributes/{name}", tag = "contacts", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = PatchAttribute,
    responses((status = 200, body = AttributeDef), ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update_attribute(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
    body: Checked<PatchAttribute>,
) -> Result<web::Json<AttributeDef>, ApiError> {
    let b = body.0;
    Ok(web::Json(
        hub.update_contact_attribute(
            &auth.viewer,
            &name,
            b.label.as_deref(),
            b.choices.as_deref(),
        )
        .await?,
    ))
}

#[utoipa::path(delete, path = "/api/contact-attributes/{name}", tag = "contacts", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 204, description = "deleted; contacts keep their values, undeclared"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete_attribute(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_contact_attribute(&auth.viewer, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}
