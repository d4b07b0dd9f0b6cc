//! The actors and the hub's front door.
//!
//! - [`session::SessionActor`], one per WhatsApp session: routing to its conversations,
//!   the session's status, the rate-limited outbound queue (`outbound`).
//! - [`conversation::ConversationActor`], one per active chat: in-order processing, the
//!   single writer of its conversation.
//! - [`agent::AgentActor`], one per websocket.
//! - [`presence`]: members' presence, bound to their sockets; [`board::BoardWatcher`]
//!   pushes the supervisors' board and members' counts.
//! - [`router`]: automatic assignment of waiting conversations (one per node).
//! - [`registry::SessionRegistry`] owns the session actors and decides where a session's
//!   work runs; [`hub::Hub`] is what HTTP handlers and sockets call, through the access
//!   policy. [`services::Services`] is what they all share.
//!
//! Imports go one way: agent → hub → registry → session → conversation.

pub mod agent;
pub mod board;
pub mod campaign;
pub mod conversation;
mod error;
pub mod hub;
mod outbound;
pub mod presence;
pub mod registry;
pub mod router;
pub mod services;
pub mod session;
pub mod waha_health;

pub use error::HubError;
pub use hub::{
    BotInput, BotPatch, Hub, MemberInput, MemberPatch, ReplayStep, TestHandoff, TestInput,
    TestReply, TestResult,
};
pub use services::Services;
