//! `POST /api/campaigns/{id}/audience`: a CSV list as a campaign's audience, read whole
//! (it is answered with what each row did), cut into chunks as the contact import cuts
//! its uploads.

use std::sync::Arc;

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::AuthUser;
use super::contacts::{header_of, mapping_of};
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError, UnprocessableError,
};
use super::validate::csv_body;
use crate::actors::hub::UploadedAudience;
use crate::actors::Hub;
use crate::domain::csv_import::Splitter;
use crate::domain::FieldError;

/// The largest list: 100,000 numbers with a few variables each fit in it.
const MAX_LIST_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// A mapping from the file's header names to columns, as the contact import takes
    /// it (`{"Mobile":"phone","First":"name","Plan":"attr.plan"}`; `null` leaves one out).
    #[param(pattern = r"^[^\u0000]*$")]
    pub mapping: Option<String>,
}

fn body_error(e: String) -> ApiError {
    ApiError::Invalid(FieldError::new("body", e))
}

#[utoipa::path(post, path = "/api/campaigns/{id}/audience", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), UploadQuery),
    request_body(content = String, content_type = "text/csv",
        description = "a header row naming the columns (`phone`, and optionally `name`, `attr.<name>` for the message's variables, and any other contact import column), then one number a row"),
    responses((status = 200, body = UploadedAudience, description = "the list's contacts are the campaign's audience now; rows that could not be read are listed by line"),
        (status = 409, body = ErrorBody, description = "the campaign has started or finished"),
        (status = 413, body = ErrorBody, description = "the body is larger than 32 MiB"),
        (status = 415, body = ErrorBody, description = "the body is not text/csv"),
        ForbiddenError, NotFoundError, UnprocessableError, AuthErrors))]
pub async fn upload(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    req: actix_web::HttpRequest,
    id: web::Path<i64>,
    q: web::Query<UploadQuery>,
    mut body: web::Payload,
) -> Result<web::Json<UploadedAudience>, ApiError> {
    use futures_util::StreamExt;
    let mapping = mapping_of(q.mapping.as_deref())?;
    hub.audience_upload_allowed(&auth.viewer, *id).await?;
    csv_body(&req)?;
    let mut split = Splitter::new();
    let (mut chunks, mut total) = (Vec::new(), 0usize);
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| ApiError::BadRequest(format!("the body broke off: {e}")))?;
        total += piece.len();
        if total > MAX_LIST_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_LIST_BYTES));
        }
        chunks.extend(split.feed(&piece).map_err(body_error)?);
    }
    chunks.extend(split.finish().map_err(body_error)?);
    let mut header = header_of(split.header.as_deref().unwrap_or_default())?;
    if !mapping.is_empty() {
        header = crate::domain::csv_mapping::apply(&header, &mapping).map_err(ApiError::Invalid)?;
    }
    Ok(web::Json(
        hub.upload_campaign_audience(&auth.viewer, *id, &header, &chunks)
            .await?,
    ))
}
