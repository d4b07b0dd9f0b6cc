//! `GET /api/contacts/duplicates` and `POST /api/contacts/{id}/merge`.

use std::sync::Arc;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use crate::actors::Hub;
use crate::store::contact_merge::DuplicateGroup;
use crate::store::contacts::ContactDetail;

#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicates {
    pub items: Vec<DuplicateGroup>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeInput {
    /// The contact merged into this one, then deleted (a whole number; `12.0` reads as 12).
    #[schema(value_type = i64)]
    pub from: serde_json::Value,
}

/// A contact id: an integer, or a number with no fraction (JSON does not tell them apart).
fn contact_id(v: &serde_json::Value) -> Result<i64, ApiError> {
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| {
            ApiError::Invalid(crate::domain::FieldError::new(
                "from",
                format!("a contact id, got {v}"),
            ))
        })
}

#[utoipa::path(get, path = "/api/contacts/duplicates", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = Duplicates, description = "groups of contacts (of the caller's sessions) with the same number in any format or session, or the same email in any case; at most 200 groups"),
        AuthErrors))]
pub async fn duplicates(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<Duplicates>, ApiError> {
    Ok(web::Json(Duplicates {
        items: hub.duplicate_contacts(&auth.viewer).await?,
    }))
}

#[utoipa::path(post, path = "/api/contacts/{id}/merge", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = MergeInput,
    responses((status = 200, body = ContactDetail, description = "the kept contact with `from` merged in: its conversations, WhatsApp ids, tags (united), attributes (this contact's win, missing ones taken), notes (appended), spend (added) and consent (an opt-out wins); `from` is deleted"),
        (status = 409, body = ErrorBody, description = "one of them was erased, or `from` is the contact itself"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn merge(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<MergeInput>,
) -> Result<web::Json<ContactDetail>, ApiError> {
    let from = contact_id(&body.0.from)?;
    Ok(web::Json(
        hub.merge_contacts(&auth.viewer, *id, from).await?,
    ))
}
