//! `GET /api/segments/{id}/export` and `GET /api/contacts/export`: a segment's contacts,
//! or those of the list's filters, as CSV, streamed page by page from the database (never
//! every row in memory), in the columns the import reads, so an export imports again
//! (`POST /api/contacts/imports`).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use serde_json::Value;

use super::auth::AuthUser;
use super::contacts::{checked_filter, ContactQuery};
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError, UnprocessableError,
};
use crate::actors::Hub;
use crate::domain::access::Denied;
use crate::domain::segment_filter::Filter;
use crate::domain::Viewer;
use crate::store::contacts::Contact;

/// Contacts read from the database per page of the stream.
const PAGE: i64 = 500;

/// The header: the import's columns, then `attr.<name>` for each declared attribute.
fn header(attrs: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        "phone",
        "name",
        "email",
        "type",
        "tags",
        "notes",
        "lifetime_spend",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(attrs.iter().map(|a| format!("attr.{a}")));
    h
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn row(c: &Contact, attrs: &[String]) -> Vec<String> {
    let mut r = vec![
        c.phone.clone().unwrap_or_default(),
        c.name.clone().unwrap_or_default(),
        c.email.clone().unwrap_or_default(),
        c.kind.clone().unwrap_or_default(),
        c.tags.join(";"),
        c.notes.clone().unwrap_or_default(),
        if c.lifetime_spend_cents == 0 {
            String::new()
        } else {
            c.lifetime_spend.to_string()
        },
    ];
    r.extend(attrs.iter().map(|a| cell(c.attributes.0.get(a))));
    r
}

fn encode(records: &[Vec<String>]) -> Result<Bytes, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r)
            .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok(Bytes::from(buf))
}

struct Cursor {
    hub: Arc<Hub>,
    viewer: Viewer,
    /// The list's text search, if any.
    q: Option<String>,
    filter: Arc<Filter>,
    attrs: Arc<Vec<String>>,
    before: Option<i64>,
    done: bool,
}

/// The next page of rows, newest contact first (`None`: no more).
async fn next_page(mut c: Cursor) -> Option<(Result<Bytes, actix_web::Error>, Cursor)> {
    if c.done {
        return None;
    }
    let page = match c
        .hub
        .contacts(&c.viewer, c.q.as_deref(), &c.filter, c.before, PAGE)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            c.done = true;
            tracing::warn!(error = %e, "a contact export broke off");
            return Some((Err(ApiError::from(e).into()), c));
        }
    };
    if (page.len() as i64) < PAGE {
        c.done = true;
    }
    let last = page.last().map(|x| x.id)?;
    c.before = Some(last);
    // Erased contacts hold nothing to export.
    let records: Vec<Vec<String>> = page
        .iter()
        .filter(|x| x.erased_at.is_none())
        .map(|x| row(x, &c.attrs))
        .collect();
    Some((encode(&records).map_err(Into::into), c))
}

#[utoipa::path(get, path = "/api/segments/{id}/export", tag = "segments", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String,
        description = "the segment's contacts the caller may see, streamed: a header row (`phone`, `name`, `email`, `type`, `tags` separated by `;`, `notes`, `lifetime_spend`, `attr.<name>` for each declared attribute), then one contact a row; the import (`POST /api/contacts/imports`) reads it back"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn segment(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.viewer.may_export_contacts().map_err(|d| match d {
        Denied::Forbidden(why) => ApiError::Forbidden(why.to_string()),
        Denied::Hidden => ApiError::NotFound(format!("segment {id}")),
    })?;
    let seg = hub.segment_raw(&auth.viewer, *id).await?;
    let filter = hub.segment_filter(&seg).await?;
    stream(&hub, &auth, None, filter, &format!("segment-{}.csv", *id)).await
}

#[utoipa::path(get, path = "/api/contacts/export", tag = "contacts", security(("bearer" = [])), params(ContactQuery),
    responses((status = 200, content_type = "text/csv", body = String,
        description = "the contacts `GET /api/contacts` lists for the same parameters (every page), streamed in the columns of `GET /api/segments/{id}/export`"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        (status = 404, body = ErrorBody, description = "no such segment"),
        ForbiddenError, UnprocessableError, AuthErrors))]
pub async fn filtered(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<ContactQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.viewer.may_export_contacts().map_err(|d| match d {
        Denied::Forbidden(why) => ApiError::Forbidden(why.to_string()),
        Denied::Hidden => ApiError::NotFound("contacts".into()),
    })?;
    let filter = checked_filter(&hub, &auth, &q).await?;
    let text = q.q.clone().filter(|s| !s.is_empty());
    stream(&hub, &auth, text, filter, "contacts.csv").await
}

/// The CSV response: the header, then the rows a page at a time as the client reads them.
async fn stream(
    hub: &web::Data<Arc<Hub>>,
    auth: &AuthUser,
    q: Option<String>,
    filter: Filter,
    filename: &str,
) -> Result<HttpResponse, ApiError> {
    let schema = crate::store::contact_schema::schema(hub.db()).await?;
    let mut attrs: Vec<String> = schema.attributes.keys().cloned().collect();
    attrs.sort();
    let head = encode(&[header(&attrs)])?;
    let cursor = Cursor {
        hub: hub.get_ref().clone(),
        viewer: auth.viewer.clone(),
        q,
        filter: Arc::new(filter),
        attrs: Arc::new(attrs),
        before: None,
        done: false,
    };
    let rows = futures_util::stream::unfold(cursor, next_page);
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(head) }),
        rows,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}
