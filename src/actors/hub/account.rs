//! What a member does to their own account: changing their password. (Supervisors' resets
//! and deactivations are in `team`.)

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::{password, FieldError, Viewer};
use crate::store::{audit, members, tokens, users};

impl Hub {
    /// Changes the member's own password after checking `current`; every other token of
    /// the member is revoked (`keep_token`, the one asking, keeps working) and their
    /// sockets are closed, so a session someone else holds ends now. Returns how many
    /// tokens were revoked.
    pub async fn change_own_password(
        &self,
        v: &Viewer,
        keep_token: &str,
        current: String,
        new: String,
    ) -> Result<u64, HubError> {
        let (email, hash) = users::password_of(self.db(), v.user_id)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("member {}", v.user_id)))?;
        let same = current == new;
        if !crate::credentials::verify_async(current, Some(hash)).await? {
            return Err(HubError::Forbidden(
                "current_password is not this member's password",
            ));
        }
        password::check(&new, &email).map_err(|e| FieldError::new("new_password", e))?;
        if same {
            return Err(
                FieldError::new("new_password", "must differ from the current password").into(),
            );
        }
        let hash = crate::credentials::hash_async(new).await?;
        let revoked = self
            .services
            .writer
            .run(
                (v.clone(), hash, keep_token.to_string()),
                |tx, (v, hash, keep)| {
                    Box::pin(async move {
                        members::set_password(tx, v.user_id, hash).await?;
                        let n = tokens::revoke_all_in(tx, v.user_id, Some(keep)).await?;
                        audit::record(
                            tx,
                            v,
                            &AuditEntry::new("member.change_password", "member", v.user_id)
                                .after(json!({"tokens_revoked": n})),
                        )
                        .await?;
                        Ok(n)
                    })
                },
            )
            .await?;
        if revoked > 0 {
            self.bus()
                .disconnect_user(v.user_id, "your password changed: reconnect");
        }
        Ok(revoked)
    }
}
