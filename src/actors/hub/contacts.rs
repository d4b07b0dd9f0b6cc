//! Contacts: the people behind person chats, as the team keeps them. Every value is
//! checked before the write (a bad one is 422 naming its field, nothing saved); every
//! change is written with its audit entry and a `contact.updated` event in one writer
//! transaction.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::contact::{check_attribute, check_email, check_tag, spend_cents, ConsentState};
use crate::domain::segment_filter::Filter;
use crate::domain::{phone, ChatId, FieldError, Viewer};
use crate::store::contacts::{self, Contact, ContactChange, ContactDetail};
use crate::store::{audit, contact_schema, members, sessions};

/// The most tags one contact holds, and conversations a contact's page lists.
const MAX_TAGS: usize = 50;
const MAX_CONVERSATIONS: i64 = 100;

/// `Some(value)` for a field that is present, even as `null` (`Some(None)`: clear it).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A consent state and where it came from.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConsentInput {
    /// `opted_in` or `opted_out`.
    #[schema(value_type = String, pattern = "^(opted_in|opted_out)$")]
    pub state: String,
    /// Where it was given (`api` when absent): a form, a call, `whatsapp`…
    #[schema(pattern = r"^[^\u0000]{0,64}$")]
    pub source: Option<String>,
}

/// A contact's editable fields: an absent field is kept, `null` clears it.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct ContactInput {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, pattern = r"^[^\u0000]{0,200}$")]
    pub name: Option<Option<String>>,
    /// An email address (checked; `""` or null clears it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, pattern = r"^[^\u0000]*$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, pattern = r"^[^\u0000]{0,10000}$")]
    pub notes: Option<Option<String>>,
    /// One of `GET /api/contact-types` (null clears it).
    #[serde(default, rename = "type", deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, pattern = r"^[^\u0000]*$")]
    pub kind: Option<Option<String>>,
    /// In major units, from 0.
    #[schema(minimum = 0, maximum = 10000000000000.0)]
    pub lifetime_spend: Option<f64>,
    /// A member who may see the contact's session (null: nobody).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub owner_id: Option<Option<i64>>,
    /// The consent state, with its source; null: never asked.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ConsentInput>, nullable)]
    pub consent: Option<Option<ConsentInput>>,
    /// Shorthand for `consent` `{"state": "opted_out"|"opted_in", "source": "api"}`.
    pub opted_out: Option<bool>,
    /// The contact's tags (the whole set; at most 50).
    pub tags: Option<Vec<String>>,
    /// Merged into the attributes; a `null` value removes its key. Declared attributes
    /// (`GET /api/contact-attributes`) must be of their type; others are texts, numbers or
    /// booleans.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
    /// More WhatsApp ids (`…@c.us`, `…@lid`) of this person in the session: a message from
    /// any of them lands on this contact.
    pub wa_ids: Option<Vec<String>>,
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> HubError {
    HubError::Unprocessable(FieldError::new(field, why))
}

/// A text field: no U+0000, at most `max` characters, blank clears.
fn text(
    field: &str,
    v: &Option<Option<String>>,
    max: usize,
) -> Result<Option<Option<String>>, HubError> {
    match v {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) => {
            if s.contains('\0') {
                return Err(invalid(field, "must not contain U+0000"));
            }
            if s.chars().count() > max {
                return Err(invalid(field, format!("at most {max} characters")));
            }
            let t = s.trim();
            Ok(Some((!t.is_empty()).then(|| t.to_string())))
        }
    }
}

/// The fields the team edits, as the audit log shows them.
pub(super) fn editable(c: &Contact) -> Value {
    json!({"chat_id": c.chat_id, "phone": c.phone, "name": c.name, "email": c.email,
        "notes": c.notes, "type": c.kind, "lifetime_spend": c.lifetime_spend,
        "owner_id": c.owner_id, "consent": c.consent, "consent_source": c.consent_source,
        "tags": c.tags, "attributes": c.attributes, "wa_ids": c.wa_ids})
}

/// The edited fields that changed, before and after (`None`: nothing changed).
fn changes(before: &Contact, after: &Contact) -> Option<(Value, Value)> {
    let (Value::Object(b), Value::Object(a)) = (editable(before), editable(after)) else {
        return None;
    };
    let (mut was, mut is) = (Map::new(), Map::new());
    for (field, old) in b {
        let new = a.get(&field).cloned().unwrap_or(Value::Null);
        if old != new {
            was.insert(field.clone(), old);
            is.insert(field, new);
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

    /// The contact with the conversations with that person the viewer may see.
    pub async fn contact_detail(&self, v: &Viewer, id: i64) -> Result<ContactDetail, HubError> {
        let c = self.contact(v, id).await?;
        self.detail(v, c).await
    }

    async fn detail(&self, v: &Viewer, c: Contact) -> Result<ContactDetail, HubError> {
        // No inbox (marketing): the profile without its conversations.
        let conversations = match v.conversations() {
            Ok(f) => contacts::conversations(self.db(), &c, &f, MAX_CONVERSATIONS).await?,
            Err(_) => Vec::new(),
        };
        Ok(ContactDetail {
            contact: c,
            conversations,
        })
    }

    /// The contacts the viewer may see that match `filter` and `q`, newest first.
    pub async fn contacts(
        &self,
        v: &Viewer,
        q: Option<&str>,
        filter: &Filter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Contact>, HubError> {
        let access = v.contacts();
        Ok(contacts::list(self.db(), &access, q, filter, self.now_ms(), before, limit).await?)
    }

    /// Checks `input` for a contact of `session_id` (and the member list, types and
    /// attribute definitions it names); answers the change to write.
    async fn check(
        &self,
        session_id: i64,
        input: &ContactInput,
    ) -> Result<ContactChange, HubError> {
        let mut ch = ContactChange {
            name: text("name", &input.name, 200)?,
            notes: text("notes", &input.notes, 10_000)?,
            ..Default::default()
        };
        ch.email = match text("email", &input.email, 254)? {
            Some(Some(e)) => Some(Some(check_email("email", &e)?)),
            other => other,
        };
        ch.kind = match text("type", &input.kind, 64)? {
            Some(Some(t)) => {
                if !contact_schema::type_exists(self.db(), &t).await? {
                    let known: Vec<String> = contact_schema::types(self.db())
                        .await?
                        .into_iter()
                        .map(|t| t.name)
                        .collect();
                    return Err(invalid(
                        "type",
                        format!("unknown type '{t}' (types: {})", known.join(", ")),
                    ));
                }
                Some(Some(t))
            }
            other => other,
        };
        if let Some(s) = input.lifetime_spend {
            ch.spend_cents = Some(spend_cents("lifetime_spend", s)?);
        }
        ch.owner_id = match input.owner_id {
            Some(Some(id)) => {
                let s = sessions::by_id(self.db(), session_id).await?;
                let ok = match (members::get(self.db(), id).await?, s) {
                    (Some(m), Some(s)) => {
                        m.active
                            && (m.role == crate::domain::Role::Admin
                                || m.sessions.contains(&s.name))
                    }
                    _ => false,
                };
                if !ok {
                    return Err(invalid(
                        "owner_id",
                        format!("{id} is no active member who works in the contact's session"),
                    ));
                }
                Some(Some(id))
            }
            other => other,
        };
        ch.consent = match (&input.consent, input.opted_out) {
            (Some(_), Some(_)) => {
                return Err(invalid("opted_out", "give consent or opted_out, not both"))
            }
            (Some(None), None) => Some(None),
            (Some(Some(c)), None) => {
                let state = ConsentState::parse(&c.state).ok_or_else(|| {
                    invalid(
                        "consent.state",
                        format!("opted_in or opted_out, got {:?}", c.state),
                    )
                })?;
                let source = c.source.as_deref().map(str::trim).unwrap_or("api");
                if source.is_empty() || source.chars().count() > 64 || source.contains('\0') {
                    return Err(invalid("consent.source", "1 to 64 characters"));
                }
                Some(Some((state.as_str().to_string(), source.to_string())))
            }
            (None, Some(out)) => {
                let state = if out {
                    ConsentState::OptedOut
                } else {
                    ConsentState::OptedIn
                };
                Some(Some((state.as_str().to_string(), "api".to_string())))
            }
            (None, None) => None,
        };
        if let Some(tags) = &input.tags {
            if tags.len() > MAX_TAGS {
                return Err(invalid("tags", format!("at most {MAX_TAGS} tags")));
            }
            let mut checked = Vec::with_capacity(tags.len());
            for (i, t) in tags.iter().enumerate() {
                let t = check_tag(&format!("tags[{i}]"), t)?;
                if !checked.contains(&t) {
                    checked.push(t);
                }
            }
            ch.tags = Some(checked);
        }
        if let Some(attrs) = &input.attributes {
            let schema = contact_schema::schema(self.db()).await?;
            for (k, val) in attrs {
                if val.is_null() {
                    crate::domain::contact::check_key(&format!("attributes.{k}"), k)?;
                } else {
                    check_attribute(schema.attributes.get(k), k, val)?;
                }
            }
            ch.attributes = Some(attrs.clone());
        }
        for (i, raw) in input.wa_ids.iter().flatten().enumerate() {
            let id = ChatId::normalise(raw);
            let field = format!("wa_ids[{i}]");
            let (user, server) = id.as_str().split_once('@').unwrap_or(("", ""));
            if user.is_empty()
                || !user.bytes().all(|b| b.is_ascii_digit())
                || !["c.us", "lid"].contains(&server)
            {
                return Err(invalid(
                    field,
                    format!("a WhatsApp id …@c.us or …@lid, got {raw:?}"),
                ));
            }
            ch.wa_ids.push(id.into_string());
        }
        Ok(ch)
    }

    /// A new contact reached through the session called `session`, at `phone`.
    pub async fn create_contact(
        &self,
        v: &Viewer,
        session: &str,
        phone_raw: &str,
        input: &ContactInput,
    ) -> Result<ContactDetail, HubError> {
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
        let e164 = phone::normalise(phone_raw, self.config().phone_region)
            .map_err(|e| invalid("phone", e.to_string()))?;
        let chat = ChatId::normalise(&phone::wa_id(&e164));
        let change = self.check(s.id, input).await?;
        let input = (v.clone(), s.id, chat, e164, change);
        let c = self
            .services
            .writer
            .run(input, |tx, (v, session_id, chat, e164, change)| {
                Box::pin(async move {
                    let c = contacts::create(tx, *session_id, chat.as_str(), Some(e164), change)
                        .await?;
                    let entry = AuditEntry::new("contact.create", "contact", c.id)
                        .session(c.session_id)
                        .after(editable(&c));
                    audit::record(tx, v, &entry).await?;
                    contacts::log_change(tx, c.id, c.session_id, "created").await?;
                    Ok(c)
                })
            })
            .await?;
        self.detail(v, c).await
    }

    pub async fn update_contact(
        &self,
        v: &Viewer,
        id: i64,
        input: &ContactInput,
    ) -> Result<ContactDetail, HubError> {
        let c = self.contact(v, id).await?;
        v.may_write_contacts(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        let change = self.check(c.session_id, input).await?;
        let c = self
            .services
            .writer
            .run((v.clone(), id, change), |tx, (v, id, change)| {
                Box::pin(async move {
                    let (before, after) = contacts::update(tx, *id, change).await?;
                    if let Some((was, is)) = changes(&before, &after) {
                        let entry = AuditEntry::new("contact.update", "contact", id)
                            .session(after.session_id)
                            .before(was)
                            .after(is);
                        audit::record(tx, v, &entry).await?;
                        contacts::log_change(tx, after.id, after.session_id, "updated").await?;
                    }
                    Ok(after)
                })
            })
            .await?;
        self.detail(v, c).await
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
                    contacts::log_change(tx, c.id, c.session_id, "deleted").await?;
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
            session: "default".into(),
            chat_id: "447700900001@c.us".into(),
            wa_ids: vec!["447700900001@c.us".into()],
            phone: Some("+447700900001".into()),
            name: name.map(str::to_string),
            push_name: None,
            email: email.map(str::to_string),
            notes: None,
            kind: None,
            lifetime_spend: 0.0,
            lifetime_spend_cents: 0,
            owner_id: None,
            consent: None,
            consent_source: None,
            consent_at: None,
            erased_at: None,
            opted_out: false,
            tags: Vec::new(),
            attributes: Default::default(),
            last_message_at: None,
            conversation_count: 0,
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
        let mut tagged = before.clone();
        tagged.tags = vec!["vip".into()];
        tagged.kind = Some("lead".into());
        let (was, is) = changes(&before, &tagged).expect("a change");
        assert_eq!(was, json!({"tags": [], "type": null}));
        assert_eq!(is, json!({"tags": ["vip"], "type": "lead"}));
    }
}
