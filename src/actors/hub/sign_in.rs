//! Logins and logouts as the audit log sees them: a token is stored or revoked in the same
//! transaction as its entry, and a failed login leaves an entry of its own (with the email
//! that was tried, never the password).

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::{AuditEntry, Origin};
use crate::domain::Viewer;
use crate::store::audit;
use crate::store::tokens;
use crate::store::users::User;

impl Hub {
    /// Stores `token` for `user` (valid until `expires_at`, ms) with its `auth.login` entry.
    pub async fn record_login(
        &self,
        user: &User,
        token: String,
        expires_at: i64,
        origin: Origin,
    ) -> Result<(), HubError> {
        self.services
            .writer
            .run(
                (user.id, token, expires_at, origin),
                |tx, (id, token, expires_at, origin)| {
                    Box::pin(async move {
                        tokens::store_in(tx, token, *id, *expires_at).await?;
                        let entry = AuditEntry::new("auth.login", "member", id);
                        audit::record_as(tx, Some(*id), origin, &entry).await
                    })
                },
            )
            .await?;
        Ok(())
    }

    /// A login that was refused: recorded with no actor, the email tried in `after`, and
    /// the member it names when there is one.
    pub async fn record_login_failed(
        &self,
        email: &str,
        member: Option<i64>,
        origin: Origin,
    ) -> Result<(), HubError> {
        let entry = AuditEntry {
            action: "auth.login_failed",
            target_type: "member",
            target_id: member.map(|id| id.to_string()),
            // An email has at most 254 characters; a longer "email" is kept only that far,
            // so failed logins cannot fill the log with large bodies.
            after: Some(json!({ "email": email.chars().take(254).collect::<String>() })),
            ..Default::default()
        };
        self.services
            .writer
            .run((entry, origin), |tx, (entry, origin)| {
                Box::pin(audit::record_as(tx, None, origin, entry))
            })
            .await?;
        Ok(())
    }

    /// Revokes the token `v` logged out with, with its `auth.logout` entry.
    pub async fn record_logout(&self, v: &Viewer, token: String) -> Result<(), HubError> {
        self.services
            .writer
            .run((v.clone(), token), |tx, (v, token)| {
                Box::pin(async move {
                    if tokens::revoke_in(tx, token).await? {
                        let entry = AuditEntry::new("auth.logout", "member", v.user_id);
                        audit::record(tx, v, &entry).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }
}
