//! Reports (docs/analytics.md): the period and scope checked, the rollups read, members'
//! names put on their rows. Every report reads the analytics tables, never the inbox's.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::analytics::report::{AgentFigures, InOut, Period, SessionFigures};
use crate::domain::analytics::{Metric, Tally};
use crate::domain::{AnalyticsScope, Denied, Viewer};
use crate::store::analytics::reports::{self, By};
use crate::store::bot_metrics::{self, BotMetrics};
use crate::store::campaigns::{self, Counts};
use crate::store::{board as reads, bots, csat, sessions};

/// What a report was asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub tz: Option<String>,
    /// One session by name (default: every session the viewer may see).
    pub session: Option<String>,
}

/// The period a report covers, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PeriodView {
    /// RFC 3339; the period is `[from, to)`.
    pub from: String,
    pub to: String,
    pub tz: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentReport {
    pub period: PeriodView,
    /// One row per member with figures in the period (a member sees only their own).
    pub items: Vec<AgentFigures>,
    /// Everyone in the report added up (`user_id` null).
    pub team: AgentFigures,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionReport {
    pub period: PeriodView,
    pub items: Vec<SessionFigures>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BotReport {
    pub period: PeriodView,
    pub items: Vec<BotRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BotRow {
    pub name: String,
    #[serde(flatten)]
    pub metrics: BotMetrics,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignsReport {
    pub period: PeriodView,
    /// Campaigns that started in the period, newest first.
    pub items: Vec<CampaignsReportRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignsReportRow {
    pub id: i64,
    pub name: String,
    /// Its first session (`sessions[0]`).
    pub session: String,
    /// Every session it sends over.
    pub sessions: Vec<String>,
    pub status: String,
    pub started_at: Option<String>,
    /// Its recipients' outcomes; with `?session=`, of the recipients sent from that
    /// session only (a campaign over several sessions splits its audience among them).
    pub counts: Counts,
    /// Shares of the recipients a message reached (sent or further): 0–1, `null` before
    /// any was sent.
    pub delivery_rate: Option<f64>,
    pub read_rate: Option<f64>,
    pub reply_rate: Option<f64>,
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn period_view(p: &Period) -> PeriodView {
    PeriodView {
        from: rfc3339(p.from_ms),
        to: rfc3339(p.to_ms),
        tz: p.tz.name().to_string(),
    }
}

fn ratio(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| (n as f64 / of as f64 * 1000.0).round() / 1000.0)
}

impl Hub {
    /// The period and sessions a report covers: `scope` narrowed to `q.session` (a session
    /// the viewer may not see is a 404, as if it did not exist).
    async fn report_scope(
        &self,
        v: &Viewer,
        scope: Result<AnalyticsScope, Denied>,
        q: &ReportQuery,
    ) -> Result<(Period, AnalyticsScope), HubError> {
        let mut scope = scope.map_err(|d| HubError::denied(d, || "the report".into()))?;
        let period = Period::parse(
            q.from.as_deref(),
            q.to.as_deref(),
            q.tz.as_deref(),
            self.now_ms(),
        )?;
        if let Some(name) = q.session.as_deref().filter(|n| !n.is_empty()) {
            let s = sessions::by_name(self.db(), name)
                .await?
                .filter(|s| v.may_report_on(s.id).is_ok())
                .ok_or_else(|| HubError::NotFound(format!("session {name:?}")))?;
            scope.sessions = Some(vec![s.id]);
        }
        Ok((period, scope))
    }

    pub async fn agent_report(&self, v: &Viewer, q: &ReportQuery) -> Result<AgentReport, HubError> {
        let (period, scope) = self.report_scope(v, v.agent_analytics(), q).await?;
        let sessions = scope.sessions.as_deref();
        let mut tallies = reports::tallies(self.db(), &period, sessions, By::Member).await?;
        let sent = reports::messages_sent(self.db(), &period, sessions).await?;
        let names: BTreeMap<i64, String> = reads::team_names(self.db()).await?;
        let (scores, all_scores) =
            csat::scores(self.db(), period.from_ms, period.to_ms, sessions).await?;
        let score = |s: &csat::AgentScore| (s.responses, s.average, s.csat_percent);
        let by_member: BTreeMap<i64, (i64, f64, f64)> = scores
            .iter()
            .filter_map(|s| Some((s.user_id?, score(s))))
            .collect();
        let mut users: Vec<i64> = tallies
            .keys()
            .chain(sent.keys())
            .chain(by_member.keys())
            .copied()
            .collect();
        users.sort_unstable();
        users.dedup();
        users.retain(|u| *u != 0 && scope.only_user.is_none_or(|me| me == *u));
        let mut team: BTreeMap<Metric, Tally> = BTreeMap::new();
        let mut items = Vec::with_capacity(users.len());
        for u in users {
            let t = tallies.remove(&u).unwrap_or_default();
            for (m, tally) in &t {
                team.entry(*m).or_default().merge(tally);
            }
            let mut row =
                AgentFigures::from_tallies(Some(u), &t, sent.get(&u).copied().unwrap_or(0))
                    .with_csat(by_member.get(&u).copied());
            row.name = names.get(&u).cloned();
            items.push(row);
        }
        let team_sent = items.iter().map(|r| r.messages_sent).sum();
        Ok(AgentReport {
            period: period_view(&period),
            // The team's ratings are everyone's in its sessions (a member's own view: theirs).
            team: AgentFigures::from_tallies(None, &team, team_sent).with_csat(
                match scope.only_user {
                    None => Some(score(&all_scores)),
                    Some(me) => by_member.get(&me).copied(),
                },
            ),
            items,
        })
    }

    pub async fn session_report(
        &self,
        v: &Viewer,
        q: &ReportQuery,
    ) -> Result<SessionReport, HubError> {
        let (period, scope) = self.report_scope(v, v.team_analytics(), q).await?;
        let sessions = scope.sessions.as_deref();
        let names = reads::session_names(self.db()).await?;
        let hours = reports::session_hours(self.db(), &period, sessions).await?;
        let bots = reports::tallies(self.db(), &period, sessions, By::Session).await?;
        let mut items: BTreeMap<i64, SessionFigures> = names
            .into_iter()
            .filter(|(id, _)| sessions.is_none_or(|s| s.contains(id)))
            .map(|(id, session)| {
                let n = |m| {
                    bots.get(&id)
                        .and_then(|t| t.get(&m))
                        .map_or(0, |t: &Tally| t.n)
                };
                let (bot, auto) = (n(Metric::BotCycles), n(Metric::AutoResolved));
                let f = SessionFigures {
                    session,
                    by_hour_of_day: vec![InOut::default(); 24],
                    by_day_of_week: vec![InOut::default(); 7],
                    bot_conversations: bot,
                    bot_auto_resolved: auto,
                    ..SessionFigures::default()
                };
                (id, f)
            })
            .collect();
        for (session, hour, m_in, m_out, started) in hours {
            let Some(f) = items.get_mut(&session) else {
                continue;
            };
            f.messages_in += m_in;
            f.messages_out += m_out;
            f.conversations_started += started;
            let (h, d) = period.local_hour_and_weekday(hour);
            for slot in [&mut f.by_hour_of_day[h], &mut f.by_day_of_week[d]] {
                slot.messages_in += m_in;
                slot.messages_out += m_out;
            }
        }
        Ok(SessionReport {
            period: period_view(&period),
            items: items.into_values().collect(),
        })
    }

    pub async fn bot_report(&self, v: &Viewer, q: &ReportQuery) -> Result<BotReport, HubError> {
        let (period, scope) = self.report_scope(v, v.team_analytics(), q).await?;
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let page = bots::list(self.db(), after, 200).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let shown: Vec<_> = page
                .into_iter()
                .filter(|b| {
                    scope
                        .sessions
                        .as_deref()
                        .is_none_or(|s| b.session_ids.iter().any(|id| s.contains(id)))
                })
                .collect();
            let ids: Vec<i64> = shown.iter().map(|b| b.id).collect();
            let mut metrics =
                bot_metrics::for_bots(self.db(), &ids, period.from_ms, period.to_ms).await?;
            for b in shown {
                if let Some(metrics) = metrics.remove(&b.id) {
                    items.push(BotRow {
                        name: b.name,
                        metrics,
                    });
                }
            }
        }
        Ok(BotReport {
            period: period_view(&period),
            items,
        })
    }

    pub async fn campaigns_report(
        &self,
        v: &Viewer,
        q: &ReportQuery,
    ) -> Result<CampaignsReport, HubError> {
        let mine = v.campaign_analytics().ok().and_then(|s| s.sessions);
        let (period, scope) = self.report_scope(v, v.campaign_analytics(), q).await?;
        // `?session=` names a session the campaigns send over (among others, perhaps);
        // the viewer's own sessions must hold every session of a campaign listed.
        let over = match (q.session.as_deref(), scope.sessions.as_deref()) {
            (Some(n), Some([one])) if !n.is_empty() => Some(*one),
            _ => None,
        };
        let rows = campaigns::started_between(
            self.db(),
            mine.as_deref(),
            over,
            period.from_ms,
            period.to_ms,
        )
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut counts = match over {
            None => campaigns::counts(self.db(), &ids).await?,
            Some(session) => campaigns::counts_by_session(self.db(), &ids)
                .await?
                .into_iter()
                .map(|(id, mut by)| (id, by.remove(&session).unwrap_or_default()))
                .collect(),
        };
        let items = rows
            .into_iter()
            .map(|r| {
                let c = counts.remove(&r.id).unwrap_or_default();
                let reached = c.sent + c.delivered + c.read + c.replied;
                CampaignsReportRow {
                    id: r.id,
                    name: r.name,
                    session: r.session,
                    sessions: r.sessions.into_iter().map(|s| s.name).collect(),
                    status: r.status.as_str().to_string(),
                    started_at: r.started_at.map(rfc3339),
                    delivery_rate: ratio(c.delivered + c.read + c.replied, reached),
                    read_rate: ratio(c.read + c.replied, reached),
                    reply_rate: ratio(c.replied, reached),
                    counts: c,
                }
            })
            .collect();
        Ok(CampaignsReport {
            period: period_view(&period),
            items,
        })
    }
}
