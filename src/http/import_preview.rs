//! `POST /api/contacts/imports/preview`: the import's mapping step. Reads only the start of
//! an uploaded CSV (its header and first rows) and proposes a column for each header name;
//! the import then takes the chosen mapping (`mapping` on `POST /api/contacts/imports`).

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, ForbiddenError, UnprocessableError};
use super::validate::{csv_body, session_name};
use crate::actors::Hub;

/// How much of the file a preview reads, and how many rows it shows.
const PREVIEW_BYTES: usize = 64 * 1024;
const PREVIEW_ROWS: usize = 5;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The session the import will be for (who may import is decided as for the import).
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPreview {
    /// The header's names, in order.
    pub columns: Vec<String>,
    /// A proposed column per header name (`phone`, `name`, `email`, `type`, `tags`,
    /// `notes`, `lifetime_spend`, `attr.<name>`), or null (left out unless mapped): edit
    /// it and pass it as the import's `mapping`.
    #[schema(value_type = Object)]
    pub mapping: BTreeMap<String, Option<String>>,
    /// The first rows (at most 5), as read.
    pub sample: Vec<Vec<String>>,
}

#[utoipa::path(post, path = "/api/contacts/imports/preview", tag = "contacts", security(("bearer" = [])), params(PreviewQuery),
    request_body(content = String, content_type = "text/csv", description = "the CSV to be imported (only its first 64 KiB are read)"),
    responses((status = 200, body = ImportPreview),
        (status = 400, body = ErrorBody, description = "an unknown session"),
        (status = 415, body = ErrorBody, description = "the body is not text/csv"),
        ForbiddenError, UnprocessableError, AuthErrors))]
pub async fn preview(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    req: actix_web::HttpRequest,
    q: web::Query<PreviewQuery>,
    mut body: web::Payload,
) -> Result<web::Json<ImportPreview>, ApiError> {
    use futures_util::StreamExt;
    session_name(&q.session)?;
    hub.import_allowed(&auth.viewer, &q.session).await?;
    csv_body(&req)?;
    let mut head: Vec<u8> = Vec::new();
    let mut complete = true;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| ApiError::BadRequest(format!("the body broke off: {e}")))?;
        head.extend_from_slice(&piece);
        if head.len() >= PREVIEW_BYTES {
            // The rest is not needed: the record cut here is dropped below.
            complete = false;
            break;
        }
    }
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(head.as_slice());
    let mut records = Vec::new();
    for rec in r.records().take(PREVIEW_ROWS + 2) {
        match rec {
            Ok(rec) => records.push(rec.iter().map(str::to_string).collect::<Vec<_>>()),
            Err(_) => break,
        }
    }
    // A cut file's last record may be cut too.
    if !complete && records.len() > PREVIEW_ROWS + 1 {
        records.truncate(PREVIEW_ROWS + 1);
    } else if !complete {
        records.pop();
    }
    let mut records = records.into_iter();
    let columns = records.next().ok_or_else(|| {
        ApiError::Invalid(crate::domain::FieldError::new(
            "columns",
            "the body needs a header row naming its columns",
        ))
    })?;
    let mapping: BTreeMap<String, Option<String>> = columns
        .iter()
        .map(|c| (c.clone(), crate::domain::csv_mapping::propose(c)))
        .collect();
    // An import needs a phone column: a header where none looks like one is not a
    // contact file (the import itself still takes any column mapped to `phone`).
    if !mapping.values().any(|m| m.as_deref() == Some("phone")) {
        return Err(ApiError::Invalid(crate::domain::FieldError::new(
            "columns",
            "no column looks like a phone number's (phone, mobile, tel, whatsapp, number…)",
        )));
    }
    Ok(web::Json(ImportPreview {
        columns,
        mapping,
        sample: records.take(PREVIEW_ROWS).collect(),
    }))
}
