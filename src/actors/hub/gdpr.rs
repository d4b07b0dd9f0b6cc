//! GDPR (issue 17, contract §3c): a contact's export (everything held about the person)
//! and erasure (its personal data removed, its messages redacted wherever they are read).
//! Both are for admins and managers of the contact's session (`access::crm`).

use serde::Serialize;
use serde_json::json;
use tracing::info;
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::erasure::erased_chat_id;
use crate::domain::Viewer;
use crate::store::audit::AuditItem;
use crate::store::contacts::{self, Contact};
use crate::store::conversations::Conversation;
use crate::store::gdpr::{self, ImportMention};
use crate::store::messages::Message;
use crate::store::notes::Note;
use crate::store::{audit, events};

/// A conversation of the contact with all its messages and notes, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedConversation {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
}

/// Everything tickhub holds about a contact (`GET /api/contacts/{id}/export`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactExport {
    /// When the export was made (milliseconds since the Unix epoch).
    pub exported_at: i64,
    /// The profile: fields, tags, attributes, consent, WhatsApp ids.
    pub contact: Contact,
    /// Its conversations (every session's conversation with it), each with every message
    /// and note.
    pub conversations: Vec<ExportedConversation>,
    /// The audit log's entries about the contact, oldest first.
    pub audit: Vec<AuditItem>,
    /// Stored CSV import rows that name the contact's number or email.
    pub imports: Vec<ImportMention>,
    /// The campaigns that planned to reach the contact: `campaign_id`, `campaign` (its
    /// name), `state`, `reason`, `queued_at`, `sent_at`.
    #[schema(value_type = Vec<Object>)]
    pub campaigns: Vec<crate::store::campaign_recipients::ContactCampaign>,
}

/// What an erasure did (`POST /api/contacts/{id}/erase`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedContact {
    pub id: i64,
    /// When the contact was erased (milliseconds since the Unix epoch).
    pub erased_at: i64,
    /// The conversations whose messages were redacted.
    pub conversations: usize,
    /// The event log's frames rewritten without the personal data.
    pub events_rewritten: u64,
}

/// How often the contact step finds a conversation that opened while the others were
/// being erased before it gives up (each round erases those found).
const ROUNDS: usize = 3;

impl Hub {
    /// A contact the viewer may export or erase: 404 when it may not see it, 403 when it
    /// sees it but may not.
    async fn gdpr_contact(&self, v: &Viewer, id: i64) -> Result<Contact, HubError> {
        let c = self.contact(v, id).await?;
        v.may_export_or_erase_contact(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        Ok(c)
    }

    #[tracing::instrument(skip(self, v), fields(user = v.user_id))]
    pub async fn export_contact(&self, v: &Viewer, id: i64) -> Result<ContactExport, HubError> {
        let c = self.gdpr_contact(v, id).await?;
        let db = self.db();
        let mut conversations = Vec::new();
        for conv in gdpr::conversations_of(db, c.id, c.session_id, &c.wa_ids).await? {
            let messages = gdpr::messages_of(db, conv.id).await?;
            let notes = gdpr::notes_of(db, conv.id).await?;
            conversations.push(ExportedConversation {
                conversation: conv,
                messages,
                notes,
            });
        }
        let audit = gdpr::audit_of(db, c.id).await?;
        let imports =
            gdpr::import_mentions(db, c.session_id, c.phone.as_deref(), c.email.as_deref()).await?;
        let campaigns = crate::store::campaign_recipients::of_contact(db, c.id).await?;
        let export = ContactExport {
            exported_at: self.now_ms(),
            contact: c,
            conversations,
            audit,
            imports,
            campaigns,
        };
        // The export itself is audited (who took a copy of whose data), without the data.
        let n = export.conversations.len();
        self.services
            .writer
            .run(
                (v.clone(), id, export.contact.session_id, n),
                |tx, (v, id, sid, n)| {
                    Box::pin(async move {
                        let entry = AuditEntry::new("contact.export", "contact", id)
                            .session(*sid)
                            .after(json!({"conversations": n}));
                        audit::record(tx, v, &entry).await
                    })
                },
            )
            .await?;
        Ok(export)
    }

    /// Erases the contact: each of its conversations in its own turn (messages, notes,
    /// previews, chat ids, stored frames), then the contact itself with its audit entry.
    /// Asking again finishes an erasure that stopped part-way, and is harmless after one
    /// that finished.
    #[tracing::instrument(skip(self, v), fields(user = v.user_id))]
    pub async fn erase_contact(&self, v: &Viewer, id: i64) -> Result<ErasedContact, HubError> {
        let c = self.gdpr_contact(v, id).await?;
        let (mut erased, mut rewritten) = (0usize, 0u64);
        for round in 0..ROUNDS {
            let todo: Vec<Conversation> =
                gdpr::conversations_of(self.db(), c.id, c.session_id, &c.wa_ids)
                    .await?
                    .into_iter()
                    .filter(|conv| !conv.chat_id.starts_with("erased-"))
                    .collect();
            for conv in &todo {
                let input = (conv.id, erased_chat_id(conv.id));
                rewritten += self
                    .registry()
                    .erase_in_conversation(conv, input, |tx, (id, chat)| {
                        Box::pin(async move {
                            let n = gdpr::erase_conversation(tx, *id, chat).await?;
                            events::log_conversation(tx, *id).await?;
                            Ok(n)
                        })
                    })
                    .await?;
                erased += 1;
            }
            let input = (v.clone(), c.clone(), erased);
            let left = self
                .services
                .writer
                .run(input, |tx, (v, c, erased)| {
                    Box::pin(async move {
                        let left = gdpr::unerased_conversations(tx, c.id).await?;
                        if !left.is_empty() {
                            return Ok(left);
                        }
                        // Erased before, and nothing new since: nothing to do or record.
                        if c.erased_at.is_some() && *erased == 0 {
                            return Ok(left);
                        }
                        gdpr::erase_contact(
                            tx,
                            c.id,
                            c.session_id,
                            &c.wa_ids,
                            c.phone.as_deref(),
                            c.email.as_deref(),
                        )
                        .await?;
                        // What was erased is not repeated here: only how much.
                        let entry = AuditEntry::new("contact.erase", "contact", c.id)
                            .session(c.session_id)
                            .after(json!({"conversations": erased}));
                        audit::record(tx, v, &entry).await?;
                        contacts::log_change(tx, c.id, c.session_id, "erased").await?;
                        Ok(left)
                    })
                })
                .await?;
            if left.is_empty() {
                let erased_at = gdpr::erased_at(self.db(), c.id)
                    .await?
                    .unwrap_or_else(|| self.now_ms());
                info!(contact = c.id, conversations = erased, "contact erased");
                return Ok(ErasedContact {
                    id: c.id,
                    erased_at,
                    conversations: erased,
                    events_rewritten: rewritten,
                });
            }
            info!(
                contact = c.id,
                round,
                left = left.len(),
                "a conversation opened during the erasure; erasing it too"
            );
        }
        Err(HubError::Conflict(format!(
            "contact {id}: new conversations kept opening during the erasure; ask again"
        )))
    }
}
