//! Plain types and rules of the inbox, with no I/O: what a message status may become,
//! what a chat id means, which role sees which event.

pub mod chat;
pub mod clock;
pub mod event;
pub mod message;
pub mod role;
pub mod visibility;

pub use chat::ChatId;
pub use clock::{Clock, SystemClock};
pub use event::{EventKind, EventScope};
pub use message::{AckStatus, Direction};
pub use role::Role;
