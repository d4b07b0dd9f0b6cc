//! A campaign's settings checked field by field (`POST` and `PATCH /api/campaigns`): its
//! sessions (one or more, each the member's), its audience (in those sessions), template,
//! timing and pace.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::bot::template::Template;
use crate::domain::campaign::{
    self, CampaignMedia, Pace, QuietHours, Recurrence, DEFAULT_JITTER, DEFAULT_RATE_PER_MINUTE,
};
use crate::domain::{FieldError, SessionRef, Viewer};
use crate::store::campaign_recipients;
use crate::store::campaigns::{Audience, Settings};
use crate::store::segments;

/// The most contacts a campaign may name one by one (a segment has no limit).
pub const MAX_CONTACT_IDS: usize = 100_000;
/// The most sessions one campaign sends over.
pub const MAX_SESSIONS: usize = 50;
/// A template's longest text, in characters (WhatsApp's own limit is 4096).
const MAX_TEMPLATE_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuietHoursBody {
    /// "HH:MM" in the recipient's time zone.
    #[schema(pattern = r"^[0-2][0-9]:[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = r"^[0-2][0-9]:[0-5][0-9]$")]
    pub end: String,
}

/// What a request sets; `None` leaves a setting as it is (a new campaign: its default),
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CampaignPatch {
    pub name: Option<String>,
    /// One session (`session`), or several (`sessions`): never both.
    pub session: Option<String>,
    pub sessions: Option<Vec<String>>,
    pub segment_id: Option<Option<i64>>,
    pub contact_ids: Option<Option<Vec<i64>>>,
    pub template: Option<String>,
    pub media: Option<Option<CampaignMedia>>,
    pub start_at: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub recurrence: Option<Option<Recurrence>>,
    pub quiet_hours: Option<Option<QuietHoursBody>>,
    pub rate_per_minute: Option<i64>,
    pub jitter: Option<f64>,
    pub frequency_cap_hours: Option<Option<i64>>,
    /// A new campaign whose audience is a list uploaded next (`POST …/audience`): it is
    /// created without one.
    pub audience_upload: bool,
}

pub(super) fn invalid(field: &str, reason: impl Into<String>) -> HubError {
    FieldError::new(field, reason).into()
}

pub(super) fn check_template(t: &str) -> Result<(), HubError> {
    if t.trim().is_empty() || t.chars().count() > MAX_TEMPLATE_CHARS || t.contains('\0') {
        return Err(invalid(
            "template",
            format!("1 to {MAX_TEMPLATE_CHARS} characters, not blank, without U+0000"),
        ));
    }
    Template::parse(t).map_err(|e| invalid("template", e))?;
    Ok(())
}

fn parse_start_at(s: &str) -> Result<i64, HubError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| invalid("start_at", format!("not an RFC 3339 time: {s:?}")))
}

impl Hub {
    /// A session the viewer may run campaigns in, by name (422 naming `field` when it is
    /// unknown or not theirs: another session's existence does not leak).
    async fn campaign_session(
        &self,
        v: &Viewer,
        name: &str,
        field: &str,
    ) -> Result<SessionRef, HubError> {
        let unknown = || invalid(field, format!("no session {name:?}"));
        // What cannot be a session's name is not looked up (PostgreSQL refuses U+0000).
        if !crate::domain::session::is_session_name(name) {
            return Err(unknown());
        }
        let s = self.registry.resolve(name).await?.ok_or_else(unknown)?;
        match v.may_run_campaign(s.id) {
            Ok(()) => Ok(s),
            Err(crate::domain::Denied::Hidden) => Err(unknown()),
            Err(crate::domain::Denied::Forbidden(why)) => Err(HubError::Forbidden(why)),
        }
    }

    /// The sessions a request names, each one the viewer may run campaigns in: `session`
    /// (one) or `sessions` (one or more, each once), not both; `None` when it names none.
    /// A refusal names the field (`sessions[1]`).
    pub(super) async fn campaign_sessions(
        &self,
        v: &Viewer,
        one: Option<&str>,
        many: Option<&[String]>,
    ) -> Result<Option<Vec<SessionRef>>, HubError> {
        match (one, many) {
            (Some(_), Some(_)) => Err(invalid("sessions", "give session or sessions, not both")),
            (None, None) => Ok(None),
            (Some(name), None) => Ok(Some(vec![self.campaign_session(v, name, "session").await?])),
            (None, Some(names)) => {
                if names.is_empty() || names.len() > MAX_SESSIONS {
                    return Err(invalid(
                        "sessions",
                        format!("1 to {MAX_SESSIONS} session names"),
                    ));
                }
                let mut out: Vec<SessionRef> = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    let field = format!("sessions[{i}]");
                    if names[..i].contains(name) {
                        return Err(invalid(&field, format!("{name:?} is named twice")));
                    }
                    out.push(self.campaign_session(v, name, &field).await?);
                }
                Ok(Some(out))
            }
        }
    }

    /// The audience checked: a segment that exists, or contacts of the sessions.
    pub(super) async fn check_audience(
        &self,
        session_ids: &[i64],
        segment_id: Option<i64>,
        contact_ids: Option<&[i64]>,
    ) -> Result<Audience, HubError> {
        match (segment_id, contact_ids) {
            (Some(_), Some(_)) => Err(invalid(
                "contact_ids",
                "give segment_id or contact_ids, not both",
            )),
            (None, None) => Err(invalid(
                "segment_id",
                "required: give segment_id or contact_ids",
            )),
            (Some(id), None) => {
                segments::get(self.db(), id)
                    .await?
                    .ok_or_else(|| invalid("segment_id", format!("no segment {id}")))?;
                Ok(Audience::Segment(id))
            }
            (None, Some(ids)) => {
                if ids.is_empty() || ids.len() > MAX_CONTACT_IDS {
                    return Err(invalid(
                        "contact_ids",
                        format!("1 to {MAX_CONTACT_IDS} contact ids"),
                    ));
                }
                let found =
                    campaign_recipients::contacts_in_sessions(self.db(), session_ids, ids).await?;
                let whose = if session_ids.len() == 1 {
                    "the campaign's session"
                } else {
                    "any of the campaign's sessions"
                };
                for (i, id) in ids.iter().enumerate() {
                    if !found.contains(id) {
                        return Err(invalid(
                            &format!("contact_ids[{i}]"),
                            format!("no contact {id} in {whose}"),
                        ));
                    }
                }
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                Ok(Audience::Contacts(ids))
            }
        }
    }

    /// `base` (a stored campaign's settings, or none for a new one) with `p` applied,
    /// every field checked.
    pub(super) async fn campaign_settings(
        &self,
        v: &Viewer,
        base: Option<&Settings>,
        p: &CampaignPatch,
    ) -> Result<Settings, HubError> {
        let name = match (&p.name, base) {
            (Some(n), _) => campaign::check_name(n)?,
            (None, Some(b)) => b.name.clone(),
            (None, None) => return Err(invalid("name", "required")),
        };
        let named = self
            .campaign_sessions(v, p.session.as_deref(), p.sessions.as_deref())
            .await?;
        let sessions: Vec<i64> = match (named, base) {
            (Some(s), _) => s.iter().map(|s| s.id).collect(),
            (None, Some(b)) => b.sessions.clone(),
            (None, None) => {
                return Err(invalid(
                    "session",
                    "required: give session, or sessions (one or more)",
                ))
            }
        };
        let audience_changed = p.segment_id.is_some()
            || p.contact_ids.is_some()
            || base.is_some_and(|b| b.sessions != sessions);
        let audience = match base {
            Some(b) if !audience_changed => b.audience.clone(),
            _ => {
                let (seg, ids) = match base.map(|b| &b.audience) {
                    // Setting one kind of audience replaces the other.
                    Some(Audience::Segment(id)) if p.contact_ids.is_none() => {
                        (p.segment_id.unwrap_or(Some(*id)), None)
                    }
                    Some(Audience::Contacts(ids)) if p.segment_id.is_none() => {
                        (None, p.contact_ids.clone().unwrap_or(Some(ids.clone())))
                    }
                    _ => (p.segment_id.flatten(), p.contact_ids.clone().flatten()),
                };
                match (seg, ids, base) {
                    (None, None, None) if p.audience_upload => Audience::Contacts(Vec::new()),
                    // Its list is not uploaded yet (or its segment was deleted): it stays
                    // without an audience whatever else changes.
                    (None, Some(ids), Some(_)) if ids.is_empty() && p.contact_ids.is_none() => {
                        Audience::Contacts(Vec::new())
                    }
                    (_, _, None) if p.audience_upload => {
                        return Err(invalid(
                            "audience_upload",
                            "give segment_id, contact_ids or audience_upload, only one",
                        ))
                    }
                    (seg, ids, _) => self.check_audience(&sessions, seg, ids.as_deref()).await?,
                }
            }
        };
        let template = match (&p.template, base) {
            (Some(t), _) => {
                check_template(t)?;
                t.clone()
            }
            (None, Some(b)) => b.template.clone(),
            (None, None) => return Err(invalid("template", "required")),
        };
        let media = match &p.media {
            Some(Some(m)) => Some(m.clone().check()?),
            Some(None) => None,
            None => base.and_then(|b| b.media.clone()),
        };
        let start_at = match &p.start_at {
            Some(Some(s)) => Some(parse_start_at(s)?),
            Some(None) => None,
            None => base.and_then(|b| b.start_at),
        };
        let time_zone = match (&p.time_zone, base) {
            (Some(tz), _) => {
                campaign::time_zone("time_zone", tz)?;
                tz.clone()
            }
            (None, Some(b)) => b.time_zone.clone(),
            (None, None) => "UTC".to_string(),
        };
        let recurrence = match &p.recurrence {
            Some(r) => *r,
            None => base.and_then(|b| b.recurrence),
        };
        if recurrence.is_some() && start_at.is_none() {
            return Err(invalid(
                "recurrence",
                "a recurring campaign needs start_at (its first run)",
            ));
        }
        let quiet = match &p.quiet_hours {
            Some(Some(q)) => Some(QuietHours::parse(&q.start, &q.end)?),
            Some(None) => None,
            None => base.and_then(|b| b.quiet),
        };
        let pace = Pace::check(
            p.rate_per_minute
                .or(base.map(|b| b.pace.rate_per_minute))
                .unwrap_or(DEFAULT_RATE_PER_MINUTE),
            p.jitter
                .or(base.map(|b| b.pace.jitter))
                .unwrap_or(DEFAULT_JITTER),
        )?;
        let session_max = (self.config().send_rate_per_session * 60.0).floor() as i64;
        if pace.rate_per_minute > session_max {
            return Err(invalid(
                "rate_per_minute",
                format!(
                    "at most {session_max}: the session sends at most TICKHUB_SEND_RATE per second"
                ),
            ));
        }
        let frequency_cap_hours = match &p.frequency_cap_hours {
            Some(Some(h)) => Some(campaign::check_frequency_cap(*h)?),
            Some(None) => None,
            None => base.and_then(|b| b.frequency_cap_hours),
        };
        Ok(Settings {
            name,
            sessions,
            audience,
            template,
            media,
            start_at,
            time_zone,
            recurrence,
            quiet,
            pace,
            frequency_cap_hours,
        })
    }
}
