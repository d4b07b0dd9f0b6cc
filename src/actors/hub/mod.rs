//! The hub's front door: what HTTP handlers and agents' sockets ask for, each operation
//! checked against the access policy (`domain::access`) and handed to the actor that owns
//! what it changes, through the session registry. Reads that change nothing go to the
//! store directly, filtered by the same policy.

mod account;
mod analytics;
pub use analytics::{
    AgentReport, BotReport, BotRow, CampaignsReport, CampaignsReportRow, PeriodView, ReportQuery,
    SessionReport,
};
mod audience_list;
mod audit;
mod board;
mod bot_tester;
mod bots;
mod campaign_settings;
mod campaign_upload;
mod campaigns;
mod contact_merge;
mod contact_schema;
mod contacts;
mod gdpr;
mod handling;
mod imports;
mod inbox;
mod integrations;
mod media;
mod notifications;
mod presence;
mod quick_replies;
mod routing;
mod segments;
mod session_settings;
mod session_team;
mod sessions;
mod sign_in;
mod team;
mod templates;
mod trigger_order;
mod viewing;

use std::sync::Arc;

use super::error::HubError;
use super::registry::SessionRegistry;
use super::services::Services;
use super::waha_health::WahaHealth;
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::access::SessionAccess;
use crate::domain::Viewer;
use crate::store::users::User;
use crate::store::Db;

pub use bot_tester::{ReplayStep, TestHandoff, TestInput, TestReply, TestResult};
pub use bots::{BotInput, BotPatch};
pub use campaign_upload::UploadedAudience;
pub use campaigns::{
    AudienceView, CampaignPatch, CampaignReport, CampaignView, QuietHoursBody, Rates, ReasonCount,
    SessionCounts,
};
pub use contacts::{ConsentInput, ContactInput};
pub use gdpr::{ContactExport, ErasedContact, ExportedConversation};
pub use integrations::{CreatedApiKey, SmtpSettings, SubscriptionPatch, WahaSettings};
pub use media::{MediaError, MessageMedia};
pub use notifications::PrefsPatch;
pub use quick_replies::QuickReplyPatch;
pub use segments::SegmentView;
pub use session_settings::SessionSettingsPatch;
pub use sessions::{SessionAction, SessionView};
pub use team::{MemberInput, MemberPatch};

pub struct Hub {
    services: Arc<Services>,
    registry: Arc<SessionRegistry>,
    health: WahaHealth,
    viewing: viewing::Viewing,
    presence: super::presence::Presence,
    campaigns: actix::Addr<super::campaign::CampaignSupervisor>,
}

impl Hub {
    pub fn new(services: Arc<Services>) -> Arc<Hub> {
        let registry = Arc::new(SessionRegistry::new(services.clone()));
        let presence = super::presence::Presence::start(services.clone());
        let online = presence.clone();
        services.set_online(Arc::new(move |user| {
            online.current(user) == crate::domain::PresenceStatus::Online
        }));
        services.set_router(super::router::Router::start(
            services.clone(),
            registry.clone(),
            presence.clone(),
        ));
        super::board::BoardWatcher::start(services.clone(), presence.clone());
        if let Some(c) = &services.cluster {
            let work = registry.clone();
            c.link.on_work(Box::new(move |w| work.on_cluster_work(w)));
            c.start(Arc::new(super::registry::LeaseHandler(registry.clone())));
        }
        let campaigns =
            super::campaign::CampaignSupervisor::start(services.clone(), registry.clone());
        Arc::new(Hub {
            campaigns,
            services,
            registry,
            health: WahaHealth::default(),
            viewing: viewing::Viewing::default(),
            presence,
        })
    }

    pub fn config(&self) -> &Config {
        &self.services.config
    }

    /// For reads; every write goes through an actor or an operation of the hub.
    pub fn db(&self) -> &Db {
        &self.services.db
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.services.bus
    }

    pub fn health(&self) -> &WahaHealth {
        &self.health
    }

    /// Cluster mode: the other nodes and what this one holds.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.services.cluster.as_ref()
    }

    /// Whether this node runs the hub-wide jobs (always, unless another node of a
    /// cluster coordinates).
    pub fn coordinates(&self) -> bool {
        self.services.coordinates()
    }

    pub fn registry(&self) -> &Arc<SessionRegistry> {
        &self.registry
    }

    pub fn now_ms(&self) -> i64 {
        self.services.now_ms()
    }

    /// Who `user` is to the access policy: their role and the sessions they work in
    /// (admins: all), read afresh for each request and each socket.
    pub async fn viewer(
        &self,
        user: &User,
        origin: crate::domain::audit::Origin,
    ) -> Result<Viewer, crate::store::StoreError> {
        let sessions = if user.role == crate::domain::Role::Admin {
            SessionAccess::All
        } else {
            SessionAccess::Only(crate::store::members::session_ids(self.db(), user.id).await?)
        };
        Ok(Viewer {
            user_id: user.id,
            role: user.role,
            sessions,
            origin,
        })
    }
}

impl Hub {
    /// Stored webhooks the hub gave up applying (operators only).
    pub async fn failed_webhooks(
        &self,
        v: &Viewer,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::store::inbox::FailedWebhook>, HubError> {
        v.may_operate()
            .map_err(|d| HubError::denied(d, || "failed webhooks".into()))?;
        Ok(crate::store::inbox::failed(self.db(), before, limit).await?)
    }

    /// The nodes and who owns each session (operators only); a single node owns all.
    pub async fn cluster_view(&self, v: &Viewer) -> Result<crate::cluster::ClusterView, HubError> {
        v.may_operate()
            .map_err(|d| HubError::denied(d, || "the cluster".into()))?;
        if let Some(c) = self.cluster() {
            return Ok(c.view().await?);
        }
        let node = self.config().node_id.clone();
        let sessions = crate::store::sessions::list(self.db()).await?;
        Ok(crate::cluster::ClusterView {
            nodes: vec![node.clone()],
            coordinator: Some(node.clone()),
            sessions: sessions
                .into_iter()
                .map(|s| crate::cluster::SessionOwner {
                    name: s.name,
                    owner: Some(node.clone()),
                })
                .collect(),
            node,
        })
    }
}
