//! Saved message templates (docs/templates.md): campaign material, checked with the bot
//! template engine so that a body a campaign could not render is refused when saved. Each
//! change is written with its audit entry and a `template.updated` event.

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::bot::parse_template;
use crate::domain::{EventKind, EventScope, FieldError, Viewer};
use crate::store::templates::{self, MessageTemplate};
use crate::store::{audit, events};

fn denied(d: crate::domain::Denied) -> HubError {
    HubError::denied(d, || "templates".into())
}

fn not_found(id: i64) -> HubError {
    HubError::NotFound(format!("template {id}"))
}

fn check_name(name: &str) -> Result<String, HubError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.contains('\0') {
        return Err(FieldError::new("name", "1 to 200 characters without U+0000").into());
    }
    Ok(n.to_string())
}

/// The body as it will be sent: kept as written, refused (naming `body`) when the engine
/// cannot read it.
fn check_body(body: &str) -> Result<(), HubError> {
    if body.contains('\0') {
        return Err(FieldError::new("body", "contains U+0000").into());
    }
    parse_template("body", body)?;
    Ok(())
}

async fn log(tx: &mut crate::store::Tx, id: i64, change: &str) -> crate::store::Result<()> {
    events::append(
        tx,
        EventKind::TemplateUpdated,
        EventScope::default(),
        &json!({"id": id, "change": change}),
    )
    .await
}

fn audited(t: &MessageTemplate) -> serde_json::Value {
    json!({"name": t.name, "body": t.body})
}

impl Hub {
    pub async fn templates(
        &self,
        v: &Viewer,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageTemplate>, HubError> {
        v.may_read_templates().map_err(denied)?;
        Ok(templates::list(self.db(), after, limit).await?)
    }

    pub async fn template(&self, v: &Viewer, id: i64) -> Result<MessageTemplate, HubError> {
        v.may_read_templates().map_err(denied)?;
        templates::get(self.db(), id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn create_template(
        &self,
        v: &Viewer,
        name: &str,
        body: &str,
    ) -> Result<MessageTemplate, HubError> {
        v.may_write_templates().map_err(denied)?;
        let name = check_name(name)?;
        check_body(body)?;
        let input = (v.clone(), name, body.to_owned());
        Ok(self
            .services
            .writer
            .run(input, |tx, (v, name, body)| {
                Box::pin(async move {
                    let t = templates::insert(tx, name, body, v.user_id).await?;
                    let entry =
                        AuditEntry::new("template.create", "template", t.id).after(audited(&t));
                    audit::record(tx, v, &entry).await?;
                    log(tx, t.id, "created").await?;
                    Ok(t)
                })
            })
            .await?)
    }

    pub async fn update_template(
        &self,
        v: &Viewer,
        id: i64,
        name: Option<&str>,
        body: Option<&str>,
    ) -> Result<MessageTemplate, HubError> {
        v.may_write_templates().map_err(denied)?;
        let name = name.map(check_name).transpose()?;
        body.map(check_body).transpose()?;
        let input = (v.clone(), id, name, body.map(str::to_owned));
        self.services
            .writer
            .run(input, |tx, (v, id, name, body)| {
                Box::pin(async move {
                    let Some((before, after)) =
                        templates::update(tx, *id, name.as_deref(), body.as_deref()).await?
                    else {
                        return Ok(None);
                    };
                    if before.name != after.name || before.body != after.body {
                        let entry = AuditEntry::new("template.update", "template", id)
                            .before(audited(&before))
                            .after(audited(&after));
                        audit::record(tx, v, &entry).await?;
                        log(tx, *id, "updated").await?;
                    }
                    Ok(Some(after))
                })
            })
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn delete_template(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        v.may_write_templates().map_err(denied)?;
        self.services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let Some(before) = templates::delete(tx, *id).await? else {
                        return Ok(None);
                    };
                    let entry =
                        AuditEntry::new("template.delete", "template", id).before(audited(&before));
                    audit::record(tx, v, &entry).await?;
                    log(tx, *id, "deleted").await?;
                    Ok(Some(()))
                })
            })
            .await?
            .ok_or_else(|| not_found(id))
    }
}
