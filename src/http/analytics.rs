//! `/api/analytics/*`: the agents, sessions, bots and campaigns reports over a period in a
//! time zone, as JSON or (`?format=csv`) CSV. Definitions in docs/analytics.md.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::auth::AuthUser;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError, UnprocessableError,
};
use crate::actors::hub::{AgentReport, BotReport, CampaignsReport, ReportQuery, SessionReport};
use crate::actors::Hub;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// The first day (`YYYY-MM-DD` in `tz`) or instant (RFC 3339); default: six days
    /// before today.
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    pub from: Option<String>,
    /// The last day, included (`YYYY-MM-DD`), or the instant the period ends before
    /// (RFC 3339); default: today.
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    pub to: Option<String>,
    /// An IANA time zone for the days and hours (default `UTC`).
    #[param(max_length = 64)]
    pub tz: Option<String>,
    /// One WhatsApp session by name (default: every session the viewer may see).
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    /// `csv`: the same rows as CSV.
    #[param(pattern = r"^(json|csv)$")]
    pub format: Option<String>,
}

impl AnalyticsQuery {
    fn report(&self) -> ReportQuery {
        ReportQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            tz: self.tz.clone(),
            session: self.session.clone(),
        }
    }

    /// Checks what the document's patterns state (400 otherwise); whether CSV is asked for.
    fn wants_csv(&self) -> Result<bool, ApiError> {
        if let Some(s) = &self.session {
            super::validate::session_name(s)?;
        }
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(ApiError::BadRequest(format!(
                "format must be json or csv, not {other:?}"
            ))),
        }
    }
}

fn csv_response<R: Serialize>(name: &str, rows: &[R]) -> Result<HttpResponse, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(buf))
}

#[utoipa::path(get, path = "/api/analytics/agents", tag = "analytics", security(("bearer" = [])),
    params(AnalyticsQuery),
    responses((status = 200, description = "each member's figures (agents and sales: their own), and the team's; as CSV with `format=csv`",
            content((AgentReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        UnprocessableError, ForbiddenError, NotFoundError, AuthErrors))]
pub async fn agents(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = q.wants_csv()?;
    let r = hub.agent_report(&auth.viewer, &q.report()).await?;
    if csv {
        let mut rows = r.items.clone();
        rows.push(r.team.clone());
        return csv_response("agents", &rows);
    }
    Ok(HttpResponse::Ok().json(r))
}

/// A session's CSV row: its totals, then its traffic per local hour and weekday.
#[derive(Serialize)]
struct SessionCsv<'a> {
    session: &'a str,
    /// `total`, `hour` (of day) or `weekday` (0 = Monday).
    dimension: &'static str,
    index: Option<usize>,
    messages_in: i64,
    messages_out: i64,
    conversations_started: Option<i64>,
    bot_conversations: Option<i64>,
    bot_auto_resolved: Option<i64>,
}

#[utoipa::path(get, path = "/api/analytics/sessions", tag = "analytics", security(("bearer" = [])),
    params(AnalyticsQuery),
    responses((status = 200, description = "each session's traffic by local hour of day and weekday (admins and managers)",
            content((SessionReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        UnprocessableError, ForbiddenError, NotFoundError, AuthErrors))]
pub async fn sessions(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = q.wants_csv()?;
    let r = hub.session_report(&auth.viewer, &q.report()).await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(r));
    }
    let mut rows = Vec::new();
    for s in &r.items {
        rows.push(SessionCsv {
            session: &s.session,
            dimension: "total",
            index: None,
            messages_in: s.messages_in,
            messages_out: s.messages_out,
            conversations_started: Some(s.conversations_started),
            bot_conversations: Some(s.bot_conversations),
            bot_auto_resolved: Some(s.bot_auto_resolved),
        });
        for (dimension, slots) in [("hour", &s.by_hour_of_day), ("weekday", &s.by_day_of_week)] {
            for (i, slot) in slots.iter().enumerate() {
                rows.push(SessionCsv {
                    session: &s.session,
                    dimension,
                    index: Some(i),
                    messages_in: slot.messages_in,
                    messages_out: slot.messages_out,
                    conversations_started: None,
                    bot_conversations: None,
                    bot_auto_resolved: None,
                });
            }
        }
    }
    csv_response("sessions", &rows)
}

#[derive(Serialize)]
struct BotCsv<'a> {
    bot_id: i64,
    name: &'a str,
    conversations: i64,
    matches: i64,
    misses: i64,
    resolved_without_person: i64,
    failures: i64,
    handoffs: i64,
    /// `reason=count` pairs joined by `;`.
    handoffs_by_reason: String,
}

#[utoipa::path(get, path = "/api/analytics/bots", tag = "analytics", security(("bearer" = [])),
    params(AnalyticsQuery),
    responses((status = 200, description = "each bot's matches, handoffs by reason and auto-resolutions, with its triggers (admins and managers)",
            content((BotReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        UnprocessableError, ForbiddenError, NotFoundError, AuthErrors))]
pub async fn bots(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = q.wants_csv()?;
    let r = hub.bot_report(&auth.viewer, &q.report()).await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(r));
    }
    let rows: Vec<BotCsv> = r
        .items
        .iter()
        .map(|b| BotCsv {
            bot_id: b.metrics.bot_id,
            name: &b.name,
            conversations: b.metrics.conversations,
            matches: b.metrics.matches,
            misses: b.metrics.misses,
            resolved_without_person: b.metrics.resolved_without_person,
            failures: b.metrics.failures,
            handoffs: b.metrics.handoffs.values().sum(),
            handoffs_by_reason: b
                .metrics
                .handoffs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
        })
        .collect();
    csv_response("bots", &rows)
}

#[derive(Serialize)]
struct CampaignCsv<'a> {
    id: i64,
    name: &'a str,
    /// Every session it sends over, `;` between them.
    sessions: String,
    status: &'a str,
    started_at: Option<&'a str>,
    total: i64,
    sent: i64,
    delivered: i64,
    read: i64,
    replied: i64,
    failed: i64,
    skipped: i64,
    delivery_rate: Option<f64>,
    read_rate: Option<f64>,
    reply_rate: Option<f64>,
}

#[utoipa::path(get, path = "/api/analytics/campaigns", tag = "analytics", security(("bearer" = [])),
    params(AnalyticsQuery),
    responses((status = 200, description = "campaigns that started in the period with their outcomes (admins, managers, marketing)",
            content((CampaignsReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        UnprocessableError, ForbiddenError, NotFoundError, AuthErrors))]
pub async fn campaigns(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = q.wants_csv()?;
    let r = hub.campaigns_report(&auth.viewer, &q.report()).await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(r));
    }
    let rows: Vec<CampaignCsv> = r
        .items
        .iter()
        .map(|c| CampaignCsv {
            id: c.id,
            name: &c.name,
            sessions: c.sessions.join(";"),
            status: &c.status,
            started_at: c.started_at.as_deref(),
            total: c.counts.total,
            sent: c.counts.sent,
            delivered: c.counts.delivered,
            read: c.counts.read,
            replied: c.counts.replied,
            failed: c.counts.failed,
            skipped: c.counts.skipped,
            delivery_rate: c.delivery_rate,
            read_rate: c.read_rate,
            reply_rate: c.reply_rate,
        })
        .collect();
    csv_response("campaigns", &rows)
}
