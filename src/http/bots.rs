//! `/api/bots` and `/api/triggers` (contract §3b): the bots that answer the common
//! questions, the tester, the replay of a real conversation, and the bots' figures. Admins
//! and managers; what each may touch is the access policy's, applied by the hub.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::body::{present, Checked};
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{page, Page, PageQuery};
use crate::actors::{BotInput, BotPatch, Hub, ReplayStep, TestInput, TestResult};
use crate::domain::bot::{BusinessHours, ContactVars, MatchKind, TriggerAction, TriggerDef};
use crate::domain::FieldError;
use crate::store::bot_metrics::BotMetrics;
use crate::store::bots::{Bot, BotFields, Trigger};

/// What a bot hands over on when none are given.
const DEFAULT_HANDOFF_KEYWORDS: [&str; 4] = ["agent", "human", "person", "operator"];

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBot {
    #[schema(max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: String,
    /// WhatsApp session names the bot serves (a session has at most one bot).
    #[serde(default)]
    pub sessions: Vec<String>,
    #[serde(default = "default_true")]
    pub active: bool,
    /// A template sent to a first-time contact.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub greeting: Option<String>,
    /// A template sent when nothing matches.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub fallback: Option<String>,
    /// Words that hand over to a person; absent: agent, human, person, operator.
    pub handoff_keywords: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 100)]
    pub handoff_after_misses: Option<i64>,
    #[serde(default)]
    pub handoff_immediately: bool,
    #[serde(default)]
    pub answer_groups: bool,
    pub business_hours: Option<BusinessHours>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub after_hours_message: Option<String>,
    #[schema(minimum = 1, maximum = 525600)]
    pub resolve_after_minutes: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchBot {
    #[schema(max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<String>,
    pub sessions: Option<Vec<String>>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub greeting: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub fallback: Option<Option<String>>,
    pub handoff_keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub handoff_after_misses: Option<Option<i64>>,
    pub handoff_immediately: Option<bool>,
    pub answer_groups: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<BusinessHours>)]
    pub business_hours: Option<Option<BusinessHours>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub after_hours_message: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 525600)]
    pub resolve_after_minutes: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTrigger {
    pub bot_id: i64,
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// Text for the literal kinds, a regular expression for `regex`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub pattern: Option<String>,
    /// For `any_keyword`.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub accent_sensitive: bool,
    /// Highest wins; ties go to the oldest trigger (lowest id).
    #[serde(default)]
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub priority: i64,
    /// A template: `{{contact.name}}`, `{{contact.first_name}}`, `{{business.hours_today}}`, …
    #[schema(pattern = r"^[^\u0000]*$")]
    pub response: Option<String>,
    pub action: TriggerAction,
    /// For `add_tag`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub tag: Option<String>,
    /// For `set_contact_field`: `name`, `email`, `notes` or `attributes.<key>`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub field: Option<String>,
    /// For `set_contact_field`: a template.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub value: Option<String>,
    #[serde(default = "default_true")]
    pub active: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchTrigger {
    #[serde(rename = "match")]
    pub match_kind: Option<MatchKind>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub pattern: Option<Option<String>>,
    pub keywords: Option<Vec<String>>,
    pub case_sensitive: Option<bool>,
    pub accent_sensitive: Option<bool>,
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub priority: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub response: Option<Option<String>>,
    pub action: Option<TriggerAction>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub tag: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub field: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub value: Option<Option<String>>,
    pub active: Option<bool>,
}

/// The longest text the tester takes (what a WhatsApp message holds, as for replies).
const MAX_TEST_TEXT_CHARS: usize = 4096;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestRequest {
    #[schema(max_length = 4096)]
    pub text: String,
    /// The moment to test at (RFC 3339); absent: now. Business hours are judged at it.
    pub at: Option<String>,
    /// Test as a first-time contact (the greeting comes first).
    #[serde(default)]
    pub first_contact: bool,
    /// The contact templates speak of.
    pub contact: Option<TestContact>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TestContact {
    pub name: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplayRequest {
    pub conversation_id: i64,
    /// The first messages to replay (default 100).
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TriggerQuery {
    /// Only this bot's triggers.
    pub bot_id: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Milliseconds since the Unix epoch (default: 30 days before `to`).
    pub from: Option<i64>,
    /// Milliseconds since the Unix epoch, exclusive (default: now).
    pub to: Option<i64>,
}

#[utoipa::path(get, path = "/api/bots", tag = "bots", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = inline(Page<Bot>), description = "by id"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Bot>>, ApiError> {
    let limit = p.limit()?;
    let items = hub.bots(&auth.viewer, p.id_cursor()?, limit).await?;
    Ok(web::Json(page(items, limit, |b| b.id.to_string())))
}

#[utoipa::path(post, path = "/api/bots", tag = "bots", security(("bearer" = [])),
    request_body = CreateBot,
    responses((status = 201, body = Bot),
        (status = 409, body = ErrorBody, description = "a session is served by another bot"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<CreateBot>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let fields = BotFields {
        name: b.name,
        active: b.active,
        greeting: b.greeting,
        fallback: b.fallback,
        handoff_keywords: b.handoff_keywords.unwrap_or_else(|| {
            DEFAULT_HANDOFF_KEYWORDS
                .iter()
                .map(|k| k.to_string())
                .collect()
        }),
        handoff_after_misses: b.handoff_after_misses,
        handoff_immediately: b.handoff_immediately,
        answer_groups: b.answer_groups,
        business_hours: b.business_hours,
        after_hours_message: b.after_hours_message,
        resolve_after_minutes: b.resolve_after_minutes,
    };
    let bot = hub
        .create_bot(
            &auth.viewer,
            BotInput {
                fields,
                sessions: b.sessions,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(bot))
}

#[utoipa::path(get, path = "/api/bots/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Bot), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Bot>, ApiError> {
    Ok(web::Json(hub.bot(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/bots/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatchBot,
    responses((status = 200, body = Bot),
        (status = 409, body = ErrorBody, description = "a session is served by another bot"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchBot>,
) -> Result<web::Json<Bot>, ApiError> {
    let b = body.0;
    let patch = BotPatch {
        name: b.name,
        sessions: b.sessions,
        active: b.active,
        greeting: b.greeting,
        fallback: b.fallback,
        handoff_keywords: b.handoff_keywords,
        handoff_after_misses: b.handoff_after_misses,
        handoff_immediately: b.handoff_immediately,
        answer_groups: b.answer_groups,
        business_hours: b.business_hours,
        after_hours_message: b.after_hours_message,
        resolve_after_minutes: b.resolve_after_minutes,
    };
    Ok(web::Json(hub.update_bot(&auth.viewer, *id, patch).await?))
}

#[utoipa::path(delete, path = "/api/bots/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted with its triggers; its conversations go to people"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_bot(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/bots/{id}/test", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TestRequest,
    responses((status = 200, body = TestResult, description = "what the bot would do; nothing is sent"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn test(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<TestRequest>,
) -> Result<web::Json<TestResult>, ApiError> {
    let b = body.0;
    if b.text.chars().count() > MAX_TEST_TEXT_CHARS {
        return Err(ApiError::Invalid(FieldError::new(
            "text",
            format!("at most {MAX_TEST_TEXT_CHARS} characters"),
        )));
    }
    let at = match b.at.as_deref() {
        None => None,
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| FieldError::new("at", format!("not an RFC 3339 time: {e}")))?
                .with_timezone(&Utc),
        ),
    };
    let contact = b.contact.unwrap_or_default();
    let input = TestInput {
        text: b.text,
        at,
        first_contact: b.first_contact,
        contact: ContactVars {
            name: contact.name,
            push_name: None,
            phone: contact.phone,
            attributes: contact.attributes,
        },
    };
    Ok(web::Json(hub.test_bot(&auth.viewer, *id, input).await?))
}

#[utoipa::path(post, path = "/api/bots/{id}/replay", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ReplayRequest,
    responses((status = 200, body = inline(Page<ReplayStep>), description = "the customer's messages, oldest first, and what the bot would do with each now; nothing is sent"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn replay(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<ReplayRequest>,
) -> Result<web::Json<Page<ReplayStep>>, ApiError> {
    let b = body.0;
    let limit = b.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Invalid(FieldError::new(
            "limit",
            format!("from 1 to 500, got {limit}"),
        )));
    }
    let items = hub
        .replay_bot(&auth.viewer, *id, b.conversation_id, limit)
        .await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/bots/{id}/metrics", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = BotMetrics),
        (status = 400, body = ErrorBody, description = "`from` or `to` is not a number"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn metrics(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<PeriodQuery>,
) -> Result<web::Json<BotMetrics>, ApiError> {
    const DAYS_30: i64 = 30 * 24 * 3600 * 1000;
    let to = q.to.unwrap_or_else(|| hub.now_ms());
    // A `from` after `to` is an empty period: nothing counted.
    let from = q.from.unwrap_or_else(|| to.saturating_sub(DAYS_30)).min(to);
    Ok(web::Json(
        hub.bot_metrics(&auth.viewer, *id, from, to).await?,
    ))
}

// ---- triggers

#[utoipa::path(get, path = "/api/triggers", tag = "bots", security(("bearer" = [])),
    params(TriggerQuery, PageQuery),
    responses((status = 200, body = inline(Page<Trigger>), description = "by id"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn list_triggers(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<TriggerQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Trigger>>, ApiError> {
    let limit = p.limit()?;
    let items = hub
        .triggers(&auth.viewer, q.bot_id, p.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |t| t.id.to_string())))
}

#[utoipa::path(post, path = "/api/triggers", tag = "bots", security(("bearer" = [])),
    request_body = CreateTrigger,
    responses((status = 201, body = Trigger), ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create_trigger(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<CreateTrigger>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let f = TriggerDef {
        id: 0,
        match_kind: b.match_kind,
        pattern: b.pattern,
        keywords: b.keywords,
        case_sensitive: b.case_sensitive,
        accent_sensitive: b.accent_sensitive,
        priority: b.priority,
        response: b.response,
        action: b.action,
        tag: b.tag,
        field: b.field,
        value: b.value,
        active: b.active,
    };
    let t = hub.create_trigger(&auth.viewer, b.bot_id, f).await?;
    Ok(HttpResponse::Created().json(t))
}

#[utoipa::path(get, path = "/api/triggers/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Trigger), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get_trigger(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Trigger>, ApiError> {
    Ok(web::Json(hub.trigger(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/triggers/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatchTrigger,
    responses((status = 200, body = Trigger), ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update_trigger(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchTrigger>,
) -> Result<web::Json<Trigger>, ApiError> {
    let b = body.0;
    let t = hub
        .update_trigger(&auth.viewer, *id, |f| {
            if let Some(x) = b.match_kind {
                f.match_kind = x;
            }
            if let Some(x) = b.pattern {
                f.pattern = x;
            }
            if let Some(x) = b.keywords {
                f.keywords = x;
            }
            if let Some(x) = b.case_sensitive {
                f.case_sensitive = x;
            }
            if let Some(x) = b.accent_sensitive {
                f.accent_sensitive = x;
            }
            if let Some(x) = b.priority {
                f.priority = x;
            }
            if let Some(x) = b.response {
                f.response = x;
            }
            if let Some(x) = b.action {
                f.action = x;
            }
            if let Some(x) = b.tag {
                f.tag = x;
            }
            if let Some(x) = b.field {
                f.field = x;
            }
            if let Some(x) = b.value {
                f.value = x;
            }
            if let Some(x) = b.active {
                f.active = x;
            }
        })
        .await?;
    Ok(web::Json(t))
}

#[utoipa::path(delete, path = "/api/triggers/{id}", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete_trigger(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_trigger(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
