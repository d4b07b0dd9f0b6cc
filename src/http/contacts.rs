//! `/api/contacts`: the people the business talks to (the CRM: profiles, search and
//! filters evaluated in the database; docs/segments.md for the filter grammar).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{page, Page, PageQuery};
use super::validate::{csv_body, no_nul_opt, session_name};
use crate::actors::hub::ContactInput;
use crate::actors::Hub;
use crate::domain::segment_filter::{Filter, Node};
use crate::store::contacts::{Contact, ContactDetail};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Found (ignoring case) in the name, WhatsApp name, phone, chat id, email or notes.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Contacts with this tag.
    #[param(pattern = r"^[^\u0000]*$")]
    pub tag: Option<String>,
    /// Contacts of this type.
    #[serde(rename = "type")]
    #[param(pattern = r"^[^\u0000]*$")]
    pub kind: Option<String>,
    /// The contacts of this segment.
    pub segment_id: Option<i64>,
    /// Contacts this member owns.
    pub owner_id: Option<i64>,
    /// Only opted-out contacts (true) or only the others (false).
    pub opted_out: Option<bool>,
    /// Lifetime spend from (major units, inclusive).
    pub spend_min: Option<f64>,
    /// Lifetime spend up to (inclusive).
    pub spend_max: Option<f64>,
    /// Last message after this time (RFC 3339).
    #[param(pattern = r"^[^\u0000]*$")]
    pub last_message_after: Option<String>,
    /// Last message before this time (RFC 3339).
    #[param(pattern = r"^[^\u0000]*$")]
    pub last_message_before: Option<String>,
    /// At least this many conversations.
    #[param(minimum = 0)]
    pub conversations_min: Option<i64>,
    /// At most this many conversations.
    #[param(minimum = 0)]
    pub conversations_max: Option<i64>,
    /// Any filter of the segment grammar, as JSON (docs/segments.md), e.g.
    /// `{"all":[{"field":"attributes.plan","op":"eq","value":"gold"}]}`.
    #[param(pattern = r"^[^\u0000]*$")]
    pub filter: Option<String>,
}

impl ContactQuery {
    /// Each simple parameter as a clause of the filter grammar, with its own name. An
    /// empty text parameter (`?tag=&type=`) is no filter.
    fn clauses(&self) -> Vec<(&'static str, Value)> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let (tag, kind) = (given(&self.tag), given(&self.kind));
        let (after, before) = (
            given(&self.last_message_after),
            given(&self.last_message_before),
        );
        let mut out = Vec::new();
        let mut add = |name, field: &str, op: &str, value: Value| {
            out.push((name, json!({"field": field, "op": op, "value": value})));
        };
        if let Some(t) = tag {
            add("tag", "tags", "contains", json!(t));
        }
        if let Some(t) = kind {
            add("type", "type", "eq", json!(t));
        }
        if let Some(o) = self.owner_id {
            add("owner_id", "owner_id", "eq", json!(o));
        }
        if let Some(o) = self.opted_out {
            add("opted_out", "opted_out", "eq", json!(o));
        }
        if let Some(s) = self.spend_min {
            add("spend_min", "lifetime_spend", "gte", json!(s));
        }
        if let Some(s) = self.spend_max {
            add("spend_max", "lifetime_spend", "lte", json!(s));
        }
        if let Some(t) = after {
            add("last_message_after", "last_message_at", "gt", json!(t));
        }
        if let Some(t) = before {
            add("last_message_before", "last_message_at", "lt", json!(t));
        }
        if let Some(n) = self.conversations_min {
            add("conversations_min", "conversation_count", "gte", json!(n));
        }
        if let Some(n) = self.conversations_max {
            add("conversations_max", "conversation_count", "lte", json!(n));
        }
        out
    }
}

/// The query's filter (the list's and the CSV export's), its texts checked first.
pub(super) async fn checked_filter(
    hub: &Hub,
    auth: &AuthUser,
    q: &ContactQuery,
) -> Result<Filter, ApiError> {
    for (name, v) in [
        ("q", &q.q),
        ("tag", &q.tag),
        ("type", &q.kind),
        ("filter", &q.filter),
        ("last_message_after", &q.last_message_after),
        ("last_message_before", &q.last_message_before),
    ] {
        no_nul_opt(name, v.as_deref())?;
    }
    filter_of(hub, auth, q).await
}

/// The query's filter: its simple parameters, its `filter`, and its segment's, all holding.
async fn filter_of(hub: &Hub, auth: &AuthUser, q: &ContactQuery) -> Result<Filter, ApiError> {
    let schema = crate::store::contact_schema::schema(hub.db()).await?;
    let mut nodes = Vec::new();
    for (name, clause) in q.clauses() {
        nodes.push(Filter::clause(&clause, name, &schema)?);
    }
    if let Some(text) = q.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            ApiError::Invalid(crate::domain::FieldError::new(
                "filter",
                format!("not JSON: {e}"),
            ))
        })?;
        nodes.push(Node::Group(hub.parse_filter(&v, "filter").await?));
    }
    if let Some(id) = q.segment_id {
        let s = hub.segment_raw(&auth.viewer, id).await?;
        nodes.push(Node::Group(hub.segment_filter(&s).await?));
    }
    Ok(Filter::All(nodes))
}

#[utoipa::path(get, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), params(ContactQuery, PageQuery),
    responses((status = 200, body = inline(Page<Contact>), description = "newest first"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        (status = 404, body = ErrorBody, description = "no such segment"),
        UnprocessableError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<ContactQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Contact>>, ApiError> {
    let limit = p.limit()?;
    let filter = checked_filter(&hub, &auth, &q).await?;
    let items = hub
        .contacts(
            &auth.viewer,
            q.q.as_deref().filter(|s| !s.is_empty()),
            &filter,
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
    /// A phone number with its country code (`+44 7700 900123`, `00447700900123`,
    /// `447700900123`, `447700900123@c.us`), stored as E.164; what cannot be a number is
    /// 422 naming `phone`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub phone: String,
    #[serde(flatten)]
    pub fields: ContactInput,
}

#[utoipa::path(post, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), request_body = NewContact,
    responses((status = 201, body = ContactDetail),
        (status = 409, body = ErrorBody, description = "the session already has a contact with this number"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: web::Json<NewContact>,
) -> Result<HttpResponse, ApiError> {
    session_name(&body.session)?;
    let c = hub
        .create_contact(&auth.viewer, &body.session, &body.phone, &body.fields)
        .await?;
    Ok(HttpResponse::Created().json(c))
}

#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ContactDetail), NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ContactDetail>, ApiError> {
    Ok(web::Json(hub.contact_detail(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ContactInput, responses((status = 200, body = ContactDetail),
        (status = 409, body = ErrorBody, description = "a WhatsApp id is another contact's"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, NotFoundError, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ContactInput>,
) -> Result<web::Json<ContactDetail>, ApiError> {
    Ok(web::Json(
        hub.update_contact(&auth.viewer, *id, &body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_contact(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- imports

/// The largest CSV body (100,000 rows of a few columns need some 10 MiB).
const MAX_IMPORT_BYTES: usize = 128 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The registered WhatsApp session the contacts are reached through (400 otherwise).
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: String,
    /// What a row whose number is already a contact of the session does: `skip` (the
    /// default) or `update` (its non-empty cells replace the contact's fields).
    #[param(pattern = "^(skip|update)$")]
    pub on_duplicate: Option<String>,
    /// The mapping step's choice, as a JSON object from the file's header names to
    /// columns (`phone`, `name`, `email`, `type`, `tags`, `notes`, `lifetime_spend`,
    /// `attr.<name>`; `null` leaves a column out), e.g. `{"Mobile":"phone","Shoe":null}`;
    /// names it does not mention are read as they are. See
    /// `POST /api/contacts/imports/preview`.
    #[param(pattern = r"^[^\u0000]*$")]
    pub mapping: Option<String>,
}

/// The `mapping` parameter as an object (absent or empty: none).
pub(super) fn mapping_of(text: Option<&str>) -> Result<serde_json::Map<String, Value>, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Default::default());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::Invalid(crate::domain::FieldError::new(
            "mapping",
            "a JSON object from header names to columns",
        ))),
    }
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ImportStarted {
    pub id: i64,
}

pub(super) fn header_of(line: &str) -> Result<Vec<String>, ApiError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => Ok(rec.iter().map(str::to_string).collect()),
        _ => Err(ApiError::Invalid(crate::domain::FieldError::new(
            "columns",
            "the body needs a header row naming its columns",
        ))),
    }
}

#[utoipa::path(post, path = "/api/contacts/imports", tag = "contacts", security(("bearer" = [])), params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "a header row naming the columns (`phone`, `name`, `email`, `type`, `tags` separated by `;`, `notes`, `lifetime_spend`, `attr.<name>`), then one contact a row"),
    responses((status = 202, body = ImportStarted, description = "stored; the rows are applied in the background (`GET /api/contacts/imports/{id}`)"),
        (status = 400, body = ErrorBody, description = "an unknown session, or a query parameter out of its pattern"),
        (status = 413, body = ErrorBody, description = "the body is larger than 128 MiB"),
        (status = 415, body = ErrorBody, description = "the body is not text/csv"),
        ForbiddenError, UnprocessableError, AuthErrors))]
pub async fn import(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    req: actix_web::HttpRequest,
    q: web::Query<ImportQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use futures_util::StreamExt;
    session_name(&q.session)?;
    let on_duplicate = match q.on_duplicate.as_deref() {
        None | Some("skip") => "skip",
        Some("update") => "update",
        Some(other) => {
            return Err(ApiError::Invalid(crate::domain::FieldError::new(
                "on_duplicate",
                format!("skip or update, got {other:?}"),
            )))
        }
    };
    hub.import_allowed(&auth.viewer, &q.session).await?;
    let mapping = mapping_of(q.mapping.as_deref())?;
    let header_of = |line: &str| -> Result<Vec<String>, ApiError> {
        let h = header_of(line)?;
        if mapping.is_empty() {
            return Ok(h);
        }
        crate::domain::csv_mapping::apply(&h, &mapping).map_err(ApiError::Invalid)
    };
    csv_body(&req)?;
    let mut split = crate::domain::csv_import::Splitter::new();
    let (mut id, mut seq, mut total) = (None::<i64>, 0i64, 0usize);
    let mut pending: Vec<(i64, String)> = Vec::new();
    let outcome: Result<(), ApiError> = async {
        loop {
            let piece = match body.next().await {
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    return Err(ApiError::BadRequest(format!("the body broke off: {e}")))
                }
                None => break,
            };
            total += piece.len();
            if total > MAX_IMPORT_BYTES {
                return Err(ApiError::PayloadTooLarge(MAX_IMPORT_BYTES));
            }
            pending.extend(
                split
                    .feed(&piece)
                    .map_err(|e| ApiError::Invalid(crate::domain::FieldError::new("body", e)))?,
            );
            if id.is_none() {
                if let Some(h) = split.header.clone() {
                    id = Some(
                        hub.import_begin(&auth.viewer, &q.session, on_duplicate, &header_of(&h)?)
                            .await?,
                    );
                }
            }
            if let Some(i) = id {
                for (first, text) in pending.drain(..) {
                    hub.import_chunk(i, seq, first, &text).await?;
                    seq += 1;
                }
            }
        }
        let rest = split
            .finish()
            .map_err(|e| ApiError::Invalid(crate::domain::FieldError::new("body", e)))?;
        let i = match id {
            Some(i) => i,
            None => {
                let h = split.header.clone().unwrap_or_default();
                let i = hub
                    .import_begin(&auth.viewer, &q.session, on_duplicate, &header_of(&h)?)
                    .await?;
                id = Some(i);
                i
            }
        };
        for (first, text) in pending.drain(..).chain(rest) {
            hub.import_chunk(i, seq, first, &text).await?;
            seq += 1;
        }
        Ok(())
    }
    .await;
    match (outcome, id) {
        (Ok(()), Some(i)) => {
            hub.import_received(i, seq).await?;
            Ok(HttpResponse::Accepted().json(ImportStarted { id: i }))
        }
        (Ok(()), None) => Err(ApiError::Internal("an import without an id".into())),
        (Err(e), Some(i)) => {
            hub.import_abandoned(i, &e.to_string()).await;
            Err(e)
        }
        (Err(e), None) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/contacts/imports/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = crate::store::imports::Import), NotFoundError, AuthErrors))]
pub async fn import_status(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<crate::store::imports::Import>, ApiError> {
    Ok(web::Json(hub.import(&auth.viewer, *id).await?))
}
