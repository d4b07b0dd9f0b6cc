//! Duplicate contacts: suggestions, and merging one contact into another. Both contacts
//! must be in sessions the caller may write contacts of.

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::Viewer;
use crate::store::audit;
use crate::store::contact_merge::{self, DuplicateGroup};
use crate::store::contacts::{self, ContactDetail};

/// The most duplicate groups one answer lists.
const MAX_GROUPS: i64 = 200;

impl Hub {
    /// Groups of contacts the viewer sees that look like one person (same number in any
    /// format or session, same email in any case).
    pub async fn duplicate_contacts(&self, v: &Viewer) -> Result<Vec<DuplicateGroup>, HubError> {
        Ok(contact_merge::duplicates(self.db(), &v.contacts(), MAX_GROUPS).await?)
    }

    /// Merges contact `from` into `id` (kept) and answers the kept contact.
    #[tracing::instrument(skip(self, v), fields(user = v.user_id))]
    pub async fn merge_contacts(
        &self,
        v: &Viewer,
        id: i64,
        from: i64,
    ) -> Result<ContactDetail, HubError> {
        for cid in [id, from] {
            let c = self.contact(v, cid).await?;
            v.may_write_contacts(c.session_id)
                .map_err(|d| HubError::denied(d, || format!("contact {cid}")))?;
        }
        if id == from {
            return Err(HubError::Conflict(
                "a contact cannot be merged into itself".into(),
            ));
        }
        let kept = self
            .services
            .writer
            .run((v.clone(), id, from), |tx, (v, id, from)| {
                Box::pin(async move {
                    let (before, gone, after) = contact_merge::merge(tx, *id, *from).await?;
                    let entry = AuditEntry::new("contact.merge", "contact", id)
                        .session(after.session_id)
                        .before(json!({"kept": super::contacts::editable(&before),
                            "merged": {"id": gone.id, "session_id": gone.session_id,
                                "fields": super::contacts::editable(&gone)}}))
                        .after(super::contacts::editable(&after));
                    audit::record(tx, v, &entry).await?;
                    contacts::log_change(tx, gone.id, gone.session_id, "deleted").await?;
                    contacts::log_change(tx, after.id, after.session_id, "updated").await?;
                    Ok(after)
                })
            })
            .await?;
        self.contact_detail(v, kept.id).await
    }
}
