//! Campaigns' sending: one [`runner::CampaignRunner`] per running campaign, on the node
//! that owns the campaign's WhatsApp session (so exactly one node of a cluster sends
//! it, and a node that takes the session over resumes it); one
//! [`supervisor::CampaignSupervisor`] per node starts due campaigns and runners, and
//! reports progress.

pub mod runner;
pub mod supervisor;

pub use supervisor::{CampaignSupervisor, Kick};

/// WAHA statuses in which a session cannot send: its running campaigns pause, saying so.
pub fn session_cannot_send(status: &str) -> bool {
    matches!(status, "FAILED" | "STOPPED" | "SCAN_QR_CODE")
}
