//! `/api/campaigns`: broadcasts to a segment or a list of contacts (docs/campaigns.md).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::body::{present, Checked};
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{checked_limit, id_cursor, page, Page};
use crate::actors::hub::{CampaignPatch, CampaignReport, CampaignView, QuietHoursBody};
use crate::actors::Hub;
use crate::domain::campaign::{
    CampaignAction, CampaignMedia, CampaignStatus, RecipientState, Recurrence,
};
use crate::store::campaign_recipients::{AudienceCount, Recipient};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    pub status: Option<CampaignStatus>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    pub state: Option<RecipientState>,
    /// `csv`: every recipient as CSV (the cursor and limit do not apply).
    #[param(pattern = r"^(json|csv)$")]
    pub format: Option<String>,
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCampaign {
    #[schema(max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: String,
    /// The WhatsApp session it sends through; or `sessions` for several (not both).
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    /// The WhatsApp sessions it sends over (one or more, each once; instead of
    /// `session`): each recipient is sent from its own contact's session.
    #[schema(min_items = 1, max_items = 50)]
    pub sessions: Option<Vec<String>>,
    /// A saved segment: its contacts in the sessions when the campaign starts.
    pub segment_id: Option<i64>,
    /// Or these contacts (of the sessions); each is messaged once however often it is named.
    pub contact_ids: Option<Vec<i64>>,
    /// A template (`{{contact.first_name | "there"}}`, … see docs/campaigns.md).
    #[schema(pattern = r"^[^\u0000]*$")]
    pub template: String,
    /// An image (`image/*`) or file sent with the message; the rendered text is its caption.
    pub media: Option<CampaignMedia>,
    /// RFC 3339: when to start; absent, a draft started by `POST …/start`.
    pub start_at: Option<String>,
    /// IANA name (default `UTC`): quiet hours and recurring runs use it for recipients
    /// without a `time_zone` attribute.
    pub time_zone: Option<String>,
    pub recurrence: Option<Recurrence>,
    pub quiet_hours: Option<QuietHoursBody>,
    /// Average messages per minute from each session (default 12), at most the
    /// session's rate: two sessions send about twice as fast.
    #[schema(minimum = 1, maximum = 600)]
    pub rate_per_minute: Option<i64>,
    /// Each gap between messages is randomised by ± this fraction (default 0.5).
    #[schema(minimum = 0.0, maximum = 0.9)]
    pub jitter: Option<f64>,
    /// Skip a contact another campaign messaged within this many hours.
    #[schema(minimum = 1, maximum = 8784)]
    pub frequency_cap_hours: Option<i64>,
    /// `true` instead of `segment_id` or `contact_ids`: the audience is a list uploaded
    /// next (`POST /api/campaigns/{id}/audience`); the campaign cannot start before.
    pub audience_upload: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchCampaign {
    #[schema(max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<String>,
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    /// Its sessions, replacing the ones it had (not with `session`).
    #[schema(min_items = 1, max_items = 50)]
    pub sessions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub segment_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub contact_ids: Option<Option<Vec<i64>>>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub template: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<CampaignMedia>)]
    pub media: Option<Option<CampaignMedia>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub start_at: Option<Option<String>>,
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Recurrence>)]
    pub recurrence: Option<Option<Recurrence>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<QuietHoursBody>)]
    pub quiet_hours: Option<Option<QuietHoursBody>>,
    #[schema(minimum = 1, maximum = 600)]
    pub rate_per_minute: Option<i64>,
    #[schema(minimum = 0.0, maximum = 0.9)]
    pub jitter: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 8784)]
    pub frequency_cap_hours: Option<Option<i64>>,
}

impl From<NewCampaign> for CampaignPatch {
    fn from(b: NewCampaign) -> Self {
        CampaignPatch {
            name: Some(b.name),
            session: b.session,
            sessions: b.sessions,
            segment_id: b.segment_id.map(Some),
            contact_ids: b.contact_ids.map(Some),
            template: Some(b.template),
            media: b.media.map(Some),
            start_at: b.start_at.map(Some),
            time_zone: b.time_zone,
            recurrence: b.recurrence.map(Some),
            quiet_hours: b.quiet_hours.map(Some),
            rate_per_minute: b.rate_per_minute,
            jitter: b.jitter,
            frequency_cap_hours: b.frequency_cap_hours.map(Some),
            audience_upload: b.audience_upload.unwrap_or(false),
        }
    }
}

impl From<PatchCampaign> for CampaignPatch {
    fn from(b: PatchCampaign) -> Self {
        CampaignPatch {
            name: b.name,
            session: b.session,
            sessions: b.sessions,
            segment_id: b.segment_id,
            contact_ids: b.contact_ids,
            template: b.template,
            media: b.media,
            start_at: b.start_at,
            time_zone: b.time_zone,
            recurrence: b.recurrence,
            quiet_hours: b.quiet_hours,
            rate_per_minute: b.rate_per_minute,
            jitter: b.jitter,
            frequency_cap_hours: b.frequency_cap_hours,
            audience_upload: false,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AudienceQuery {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    /// Several sessions instead of `session`.
    #[schema(min_items = 1, max_items = 50)]
    pub sessions: Option<Vec<String>>,
    pub segment_id: Option<i64>,
    pub contact_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenderRequest {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub template: String,
    pub contact_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rendered {
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestSend {
    /// The number to send the test to (a team member's), E.164 or national in
    /// `TICKHUB_PHONE_REGION`.
    pub phone: String,
    /// Render the message for this contact (default: every variable's fallback).
    pub contact_id: Option<i64>,
    /// Send it over this one of the campaign's sessions (default: its first), to see
    /// how it arrives from each of its numbers.
    pub session: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    pub sent: bool,
    /// The text sent.
    pub text: String,
}

#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", security(("bearer" = [])), params(CampaignQuery),
    responses((status = 200, body = inline(Page<CampaignView>), description = "newest first, in the sessions you work in"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<CampaignQuery>,
) -> Result<web::Json<Page<CampaignView>>, ApiError> {
    let limit = checked_limit(q.limit)?;
    let before = id_cursor(q.cursor.as_deref())?;
    let items = hub.campaigns(&auth.viewer, q.status, before, limit).await?;
    Ok(web::Json(page(items, limit, |c| c.id.to_string())))
}

#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", security(("bearer" = [])), request_body = NewCampaign,
    responses((status = 201, body = CampaignView, description = "a draft, or scheduled when `start_at` is given"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<NewCampaign>,
) -> Result<HttpResponse, ApiError> {
    let c = hub.create_campaign(&auth.viewer, &body.0.into()).await?;
    Ok(HttpResponse::Created().json(c))
}

#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignView>, ApiError> {
    Ok(web::Json(hub.campaign(&auth.viewer, *id).await?))
}

#[utoipa::path(patch, path = "/api/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = PatchCampaign,
    responses((status = 200, body = CampaignView),
        (status = 409, body = ErrorBody, description = "running (pause it first) or finished; or a started campaign's session or audience"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchCampaign>,
) -> Result<web::Json<CampaignView>, ApiError> {
    Ok(web::Json(
        hub.update_campaign(&auth.viewer, *id, &body.0.into())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"),
        (status = 409, body = ErrorBody, description = "it has started: cancel it instead"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn delete(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    hub.delete_campaign(&auth.viewer, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn act(
    hub: &Hub,
    auth: &AuthUser,
    id: i64,
    action: CampaignAction,
) -> Result<web::Json<CampaignView>, ApiError> {
    Ok(web::Json(
        hub.campaign_action(&auth.viewer, id, action).await?,
    ))
}

#[utoipa::path(post, path = "/api/campaigns/{id}/start", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView, description = "running: its audience is planned now"),
        (status = 409, body = ErrorBody, description = "not a draft or scheduled; its segment was deleted; its session cannot send"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn start(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignView>, ApiError> {
    act(&hub, &auth, *id, CampaignAction::Start).await
}

#[utoipa::path(post, path = "/api/campaigns/{id}/pause", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody, description = "not running"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn pause(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignView>, ApiError> {
    act(&hub, &auth, *id, CampaignAction::Pause).await
}

#[utoipa::path(post, path = "/api/campaigns/{id}/resume", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody, description = "not paused, or its session cannot send"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn resume(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignView>, ApiError> {
    act(&hub, &auth, *id, CampaignAction::Resume).await
}

#[utoipa::path(post, path = "/api/campaigns/{id}/cancel", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView, description = "cancelled: recipients not yet queued are skipped"),
        (status = 409, body = ErrorBody, description = "already completed or cancelled"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn cancel(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignView>, ApiError> {
    act(&hub, &auth, *id, CampaignAction::Cancel).await
}

#[utoipa::path(post, path = "/api/campaigns/audience", tag = "campaigns", security(("bearer" = [])), request_body = AudienceQuery,
    responses((status = 200, body = AudienceCount, description = "what the audience holds now: contacts, those who may be messaged, and why the others may not"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn audience(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<AudienceQuery>,
) -> Result<web::Json<AudienceCount>, ApiError> {
    let b = body.0;
    Ok(web::Json(
        hub.campaign_audience(
            &auth.viewer,
            b.session.as_deref(),
            b.sessions.as_deref(),
            b.segment_id,
            b.contact_ids.as_deref(),
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/campaigns/render", tag = "campaigns", security(("bearer" = [])), request_body = RenderRequest,
    responses((status = 200, body = Rendered, description = "the template rendered for the contact; nothing is sent"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn render(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<RenderRequest>,
) -> Result<web::Json<Rendered>, ApiError> {
    let text = hub
        .render_template(&auth.viewer, &body.0.template, body.0.contact_id)
        .await?;
    Ok(web::Json(Rendered { text }))
}

#[utoipa::path(post, path = "/api/campaigns/{id}/test", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = TestSend,
    responses((status = 202, body = TestSent, description = "WAHA took the test message"),
        (status = 502, body = ErrorBody, description = "WAHA refused or could not be reached"),
        (status = 422, body = ErrorBody, description = "a bad phone, a template that renders empty, or a session the campaign does not send over"),
        ForbiddenError, NotFoundError, JsonBodyErrors, AuthErrors))]
pub async fn test(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<TestSend>,
) -> Result<HttpResponse, ApiError> {
    let ask = body.0;
    let text = hub
        .test_campaign(
            &auth.viewer,
            *id,
            &ask.phone,
            ask.contact_id,
            ask.session.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Accepted().json(TestSent { sent: true, text }))
}

#[utoipa::path(get, path = "/api/campaigns/{id}/report", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignReport), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn report(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<CampaignReport>, ApiError> {
    Ok(web::Json(hub.campaign_report(&auth.viewer, *id).await?))
}

/// Recipients per page of the CSV stream.
const CSV_PAGE: i64 = 1000;

fn csv_rows(rows: &[Recipient], header: bool) -> Result<Bytes, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    if header {
        w.write_record([
            "contact_id",
            "name",
            "phone",
            "state",
            "reason",
            "queued_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "replied_at",
        ])
        .map_err(err)?;
    }
    let t = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.contact_id.to_string(),
            r.name.clone().unwrap_or_default(),
            r.phone.clone().unwrap_or_default(),
            r.state.as_str().to_string(),
            r.reason.clone().unwrap_or_default(),
            t(r.queued_at),
            t(r.sent_at),
            t(r.delivered_at),
            t(r.read_at),
            t(r.replied_at),
        ])
        .map_err(err)?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok(Bytes::from(buf))
}

#[utoipa::path(get, path = "/api/campaigns/{id}/recipients", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), RecipientQuery),
    responses((status = 200, body = inline(Page<Recipient>), description = "in planning order; `?format=csv` streams every recipient as CSV (times in ms since the Unix epoch)"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn recipients(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<RecipientQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    match q.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => {
            // Checked before the stream starts, so a denial is an answer, not a cut stream.
            hub.campaign_recipients(&auth.viewer, id, q.state, None, 1)
                .await?;
            let (hub, viewer, state) = (hub.get_ref().clone(), auth.viewer.clone(), q.state);
            let stream = futures_util::stream::unfold(Some((None, true)), move |at| {
                let (hub, viewer) = (hub.clone(), viewer.clone());
                async move {
                    let (after, first) = at?;
                    let rows = match hub
                        .campaign_recipients(&viewer, id, state, after, CSV_PAGE)
                        .await
                    {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(error = %e, "a recipients export broke off");
                            return Some((Err(actix_web::Error::from(ApiError::from(e))), None));
                        }
                    };
                    let next =
                        (rows.len() as i64 == CSV_PAGE).then(|| (rows.last().map(|r| r.id), false));
                    Some((csv_rows(&rows, first).map_err(Into::into), next))
                }
            });
            return Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    actix_web::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"campaign-{id}-recipients.csv\""),
                ))
                .streaming(stream));
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format must be json or csv, got {other:?}"
            )))
        }
    }
    let limit = checked_limit(q.limit)?;
    let after = id_cursor(q.cursor.as_deref())?;
    let items = hub
        .campaign_recipients(&auth.viewer, id, q.state, after, limit)
        .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |r| r.id.to_string())))
}
