//! Reading the audit log: who may read which entries is the access policy's; the filters
//! and the reader's scope both go into the store's SQL.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::access::AuditFilter;
use crate::domain::audit::AuditQuery;
use crate::domain::Viewer;
use crate::store::audit::{self, AuditItem};
use crate::store::sessions;

impl Hub {
    /// Which entries `v` may read (403 for a role that reads no audit log).
    pub fn audit_access(&self, v: &Viewer) -> Result<AuditFilter, HubError> {
        v.audit_log()
            .map_err(|d| HubError::denied(d, || "the audit log".into()))
    }

    /// The id of the session called `name`, for a filter; `None` when no entry of the
    /// reader's can belong to it (no such session, or one outside `access`: the answer
    /// is the same, so it tells nothing of other sessions).
    pub async fn audit_session(
        &self,
        access: &AuditFilter,
        name: &str,
    ) -> Result<Option<i64>, HubError> {
        Ok(sessions::by_name(self.db(), name)
            .await?
            .map(|s| s.id)
            .filter(|id| access.admits(Some(*id))))
    }

    /// The entries `access` admits that match `q`, newest first, below the id `before`.
    pub async fn audit_log(
        &self,
        access: &AuditFilter,
        q: &AuditQuery,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditItem>, HubError> {
        Ok(audit::list(self.db(), access, q, before, limit).await?)
    }
}
