//! What can go wrong behind the hub's front door, for the HTTP layer to map in one place.

use crate::domain::{Denied, FieldError};
use crate::store::StoreError;
use crate::waha::client::WahaError;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("WAHA: {0}")]
    Waha(#[from] WahaError),
    /// Absent, or hidden from the one asking (its existence does not leak).
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Invalid(String),
    /// Not possible in the present state of things (e.g. a QR code before WAHA has one).
    #[error("{0}")]
    Conflict(String),
    /// A value the hub refuses (422), with the path of its field.
    #[error(transparent)]
    Unprocessable(#[from] FieldError),
    /// A value that clashes with what exists (409), e.g. a taken shortcut, with its field.
    #[error(transparent)]
    ConflictOn(FieldError),
    #[error("the hub is shutting down")]
    Stopped,
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialError),
}

impl HubError {
    /// What a client may be told (the websocket's `error` frames; HTTP maps the same way
    /// in `http::error`): the database's and WAHA's own words go to the log instead.
    pub fn public_message(&self) -> String {
        match self {
            HubError::Store(StoreError::Database(detail) | StoreError::Migrate(detail)) => {
                tracing::error!(%detail, "database error");
                "the database could not do this; try again".into()
            }
            HubError::Store(StoreError::Unavailable(detail)) => {
                tracing::warn!(%detail, "database unavailable");
                "the database is unavailable; try again".into()
            }
            HubError::Waha(w) => {
                tracing::warn!(error = %w, "WAHA call failed");
                match w {
                    WahaError::Http { status, .. } => format!("WAHA answered {status}"),
                    WahaError::Transport(_) => "WAHA did not answer".into(),
                    WahaError::Decode(_) => "WAHA's answer could not be read".into(),
                }
            }
            HubError::Credentials(e @ crate::credentials::CredentialError::Busy { .. }) => {
                e.to_string()
            }
            HubError::Credentials(e) => {
                tracing::error!(error = %e, "password hashing failed");
                "internal error".into()
            }
            e => e.to_string(),
        }
    }

    /// The policy's refusal, for `what` (e.g. "conversation 7").
    pub fn denied(d: Denied, what: impl FnOnce() -> String) -> HubError {
        match d {
            Denied::Hidden => HubError::NotFound(what()),
            Denied::Forbidden(why) => HubError::Forbidden(why),
        }
    }
}

impl From<actix::MailboxError> for HubError {
    fn from(_: actix::MailboxError) -> Self {
        HubError::Stopped
    }
}
