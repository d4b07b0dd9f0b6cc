//! What the business sends: an agent's reply, and what became of an attempt to send.

/// An agent's reply, stored with its outbox row before anything is sent.
#[derive(Debug, Clone)]
pub struct Reply {
    pub conversation_id: i64,
    pub text: String,
    /// Chosen by the client: a repeat with the same id gives the first message back.
    pub client_id: Option<String>,
    pub author_id: i64,
}

/// The outcome of one attempt to hand a message to WAHA.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// WAHA took it (or already had it): its id, when WAHA said.
    Sent(Option<String>),
    /// Try again at this time (ms).
    Retry { at: i64, error: String },
    /// Will never go: the message is failed.
    Failed(String),
}
