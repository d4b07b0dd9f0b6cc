//! The actors: one [`session::SessionActor`] per WhatsApp session (routing, status, the
//! rate-limited outbound queue), one [`conversation::ConversationActor`] per active chat
//! (in-order processing, the single writer of its conversation) and one
//! [`agent::AgentActor`] per websocket. [`hub::Hub`] holds what they share.

pub mod agent;
pub mod conversation;
pub mod hub;
pub mod session;

pub use hub::{Hub, HubError};
