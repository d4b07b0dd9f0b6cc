//! Plain types and rules of the inbox, with no I/O: what a message status may become,
//! what a chat id means, what a WhatsApp event means to the inbox, who may see and do
//! what, the websocket protocol's frames and commands, and the bot engine.

pub mod access;
pub mod analytics;
pub mod audit;
pub mod board;
pub mod bot;
pub mod campaign;
pub mod chat;
pub mod clock;
pub mod contact;
pub mod csat;
pub mod csv_import;
pub mod csv_mapping;
pub mod erasure;
pub mod event;
pub mod field;
pub mod hook;
pub mod hours;
pub mod inbound;
pub mod member;
pub mod message;
pub mod notify;
pub mod outbound;
pub mod password;
pub mod phone;
pub mod presence;
pub mod protocol;
pub mod quick_reply;
pub mod role;
pub mod routing;
pub mod segment_filter;
pub mod session;
pub mod status;

pub use access::AnalyticsScope;
pub use access::{ConversationFacts, Denied, Viewer};
pub use chat::ChatId;
pub use clock::{Clock, SharedClock, SystemClock};
pub use event::{EventKind, EventScope, LoggedEvent};
pub use field::FieldError;
pub use inbound::{Author, Change, Inbound, IncomingMessage, Media};
pub use message::{AckStatus, Direction};
pub use outbound::{Reply, SendOutcome};
pub use role::Role;
pub use session::{ReplyPolicy, SessionRef};
pub use status::{ConversationStatus, OutboxState, PresenceStatus};
