//! Contacts: the people behind person chats, as the team edits them. Every change is
//! written with its audit entry in one writer transaction.

use serde_json::{json, Map, Value};

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::{ChatId, Viewer};
use crate::store::contacts::{self, Contact, ContactPatch};
use crate::store::{audit, sessions};

/// The fields the team edits, as the audit log shows them.
fn editable(c: &Contact) -> Value {
    json!({"chat_id": c.chat_id, "phone": c.phone, "name": c.name, "email": c.email, "notes": c.notes})
}

/// The edited fields that changed, before and after (`None`: nothing changed).
fn changes(before: &Contact, after: &Contact) -> Option<(Value, Value)> {
    let pairs = [
        ("name", &before.name, &after.name),
        ("email", &before.email, &after.email),
        ("notes", &before.notes, &after.notes),
    ];
    let (mut was, mut is) = (Map::new(), Map::new());
    for (field, b, a) in pairs {
        if b != a {
            was.insert(field.into(), json!(b));
            is.insert(field.into(), json!(a));
        }
    }
    (!was.is_empty()).then_some((Value::Object(was), Value::Object(is)))
}

impl Hub {
    pub async fn contact(&self, v: &Viewer, id: i64) -> Result<Contact, HubError> {
        let not_found = || HubError::NotFound(format!("contact {id}"));
        let c = contacts::get(self.db(), id).await?.ok_or_else(not_found)?;
        v.may_see_contact(c.session_id).map_err(|_| not_found())?;
        Ok(c)
    }

    /// A new contact reached through the session called `session`, at `phone` (digits).
    pub async fn create_contact(
        &self,
        v: &Viewer,
        session: &str,
        phone_digits: &str,
        patch: &ContactPatch,
    ) -> Result<Contact, HubError> {
        let unknown = || HubError::Invalid(format!("unknown session {session:?}"));
        let s = sessions::by_name(self.db(), session)
            .await?
            .ok_or_else(unknown)?;
        v.may_write_contacts(s.id)
            .map_err(|d| HubError::denied(d, || format!("session {session:?}")))
            .map_err(|e| match e {
                HubError::NotFound(_) => unknown(),
                e => e,
            })?;
        let chat = ChatId::normalise(&format!("{phone_digits}@c.us"));
        let input = (v.clone(), s.id, chat, patch.clone());
        let c = self
            .services
            .writer
            .run(input, |tx, (v, session_id, chat, patch)| {
                Box::pin(async move {
                    let c = contacts::create(
                        tx,
                        *session_id,
                        chat.as_str(),
                        chat.phone().as_deref(),
                        patch,
                    )
                    .await?;
                    let entry = AuditEntry::new("contact.create", "contact", c.id)
                        .session(c.session_id)
                        .after(editable(&c));
                    audit::record(tx, v, &entry).await?;
                    Ok(c)
                })
            })
            .await?;
        Ok(c)
    }

    pub async fn update_contact(
        &self,
        v: &Viewer,
        id: i64,
        patch: &ContactPatch,
    ) -> Result<Contact, HubError> {
        let c = self.contact(v, id).await?;
        v.may_write_contacts(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        let c = self
            .services
            .writer
            .run((v.clone(), id, patch.clone()), |tx, (v, id, patch)| {
                Box::pin(async move {
                    let (before, after) = contacts::update(tx, *id, patch).await?;
                    if let Some((was, is)) = changes(&before, &after) {
                        let entry = AuditEntry::new("contact.update", "contact", id)
                            .session(after.session_id)
                            .before(was)
                            .after(is);
                        audit::record(tx, v, &entry).await?;
                    }
                    Ok(after)
                })
            })
            .await?;
        Ok(c)
    }

    /// Deletes a contact; its conversations stay, without a contact.
    pub async fn delete_contact(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let c = self.contact(v, id).await?;
        v.may_write_contacts(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        let existed = self
            .services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let c = match contacts::get_in(tx, *id).await {
                        Ok(c) => c,
                        Err(crate::store::StoreError::NotFound) => return Ok(false),
                        Err(e) => return Err(e),
                    };
                    contacts::delete(tx, *id).await?;
                    let entry = AuditEntry::new("contact.delete", "contact", id)
                        .session(c.session_id)
                        .before(editable(&c));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if !existed {
            return Err(HubError::NotFound(format!("contact {id}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            id: 1,
            session_id: 1,
            chat_id: "447700900001@c.us".into(),
            phone: Some("+447700900001".into()),
            name: name.map(str::to_string),
            push_name: None,
            email: email.map(str::to_string),
            notes: None,
            tags: Vec::new(),
            attributes: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn only_changed_fields_are_recorded() {
        let before = contact(Some("Ann"), Some("a@x.test"));
        let after = contact(Some("Anne"), Some("a@x.test"));
        let (was, is) = changes(&before, &after).expect("a change");
        assert_eq!(was, json!({"name": "Ann"}));
        assert_eq!(is, json!({"name": "Anne"}));
        let set = contact(Some("Ann"), None);
        let (was, is) = changes(&set, &before).expect("a change");
        assert_eq!(was, json!({"email": null}));
        assert_eq!(is, json!({"email": "a@x.test"}));
        assert!(changes(&before, &before.clone()).is_none());
    }
}
