//! Campaigns (docs/campaigns.md): settings checked field by field (`campaign_settings`),
//! lifecycle moves written with their audit entry and `campaign.progress`, and the
//! node's campaign supervisor told, so a start or a pause takes effect at once.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::campaign_settings::{check_template, invalid};
pub use super::campaign_settings::{CampaignPatch, QuietHoursBody, MAX_CONTACT_IDS};
use super::Hub;
use crate::actors::campaign::{session_cannot_send, Kick};
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::bot::template::{Template, Vars};
use crate::domain::campaign::{
    CampaignAction, CampaignMedia, CampaignStatus, RecipientState, Recurrence,
};
use crate::domain::segment_filter::Filter;
use crate::domain::{phone, SessionRef, Viewer};
use crate::store::campaign_recipients::{self, AudienceCount, Funnel, HourPoint, Recipient};
use crate::store::campaigns::{self, Audience, CampaignRow, Counts};
use crate::store::{audit, campaign_flow, contacts, segments, sessions};

/// Who a campaign reaches, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AudienceView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<i64>,
    /// The segment's name, beside its id (a list or a page shows it without a lookup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_name: Option<String>,
    /// How many contacts were named (the ids themselves are not repeated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    /// Its first WhatsApp session (`sessions[0]`), for clients that know one.
    pub session: String,
    /// Every WhatsApp session it sends over, in the order named: each recipient is sent
    /// from its own contact's session.
    pub sessions: Vec<String>,
    pub audience: AudienceView,
    pub template: String,
    /// An image or file sent with the message, the text as its caption.
    pub media: Option<CampaignMedia>,
    pub status: CampaignStatus,
    /// RFC 3339; null: not scheduled.
    pub start_at: Option<String>,
    pub time_zone: String,
    pub recurrence: Option<Recurrence>,
    pub quiet_hours: Option<QuietHoursBody>,
    pub rate_per_minute: i64,
    pub jitter: f64,
    pub frequency_cap_hours: Option<i64>,
    /// Why it is paused (a member, or a session that cannot send), or why a scheduled
    /// campaign went back to draft when its time came (its segment was deleted).
    pub pause_reason: Option<String>,
    /// The campaign a recurring run repeats.
    pub parent_id: Option<i64>,
    /// Where its recipients stand now (each counted once; they add up to `total`).
    pub counts: Counts,
    /// The same per session its recipients are sent from, in the order of `sessions`.
    pub by_session: Vec<SessionCounts>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

/// One session's share of a campaign's recipients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionCounts {
    pub session: String,
    pub counts: Counts,
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The view of `row`, its counts per session (`counts_by_session`) summed for `counts`.
fn view(row: CampaignRow, mut per: HashMap<i64, Counts>) -> CampaignView {
    let s = row.settings();
    let by_session: Vec<SessionCounts> = row
        .sessions
        .iter()
        .map(|x| SessionCounts {
            session: x.name.clone(),
            counts: per.remove(&x.id).unwrap_or_default(),
        })
        .collect();
    let mut counts = Counts::default();
    for c in by_session.iter().map(|b| &b.counts).chain(per.values()) {
        counts.merge(c);
    }
    let sessions = row.sessions.iter().map(|x| x.name.clone()).collect();
    let audience = match &s.audience {
        Audience::Segment(id) => AudienceView {
            segment_id: Some(*id),
            segment_name: row.segment_name.clone(),
            contact_ids: None,
        },
        // None named: its segment was deleted (the campaign has no audience until given one).
        Audience::Contacts(ids) if ids.is_empty() => AudienceView {
            segment_id: None,
            segment_name: None,
            contact_ids: None,
        },
        Audience::Contacts(ids) => AudienceView {
            segment_id: None,
            segment_name: None,
            contact_ids: Some(ids.len()),
        },
    };
    CampaignView {
        id: row.id,
        name: row.name,
        session: row.session,
        sessions,
        audience,
        template: row.template,
        media: s.media.clone(),
        status: row.status,
        start_at: row.start_at.map(rfc3339),
        time_zone: row.time_zone,
        recurrence: s.recurrence,
        quiet_hours: s.quiet.map(|q| QuietHoursBody {
            start: q.start_text(),
            end: q.end_text(),
        }),
        rate_per_minute: row.rate_per_minute,
        jitter: row.jitter,
        frequency_cap_hours: row.frequency_cap_hours,
        pause_reason: row.pause_reason,
        parent_id: row.parent_id,
        counts,
        by_session,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        started_at: row.started_at,
        completed_at: row.completed_at,
    }
}

/// The report of one campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignReport {
    pub counts: Counts,
    /// The same per session its recipients are sent from.
    pub by_session: Vec<SessionCounts>,
    /// Recipients that reached each stage, whatever they went on to.
    pub funnel: Funnel,
    /// Delivered, read and replied, as fractions of those sent (0 when none was sent).
    pub rates: Rates,
    pub failures: Vec<ReasonCount>,
    pub skips: Vec<ReasonCount>,
    /// Recipients who opted out after the campaign's message.
    pub opt_outs: i64,
    /// Per hour (UTC).
    pub series: Vec<HourPoint>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Rates {
    pub delivered: f64,
    pub read: f64,
    pub replied: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}

/// The campaign as this transaction left it, with the change's audit entry (`after`:
/// its name and status unless given) and a `campaign.progress` event.
pub(super) async fn recorded(
    tx: &mut crate::store::Tx,
    v: &Viewer,
    action: &'static str,
    id: i64,
    after: Option<serde_json::Value>,
) -> crate::store::Result<CampaignRow> {
    let row = campaigns::get_in(tx, id)
        .await?
        .ok_or(crate::store::StoreError::NotFound)?;
    let after = after.unwrap_or_else(|| json!({"name": row.name, "status": row.status}));
    let entry = AuditEntry::new(action, "campaign", id)
        .session(row.session_id)
        .after(after);
    audit::record(tx, v, &entry).await?;
    campaign_flow::log_progress(tx, &row).await?;
    Ok(row)
}

fn denied(d: crate::domain::Denied, id: i64) -> HubError {
    HubError::denied(d, || format!("campaign {id}"))
}

impl Hub {
    fn kick_campaigns(&self, stop: Option<i64>) {
        self.campaigns.do_send(Kick { stop });
    }

    /// The campaign if the viewer may work with it (another session's: not found).
    pub(super) async fn campaign_row(&self, v: &Viewer, id: i64) -> Result<CampaignRow, HubError> {
        v.may_read_campaigns().map_err(|d| denied(d, id))?;
        let row = campaigns::get(self.db(), id)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("campaign {id}")))?;
        v.may_run_campaign_in(&row.settings().sessions)
            .map_err(|d| denied(d, id))?;
        Ok(row)
    }

    pub(super) async fn campaign_view(&self, row: CampaignRow) -> Result<CampaignView, HubError> {
        let per = campaigns::counts_by_session(self.db(), &[row.id])
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        Ok(view(row, per))
    }

    pub async fn campaigns(
        &self,
        v: &Viewer,
        status: Option<CampaignStatus>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CampaignView>, HubError> {
        v.may_read_campaigns()
            .map_err(|d| HubError::denied(d, || "campaigns".into()))?;
        let rows = campaigns::list(
            self.db(),
            v.sessions_filter().as_deref(),
            status,
            before,
            limit,
        )
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut counts = campaigns::counts_by_session(self.db(), &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let c = counts.remove(&r.id).unwrap_or_default();
                view(r, c)
            })
            .collect())
    }

    pub async fn campaign(&self, v: &Viewer, id: i64) -> Result<CampaignView, HubError> {
        let row = self.campaign_row(v, id).await?;
        self.campaign_view(row).await
    }

    pub async fn create_campaign(
        &self,
        v: &Viewer,
        p: &CampaignPatch,
    ) -> Result<CampaignView, HubError> {
        v.may_read_campaigns()
            .map_err(|d| HubError::denied(d, || "campaigns".into()))?;
        let s = self.campaign_settings(v, None, p).await?;
        let status = if s.start_at.is_some() {
            CampaignStatus::Scheduled
        } else {
            CampaignStatus::Draft
        };
        let row = self
            .services
            .writer
            .run((v.clone(), s, status), |tx, (v, s, status)| {
                Box::pin(async move {
                    let id = campaigns::insert(
                        tx,
                        s,
                        *status,
                        (v.user_id > 0).then_some(v.user_id),
                        None,
                    )
                    .await?;
                    recorded(tx, v, "campaign.create", id, None).await
                })
            })
            .await?;
        self.kick_campaigns(None);
        self.campaign_view(row).await
    }

    pub async fn update_campaign(
        &self,
        v: &Viewer,
        id: i64,
        p: &CampaignPatch,
    ) -> Result<CampaignView, HubError> {
        let row = self.campaign_row(v, id).await?;
        let editing = |status: CampaignStatus| {
            HubError::Conflict(format!(
                "campaign {id} is {status}: {}",
                match status {
                    CampaignStatus::Running => "pause it before editing",
                    _ => "a finished campaign cannot be edited",
                }
            ))
        };
        if !row.status.editable() {
            return Err(editing(row.status));
        }
        let base = row.settings();
        let s = self.campaign_settings(v, Some(&base), p).await?;
        let started = row.status == CampaignStatus::Paused;
        if started && (s.audience != base.audience || s.sessions != base.sessions) {
            return Err(HubError::Conflict(format!(
                "campaign {id} has started: its sessions and audience can no longer change"
            )));
        }
        let status = match (started, s.start_at) {
            (true, _) => CampaignStatus::Paused,
            (false, Some(_)) => CampaignStatus::Scheduled,
            (false, None) => CampaignStatus::Draft,
        };
        let saved = self
            .services
            .writer
            .run((v.clone(), id, s, status), |tx, (v, id, s, status)| {
                Box::pin(async move {
                    if !campaigns::save(tx, *id, s, *status).await? {
                        return Ok(None);
                    }
                    Ok(Some(recorded(tx, v, "campaign.update", *id, None).await?))
                })
            })
            .await?;
        let Some(row) = saved else {
            let now = self.campaign_row(v, id).await?;
            return Err(editing(now.status));
        };
        self.kick_campaigns(None);
        self.campaign_view(row).await
    }

    pub async fn delete_campaign(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let row = self.campaign_row(v, id).await?;
        let gone = self
            .services
            .writer
            .run(
                (v.clone(), id, row.session_id),
                |tx, (v, id, session_id)| {
                    Box::pin(async move {
                        if !campaigns::delete(tx, *id).await? {
                            return Ok(false);
                        }
                        let entry =
                            AuditEntry::new("campaign.delete", "campaign", id).session(*session_id);
                        audit::record(tx, v, &entry).await?;
                        Ok(true)
                    })
                },
            )
            .await?;
        if !gone {
            return Err(HubError::Conflict(format!(
                "campaign {id} has started: cancel it instead"
            )));
        }
        Ok(())
    }

    /// Start, pause, resume or cancel.
    pub async fn campaign_action(
        &self,
        v: &Viewer,
        id: i64,
        action: CampaignAction,
    ) -> Result<CampaignView, HubError> {
        let row = self.campaign_row(v, id).await?;
        let to = row.status.after(action).map_err(HubError::Conflict)?;
        let filter = match (action, row.settings().audience) {
            (CampaignAction::Start, Audience::Segment(sid)) => {
                let seg = segments::get(self.db(), sid).await?.ok_or_else(|| {
                    HubError::Conflict(format!("campaign {id}'s segment was deleted"))
                })?;
                Some(self.segment_filter(&seg).await?)
            }
            (CampaignAction::Start, Audience::Contacts(ids)) if ids.is_empty() => {
                return Err(HubError::Conflict(format!(
                    "campaign {id} has no audience (its segment was deleted, or its list is \
                     not uploaded yet): choose a segment or contacts, or upload a list"
                )))
            }
            _ => None,
        };
        if to == CampaignStatus::Running {
            for session in &row.sessions {
                if let Some(s) = sessions::by_id(self.db(), session.id).await? {
                    if session_cannot_send(&s.status) {
                        return Err(HubError::Conflict(format!(
                            "session {} is {}: it cannot send",
                            s.name, s.status
                        )));
                    }
                }
            }
        }
        let reason = match action {
            CampaignAction::Pause => Some(
                match crate::store::members::get(self.db(), v.user_id).await? {
                    Some(u) => format!("paused by {}", u.name),
                    None => "paused".to_string(),
                },
            ),
            _ => None,
        };
        let input = (v.clone(), id, row.status, to, reason, filter, action);
        let moved = self
            .services
            .writer
            .run(input, |tx, (v, id, from, to, reason, filter, action)| {
                Box::pin(async move {
                    let Some(row) = campaign_flow::transition(
                        tx,
                        *id,
                        *from,
                        *to,
                        reason.as_deref(),
                        filter.as_ref(),
                    )
                    .await?
                    else {
                        return Ok(None);
                    };
                    let entry = AuditEntry::new(action_name(*action), "campaign", id)
                        .session(row.session_id)
                        .before(json!({"status": from}))
                        .after(json!({"status": to}));
                    audit::record(tx, v, &entry).await?;
                    Ok(Some(row))
                })
            })
            .await?
            .ok_or_else(|| {
                HubError::Conflict(format!("campaign {id} changed meanwhile: read it again"))
            })?;
        let stops = matches!(action, CampaignAction::Pause | CampaignAction::Cancel);
        self.kick_campaigns(stops.then_some(id));
        self.campaign_view(moved).await
    }

    /// What a campaign's audience would hold now, over `session` or `sessions`.
    pub async fn campaign_audience(
        &self,
        v: &Viewer,
        session: Option<&str>,
        sessions: Option<&[String]>,
        segment_id: Option<i64>,
        contact_ids: Option<&[i64]>,
    ) -> Result<AudienceCount, HubError> {
        v.may_read_campaigns()
            .map_err(|d| HubError::denied(d, || "campaigns".into()))?;
        let ids: Vec<i64> = self
            .campaign_sessions(v, session, sessions)
            .await?
            .ok_or_else(|| invalid("session", "required: give session or sessions"))?
            .iter()
            .map(|s| s.id)
            .collect();
        let audience = self.check_audience(&ids, segment_id, contact_ids).await?;
        let filter = self.audience_filter(&audience).await?;
        Ok(campaign_recipients::count_audience(
            self.db(),
            &ids,
            &audience,
            filter.as_ref(),
            self.now_ms(),
        )
        .await?)
    }

    async fn audience_filter(&self, a: &Audience) -> Result<Option<Filter>, HubError> {
        let Audience::Segment(id) = a else {
            return Ok(None);
        };
        Ok(segments::filter_of(self.db(), *id).await?.transpose()?)
    }

    /// `template` rendered for a contact the viewer may see (sends nothing).
    pub async fn render_template(
        &self,
        v: &Viewer,
        template: &str,
        contact_id: i64,
    ) -> Result<String, HubError> {
        v.may_read_campaigns()
            .map_err(|d| HubError::denied(d, || "campaigns".into()))?;
        check_template(template)?;
        let t = Template::parse(template).map_err(|e| invalid("template", e))?;
        let c = contacts::get(self.db(), contact_id)
            .await?
            .filter(|c| v.may_see_contact(c.session_id).is_ok())
            .ok_or_else(|| invalid("contact_id", format!("no contact {contact_id}")))?;
        let vars = contacts::vars(self.db(), c.id).await?;
        let at = DateTime::<Utc>::from_timestamp_millis(self.now_ms()).unwrap_or_default();
        Ok(t.render(&Vars::new(&vars, None, None, at)))
    }

    /// Sends the campaign's message, rendered for `contact_id` (or with every variable's
    /// fallback), to `phone` (a team member's): straight to WAHA, outside every queue and
    /// count, since it is no customer's.
    pub async fn test_campaign(
        &self,
        v: &Viewer,
        id: i64,
        phone_raw: &str,
        contact_id: Option<i64>,
        session: Option<&str>,
    ) -> Result<String, HubError> {
        let row = self.campaign_row(v, id).await?;
        let e164 = phone::normalise(phone_raw, self.config().phone_region)
            .map_err(|e| invalid("phone", e.to_string()))?;
        let session = match session {
            None => SessionRef {
                id: row.session_id,
                name: row.session.clone(),
            },
            Some(name) => row
                .sessions
                .iter()
                .find(|s| s.name == name)
                .cloned()
                .ok_or_else(|| {
                    invalid(
                        "session",
                        format!("the campaign does not send over {name:?}"),
                    )
                })?,
        };
        let text = match contact_id {
            Some(c) => self.render_template(v, &row.template, c).await?,
            None => {
                let t = Template::parse(&row.template).map_err(|e| invalid("template", e))?;
                let vars = crate::domain::bot::ContactVars::default();
                let at = DateTime::<Utc>::from_timestamp_millis(self.now_ms()).unwrap_or_default();
                t.render(&Vars::new(&vars, None, None, at))
            }
        };
        if text.trim().is_empty() {
            return Err(invalid(
                "template",
                "renders empty without a contact: give contact_id",
            ));
        }
        let req = crate::waha::client::SendText {
            session: session.name.to_string(),
            chat_id: phone::wa_id(&e164),
            text: text.clone(),
            reply_to: None,
            id: None,
        };
        self.services.waha.send_text(&req).await?;
        let entry = AuditEntry::new("campaign.test", "campaign", id)
            .session(session.id)
            .after(json!({"to": e164}));
        self.services
            .writer
            .run((v.clone(), entry), |tx, (v, entry)| {
                Box::pin(async move { audit::record(tx, v, entry).await })
            })
            .await?;
        Ok(text)
    }

    pub async fn campaign_recipients(
        &self,
        v: &Viewer,
        id: i64,
        state: Option<RecipientState>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Recipient>, HubError> {
        self.campaign_row(v, id).await?;
        Ok(campaign_recipients::list(self.db(), id, state, after, limit).await?)
    }

    pub async fn campaign_report(&self, v: &Viewer, id: i64) -> Result<CampaignReport, HubError> {
        let row = self.campaign_row(v, id).await?;
        let db = self.db();
        let view = self.campaign_view(row).await?;
        let (counts, by_session) = (view.counts, view.by_session);
        let funnel = campaign_recipients::funnel(db, id).await?;
        let rate = |n: i64| {
            if funnel.sent > 0 {
                n as f64 / funnel.sent as f64
            } else {
                0.0
            }
        };
        let reasons = |rows: Vec<(String, i64)>| {
            rows.into_iter()
                .map(|(reason, count)| ReasonCount { reason, count })
                .collect()
        };
        Ok(CampaignReport {
            counts,
            by_session,
            rates: Rates {
                delivered: rate(funnel.delivered),
                read: rate(funnel.read),
                replied: rate(funnel.replied),
            },
            funnel,
            failures: reasons(campaign_recipients::reasons(db, id, RecipientState::Failed).await?),
            skips: reasons(campaign_recipients::reasons(db, id, RecipientState::Skipped).await?),
            opt_outs: campaign_recipients::opt_outs(db, id).await?,
            series: campaign_recipients::series(db, id).await?,
        })
    }
}

fn action_name(a: CampaignAction) -> &'static str {
    match a {
        CampaignAction::Start => "campaign.start",
        CampaignAction::Pause => "campaign.pause",
        CampaignAction::Resume => "campaign.resume",
        CampaignAction::Cancel => "campaign.cancel",
    }
}
