//! A campaign's audience as an uploaded list (docs/campaigns.md): the CSV is read by the
//! contact import's own rules (`audience_list::parse_list`), its numbers become or update
//! contacts of the campaign's sessions (new numbers spread evenly over them), and those
//! contacts, each once, become the audience of the draft or scheduled campaign.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::campaigns::{recorded, CampaignView, MAX_CONTACT_IDS};
use super::Hub;
use crate::actors::error::HubError;
use crate::domain::campaign::CampaignStatus;
use crate::domain::{FieldError, Viewer};
use crate::store::campaign_recipients::{self, AudienceCount};
use crate::store::campaigns::{self, Audience, CampaignRow};
use crate::store::imports::{RowError, ERRORS_SHOWN};

/// What an uploaded list did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadedAudience {
    /// Records read (the header not counted).
    pub rows: i64,
    /// The contacts the list names, each once: the campaign's audience now.
    pub contacts: i64,
    /// Of those, the contacts the list made (its other numbers were contacts already).
    pub created: i64,
    /// Rows repeating a number met earlier in the file (one contact, one message).
    pub duplicates: i64,
    /// Rows left out, each with its line (the header is line 1), column and why (the
    /// first 1000; `errors_total` counts them all).
    pub errors: Vec<RowError>,
    pub errors_total: i64,
    /// The audience as starting now would plan it: who may be messaged, and why the
    /// others may not (opted out, erased, sharing a number).
    pub audience: AudienceCount,
    pub campaign: CampaignView,
}

fn status_refusal(id: i64, status: CampaignStatus) -> HubError {
    HubError::Conflict(format!(
        "campaign {id} is {status}: only a draft or scheduled campaign's audience can be uploaded"
    ))
}

impl Hub {
    /// Whether the viewer may upload a list as the campaign's audience now (asked before
    /// the body is read, and again with it).
    pub async fn audience_upload_allowed(
        &self,
        v: &Viewer,
        id: i64,
    ) -> Result<CampaignRow, HubError> {
        let row = self.campaign_row(v, id).await?;
        v.may_upload_audience_in(&row.settings().sessions)
            .map_err(|d| HubError::denied(d, || format!("campaign {id}")))?;
        if !matches!(
            row.status,
            CampaignStatus::Draft | CampaignStatus::Scheduled
        ) {
            return Err(status_refusal(id, row.status));
        }
        Ok(row)
    }

    /// Makes the list (`header` and its chunks of whole records) the audience of a draft
    /// or scheduled campaign.
    pub async fn upload_campaign_audience(
        &self,
        v: &Viewer,
        id: i64,
        header: &[String],
        chunks: &[(i64, String)],
    ) -> Result<UploadedAudience, HubError> {
        let row = self.audience_upload_allowed(v, id).await?;
        let list = self.parse_list(header, chunks).await?;
        if list.numbers == 0 {
            let first = list
                .errors
                .first()
                .map(|e| format!(" (line {}: {}: {})", e.line, e.field, e.reason))
                .unwrap_or_default();
            return Err(
                FieldError::new("body", format!("no row holds a usable number{first}")).into(),
            );
        }
        if list.numbers > MAX_CONTACT_IDS as i64 {
            return Err(FieldError::new(
                "body",
                format!(
                    "at most {MAX_CONTACT_IDS} numbers, the list has {}",
                    list.numbers
                ),
            )
            .into());
        }
        let (rows, duplicates, errors_total) = (list.rows, list.duplicates, list.errors.len());
        let mut errors = list.errors.clone();
        errors.truncate(ERRORS_SHOWN as usize);
        let applied = self.apply_list(&row.settings().sessions, list).await?;
        let audience = Audience::Contacts({
            let mut ids = applied.contact_ids.clone();
            ids.sort_unstable();
            ids
        });
        let counts = json!({"rows": rows, "contacts": applied.contact_ids.len(),
            "created": applied.created, "duplicates": duplicates, "errors": errors_total});
        let saved = self
            .services
            .writer
            .run(
                (v.clone(), id, audience.clone(), counts),
                |tx, (v, id, audience, counts)| {
                    Box::pin(async move {
                        if !campaigns::set_audience(tx, *id, audience).await? {
                            return Ok(None);
                        }
                        let after = Some(counts.clone());
                        Ok(Some(
                            recorded(tx, v, "campaign.audience", *id, after).await?,
                        ))
                    })
                },
            )
            .await?;
        // Started meanwhile: the contacts stay, the audience it started with too.
        let Some(row) = saved else {
            let now = self.campaign_row(v, id).await?;
            return Err(status_refusal(id, now.status));
        };
        let count = campaign_recipients::count_audience(
            self.db(),
            &row.settings().sessions,
            &audience,
            None,
            self.now_ms(),
        )
        .await?;
        Ok(UploadedAudience {
            rows,
            contacts: applied.contact_ids.len() as i64,
            created: applied.created,
            duplicates,
            errors,
            errors_total: errors_total as i64,
            audience: count,
            campaign: self.campaign_view(row).await?,
        })
    }
}
