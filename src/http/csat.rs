//! `/api/analytics/csat`: customer satisfaction per agent (docs/csat.md).

use std::sync::Arc;

use actix_web::web;
use chrono::{Days, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError, UnprocessableError,
};
use crate::actors::Hub;
use crate::actors::HubError;
use crate::domain::FieldError;
use crate::store::csat::AgentScore;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsatQuery {
    /// First day, `YYYY-MM-DD` in `tz` (default: 29 days before `to`).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    pub from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` in `tz` (default: today).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    pub to: Option<String>,
    /// IANA time zone the days are in (default `UTC`).
    pub tz: Option<String>,
    /// Only this WhatsApp session (by name).
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsatReport {
    /// One row per agent who had conversations rated in the period (`user_id` null: those
    /// resolved while unassigned).
    pub items: Vec<AgentScore>,
    /// Every rating of the period together (`user_id` null).
    pub total: AgentScore,
    /// The period as read: `[from, to)` in milliseconds since the Unix epoch.
    pub from_ms: i64,
    pub to_ms: i64,
}

fn field(name: &str, why: impl Into<String>) -> ApiError {
    HubError::Unprocessable(FieldError::new(name, why)).into()
}

fn day(name: &str, v: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| field(name, "expected a date YYYY-MM-DD"))
}

fn midnight(tz: chrono_tz::Tz, d: NaiveDate, name: &str) -> Result<i64, ApiError> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| field(name, "no such local time"))
}

/// The query's days as `[from, to)` in milliseconds.
fn period(q: &CsatQuery, now_ms: i64) -> Result<(i64, i64), ApiError> {
    let tz: chrono_tz::Tz = match &q.tz {
        None => chrono_tz::UTC,
        Some(t) => t
            .parse()
            .map_err(|_| field("tz", "expected an IANA time zone such as Europe/London"))?,
    };
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| t.with_timezone(&tz).date_naive())
        .ok_or_else(|| field("to", "the hub's clock is out of range"))?;
    let to = match &q.to {
        Some(v) => day("to", v)?,
        None => today,
    };
    let from = match &q.from {
        Some(v) => day("from", v)?,
        None => to.checked_sub_days(Days::new(29)).unwrap_or(to),
    };
    if from > to {
        return Err(field("from", "must not be after `to`"));
    }
    if (to - from).num_days() > 366 {
        return Err(field("from", "at most 367 days at once"));
    }
    let end = to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| field("to", "out of range"))?;
    Ok((midnight(tz, from, "from")?, midnight(tz, end, "to")?))
}

#[utoipa::path(get, path = "/api/analytics/csat", tag = "analytics", security(("bearer" = [])), params(CsatQuery),
    responses((status = 200, body = CsatReport, description = "ratings answered in the period, per agent (admins: every session; managers: theirs)"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its pattern"),
        ForbiddenError, NotFoundError, UnprocessableError, AuthErrors))]
pub async fn report(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<CsatQuery>,
) -> Result<web::Json<CsatReport>, ApiError> {
    auth.viewer
        .may_read_csat()
        .map_err(|d| HubError::denied(d, || "satisfaction scores".into()))?;
    let (from_ms, to_ms) = period(&q, hub.now_ms())?;
    let (items, total) = hub
        .csat_scores(&auth.viewer, q.session.as_deref(), from_ms, to_ms)
        .await?;
    Ok(web::Json(CsatReport {
        items,
        total,
        from_ms,
        to_ms,
    }))
}
