//! Contact types and attribute definitions: read by everyone who reads contacts, changed
//! by admins and managers, each change with its audit entry.

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::contact::{check_key, AttrType};
use crate::domain::{FieldError, Viewer};
use crate::store::audit;
use crate::store::contact_schema::{self, AttributeDef, ContactType};

fn denied(d: crate::domain::Denied) -> HubError {
    HubError::denied(d, || "contact types and attributes".into())
}

fn check_label(label: &str) -> Result<String, HubError> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > 100 || l.contains('\0') {
        return Err(FieldError::new("label", "1 to 100 characters without U+0000").into());
    }
    Ok(l.to_string())
}

/// A choice attribute's values: 1 to 100 distinct texts of 1 to 100 characters.
fn check_choices(kind: AttrType, choices: &[String]) -> Result<Vec<String>, HubError> {
    if kind != AttrType::Choice {
        if !choices.is_empty() {
            return Err(FieldError::new("choices", "only a choice attribute has choices").into());
        }
        return Ok(Vec::new());
    }
    if choices.is_empty() || choices.len() > 100 {
        return Err(FieldError::new("choices", "a choice attribute has 1 to 100 choices").into());
    }
    let mut out: Vec<String> = Vec::with_capacity(choices.len());
    for (i, c) in choices.iter().enumerate() {
        let c = c.trim();
        if c.is_empty() || c.chars().count() > 100 || c.contains('\0') || out.iter().any(|o| o == c)
        {
            return Err(FieldError::new(
                format!("choices[{i}]"),
                "a distinct text of 1 to 100 characters",
            )
            .into());
        }
        out.push(c.to_string());
    }
    Ok(out)
}

impl Hub {
    pub async fn contact_types(&self, v: &Viewer) -> Result<Vec<ContactType>, HubError> {
        v.may_read_contact_schema().map_err(denied)?;
        Ok(contact_schema::types(self.db()).await?)
    }

    pub async fn create_contact_type(
        &self,
        v: &Viewer,
        name: &str,
        label: Option<&str>,
        position: Option<i64>,
    ) -> Result<ContactType, HubError> {
        v.may_manage_contact_schema().map_err(denied)?;
        check_key("name", name)?;
        let t = ContactType {
            name: name.to_string(),
            label: check_label(label.unwrap_or(name))?,
            position: position.unwrap_or(100),
        };
        let created = self
            .services
            .writer
            .run((v.clone(), t.clone()), |tx, (v, t)| {
                Box::pin(async move {
                    if !contact_schema::insert_type(tx, t).await? {
                        return Ok(false);
                    }
                    let entry = AuditEntry::new("contact_type.create", "contact_type", &t.name)
                        .after(json!({"name": t.name, "label": t.label, "position": t.position}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if !created {
            return Err(HubError::ConflictOn(FieldError::new(
                "name",
                format!("a type {name:?} exists"),
            )));
        }
        Ok(t)
    }

    /// Removes a type no contact has (409 while contacts have it).
    pub async fn delete_contact_type(&self, v: &Viewer, name: &str) -> Result<(), HubError> {
        v.may_manage_contact_schema().map_err(denied)?;
        let outcome = self
            .services
            .writer
            .run((v.clone(), name.to_string()), |tx, (v, name)| {
                Box::pin(async move {
                    let uses = contact_schema::type_uses_in(tx, name).await?;
                    if uses > 0 {
                        return Ok(Err(uses));
                    }
                    if !contact_schema::delete_type(tx, name).await? {
                        return Ok(Ok(false));
                    }
                    let entry = AuditEntry::new("contact_type.delete", "contact_type", name)
                        .before(json!({"name": name}));
                    audit::record(tx, v, &entry).await?;
                    Ok(Ok(true))
                })
            })
            .await?;
        match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(HubError::NotFound(format!("contact type {name:?}"))),
            Err(n) => Err(HubError::Conflict(format!(
                "{n} contacts have the type {name:?}: change theirs first"
            ))),
        }
    }

    pub async fn contact_attributes(&self, v: &Viewer) -> Result<Vec<AttributeDef>, HubError> {
        v.may_read_contact_schema().map_err(denied)?;
        Ok(contact_schema::attributes(self.db()).await?)
    }

    pub async fn create_contact_attribute(
        &self,
        v: &Viewer,
        name: &str,
        label: Option<&str>,
        kind: &str,
        choices: &[String],
    ) -> Result<AttributeDef, HubError> {
        v.may_manage_contact_schema().map_err(denied)?;
        check_key("name", name)?;
        let kind = AttrType::parse(kind).ok_or_else(|| {
            FieldError::new(
                "type",
                format!("text, number, date, boolean or choice, got {kind:?}"),
            )
        })?;
        let d = AttributeDef {
            name: name.to_string(),
            label: check_label(label.unwrap_or(name))?,
            kind,
            choices: check_choices(kind, choices)?,
            created_at: self.now_ms(),
        };
        let created = self
            .services
            .writer
            .run((v.clone(), d.clone()), |tx, (v, d)| {
                Box::pin(async move {
                    if !contact_schema::insert_attribute(tx, d).await? {
                        return Ok(false);
                    }
                    let entry = AuditEntry::new("contact_attribute.create", "contact_attribute", &d.name)
                        .after(json!({"name": d.name, "label": d.label, "type": d.kind, "choices": d.choices}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if !created {
            return Err(HubError::ConflictOn(FieldError::new(
                "name",
                format!("an attribute {name:?} is declared"),
            )));
        }
        Ok(d)
    }

    /// A new label or list of choices (the type stays).
    pub async fn update_contact_attribute(
        &self,
        v: &Viewer,
        name: &str,
        label: Option<&str>,
        choices: Option<&[String]>,
    ) -> Result<AttributeDef, HubError> {
        v.may_manage_contact_schema().map_err(denied)?;
        let mut d = contact_schema::attribute(self.db(), name)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("contact attribute {name:?}")))?;
        let before = d.clone();
        if let Some(l) = label {
            d.label = check_label(l)?;
        }
        if let Some(c) = choices {
            d.choices = check_choices(d.kind, c)?;
        }
        let found = self
            .services
            .writer
            .run((v.clone(), before, d.clone()), |tx, (v, before, d)| {
                Box::pin(async move {
                    if !contact_schema::update_attribute(tx, d).await? {
                        return Ok(false);
                    }
                    if before != d {
                        let entry = AuditEntry::new(
                            "contact_attribute.update",
                            "contact_attribute",
                            &d.name,
                        )
                        .before(json!({"label": before.label, "choices": before.choices}))
                        .after(json!({"label": d.label, "choices": d.choices}));
                        audit::record(tx, v, &entry).await?;
                    }
                    Ok(true)
                })
            })
            .await?;
        if !found {
            return Err(HubError::NotFound(format!("contact attribute {name:?}")));
        }
        Ok(d)
    }

    /// Forgets a declaration; contacts keep their values (as undeclared attributes).
    pub async fn delete_contact_attribute(&self, v: &Viewer, name: &str) -> Result<(), HubError> {
        v.may_manage_contact_schema().map_err(denied)?;
        let found = self
            .services
            .writer
            .run((v.clone(), name.to_string()), |tx, (v, name)| {
                Box::pin(async move {
                    if !contact_schema::delete_attribute(tx, name).await? {
                        return Ok(false);
                    }
                    let entry =
                        AuditEntry::new("contact_attribute.delete", "contact_attribute", name)
                            .before(json!({"name": name}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if !found {
            return Err(HubError::NotFound(format!("contact attribute {name:?}")));
        }
        Ok(())
    }
}
