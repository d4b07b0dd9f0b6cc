//! The single-node bus: publishing is delivering to this node's fanout.

use std::sync::Arc;

use super::presence::LocalPresenceLink;
use super::{Bus, Fanout, PresenceLink};
use crate::domain::LoggedEvent;

pub struct LocalBus {
    fanout: Arc<Fanout>,
    presence: LocalPresenceLink,
}

impl LocalBus {
    pub fn new() -> Self {
        LocalBus {
            fanout: Arc::new(Fanout::default()),
            presence: LocalPresenceLink::default(),
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for LocalBus {
    fn publish(&self, events: Vec<LoggedEvent>) {
        self.fanout
            .deliver_all(events.into_iter().map(Arc::new).collect());
    }

    fn publish_ephemeral(&self, event: LoggedEvent) {
        self.fanout.deliver(Arc::new(event));
    }

    fn fanout(&self) -> &Arc<Fanout> {
        &self.fanout
    }

    fn presence(&self) -> &dyn PresenceLink {
        &self.presence
    }
}
