//! The hub's front door: what HTTP handlers and agents' sockets ask for, each operation
//! checked against the access policy (`domain::access`) and handed to the actor that owns
//! what it changes, through the session registry. Reads that change nothing go to the
//! store directly, filtered by the same policy.

mod contacts;
mod inbox;
mod sessions;

use std::sync::Arc;

use super::registry::SessionRegistry;
use super::services::Services;
use super::waha_health::WahaHealth;
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::Viewer;
use crate::store::users::User;
use crate::store::Db;

pub use sessions::{SessionAction, SessionView};

pub struct Hub {
    services: Arc<Services>,
    registry: Arc<SessionRegistry>,
    health: WahaHealth,
}

impl Hub {
    pub fn new(services: Arc<Services>) -> Arc<Hub> {
        let registry = Arc::new(SessionRegistry::new(services.clone()));
        Arc::new(Hub {
            services,
            registry,
            health: WahaHealth::default(),
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

    pub fn registry(&self) -> &Arc<SessionRegistry> {
        &self.registry
    }

    pub fn now_ms(&self) -> i64 {
        self.services.now_ms()
    }

    /// Who `user` is to the access policy. (Session access lists come with the team.)
    pub fn viewer(&self, user: &User) -> Viewer {
        Viewer {
            user_id: user.id,
            role: user.role,
            sessions: crate::domain::access::SessionAccess::All,
        }
    }
}

impl Hub {
    /// Stored webhooks the hub gave up applying (operators only).
    pub async fn failed_webhooks(
        &self,
        v: &Viewer,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::store::inbox::FailedWebhook>, super::HubError> {
        v.may_operate()
            .map_err(|d| super::HubError::denied(d, || "failed webhooks".into()))?;
        Ok(crate::store::inbox::failed(self.db(), before, limit).await?)
    }
}
