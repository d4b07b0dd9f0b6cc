//! `/api/webhook-subscriptions` (outbound webhooks and their delivery log),
//! `/api/api-keys` and `/api/settings/waha`: admins only (docs/integrations.md).

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
use super::pagination::{page, Page, PageQuery};
use crate::actors::hub::{CreatedApiKey, SmtpSettings, SubscriptionPatch, WahaSettings};
use crate::actors::Hub;
use crate::store::api_keys::ApiKey;
use crate::store::hook_queue::Delivery;
use crate::store::hooks::Subscription;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSubscription {
    /// Where deliveries are POSTed: an absolute http(s) URL.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Event types: `message.created`, `message.updated`, `conversation.updated`,
    /// `conversation.assigned`, `conversation.resolved`, `contact.created`,
    /// `contact.updated`, `contact.deleted`, `campaign.finished`.
    #[schema(min_items = 1, max_items = 32, value_type = Vec<crate::domain::hook::HookEvent>)]
    pub events: Vec<String>,
    /// The HMAC-SHA256 key of `X-Tickhub-Signature` (16 to 256 characters); stored
    /// encrypted, never shown again.
    #[schema(min_length = 16, max_length = 256, pattern = r"^[^\u0000]*$")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    pub url: String,
    pub events: Vec<crate::domain::hook::HookEvent>,
    pub active: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchSubscription {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 32, value_type = Option<Vec<crate::domain::hook::HookEvent>>)]
    pub events: Option<Vec<String>>,
    /// `false` pauses it: nothing is queued for it, nothing sent, until it is `true` again.
    pub active: Option<bool>,
    /// A new secret (rotation): deliveries from now on are signed with it.
    #[schema(min_length = 16, max_length = 256, pattern = r"^[^\u0000]*$")]
    pub secret: Option<String>,
}

#[utoipa::path(post, path = "/api/webhook-subscriptions", tag = "integrations", security(("bearer" = [])),
    request_body = NewSubscription,
    responses((status = 201, body = Created, description = "events logged from now on are delivered"),
        (status = 503, body = ErrorBody, description = "no secret key is configured to encrypt the secret (`secret_key_missing`), or the database is away"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewSubscription>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let s = hub
        .create_subscription(&auth.viewer, b.url, b.events, b.secret)
        .await?;
    Ok(HttpResponse::Created().json(Created {
        id: s.id,
        url: s.url,
        events: s.events,
        active: s.active,
    }))
}

#[utoipa::path(get, path = "/api/webhook-subscriptions", tag = "integrations", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = inline(Page<Subscription>), description = "by id"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<PageQuery>,
) -> Result<web::Json<Page<Subscription>>, ApiError> {
    let limit = q.limit()?;
    let items = hub
        .subscriptions(&auth.viewer, q.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |s| s.id.to_string())))
}

#[utoipa::path(get, path = "/api/webhook-subscriptions/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Subscription), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Subscription>, ApiError> {
    Ok(web::Json(hub.subscription(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/webhook-subscriptions/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatchSubscription,
    responses((status = 200, body = Subscription),
        (status = 503, body = ErrorBody, description = "no secret key is configured (`secret_key_missing`), or the database is away"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchSubscription>,
) -> Result<web::Json<Subscription>, ApiError> {
    let b = body.0;
    let patch = SubscriptionPatch {
        url: b.url,
        events: b.events,
        active: b.active,
        secret: b.secret,
    };
    Ok(web::Json(
        hub.update_subscription(&auth.viewer, *id, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/webhook-subscriptions/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted, with its queue and delivery log"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_subscription(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/webhook-subscriptions/{id}/deliveries", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = inline(Page<Delivery>), description = "newest first: each delivery with its attempts, last status and answer"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn deliveries(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<web::Json<Page<Delivery>>, ApiError> {
    let limit = q.limit()?;
    let items = hub
        .deliveries(&auth.viewer, *id, q.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |d| d.id.to_string())))
}

#[utoipa::path(post, path = "/api/webhook-subscriptions/{id}/deliveries/{delivery_id}/replay", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 202, body = Delivery, description = "queued again, due now, with the same `id` (subscribers that dedupe by `id` see it once)"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn replay(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let d = hub.replay_delivery(&auth.viewer, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(d))
}

// ---- API keys

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApiKey {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000]*$")]
    pub name: String,
    /// `conversations:read`, `conversations:write`, `messages:send`, `contacts:read`,
    /// `contacts:write`, `campaigns:read`, `campaigns:write`, `analytics:read`,
    /// `webhooks:manage`.
    #[schema(min_items = 1, value_type = Vec<crate::domain::access::api_keys::Scope>)]
    pub scopes: Vec<String>,
    /// Milliseconds since the Unix epoch; absent: the key does not expire.
    pub expires_at: Option<i64>,
}

#[utoipa::path(post, path = "/api/api-keys", tag = "integrations", security(("bearer" = [])),
    request_body = NewApiKey,
    responses((status = 201, body = CreatedApiKey, description = "the key is in `key`, this once; it acts as its creator, bounded by its scopes"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create_key(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let k = hub
        .create_api_key(&auth.viewer, b.name, b.scopes, b.expires_at)
        .await?;
    Ok(HttpResponse::Created().json(k))
}

#[utoipa::path(get, path = "/api/api-keys", tag = "integrations", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = inline(Page<ApiKey>), description = "newest first; no key's secret"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list_keys(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<PageQuery>,
) -> Result<web::Json<Page<ApiKey>>, ApiError> {
    let limit = q.limit()?;
    let items = hub.api_keys(&auth.viewer, q.id_cursor()?, limit).await?;
    Ok(web::Json(page(items, limit, |k| k.id.to_string())))
}

#[utoipa::path(get, path = "/api/api-keys/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ApiKey), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get_key(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ApiKey>, ApiError> {
    Ok(web::Json(hub.api_key(&auth.viewer, *id).await?))
}

#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "revoked: the key answers 401 from now on"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn revoke_key(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.revoke_api_key(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- settings

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutWahaSettings {
    /// The key WAHA requires (`X-Api-Key`), stored encrypted and used instead of
    /// `WAHA_API_KEY`; `null` removes it (back to `WAHA_API_KEY`).
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub api_key: Option<String>,
}

#[utoipa::path(get, path = "/api/settings/waha", tag = "integrations", security(("bearer" = [])),
    responses((status = 200, body = WahaSettings), ForbiddenError, AuthErrors))]
pub async fn waha_settings(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<WahaSettings>, ApiError> {
    Ok(web::Json(hub.waha_settings(&auth.viewer).await?))
}

#[utoipa::path(put, path = "/api/settings/waha", tag = "integrations", security(("bearer" = [])),
    request_body = PutWahaSettings,
    responses((status = 200, body = WahaSettings, description = "used by this node at once and by every node within seconds"),
        (status = 503, body = ErrorBody, description = "no secret key is configured (`secret_key_missing`), or the database is away"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn put_waha_settings(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<PutWahaSettings>,
) -> Result<web::Json<WahaSettings>, ApiError> {
    Ok(web::Json(
        hub.put_waha_settings(&auth.viewer, body.0.api_key).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutSmtpSettings {
    /// The SMTP server's password, stored encrypted and used instead of
    /// `TICKHUB_SMTP_PASSWORD`; `null` removes it (back to the environment's).
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub password: Option<String>,
}

#[utoipa::path(get, path = "/api/settings/smtp", tag = "integrations", security(("bearer" = [])),
    responses((status = 200, body = SmtpSettings, description = "whether emails are configured and where the SMTP password comes from (never the password)"),
        ForbiddenError, AuthErrors))]
pub async fn smtp_settings(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<SmtpSettings>, ApiError> {
    Ok(web::Json(hub.smtp_settings(&auth.viewer).await?))
}

#[utoipa::path(put, path = "/api/settings/smtp", tag = "integrations", security(("bearer" = [])),
    request_body = PutSmtpSettings,
    responses((status = 200, body = SmtpSettings, description = "used from the next email on"),
        (status = 503, body = ErrorBody, description = "no secret key is configured (`secret_key_missing`), or the database is away"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn put_smtp_settings(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<PutSmtpSettings>,
) -> Result<web::Json<SmtpSettings>, ApiError> {
    Ok(web::Json(
        hub.put_smtp_settings(&auth.viewer, body.0.password).await?,
    ))
}
