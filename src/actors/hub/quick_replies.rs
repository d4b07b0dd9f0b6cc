//! Quick replies: read by everyone with an inbox, written by admins and managers. Each
//! change is written with its audit entry in one writer transaction.

use serde_json::{json, Map, Value};

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::quick_reply::{check_shortcut, check_text};
use crate::domain::{FieldError, Viewer};
use crate::store::audit;
use crate::store::quick_replies::{self, QuickReply, Saved};
use crate::store::StoreError;

fn not_found(id: i64) -> HubError {
    HubError::NotFound(format!("quick reply {id}"))
}

fn denied(d: crate::domain::Denied) -> HubError {
    HubError::denied(d, || "quick replies".into())
}

fn taken(shortcut: &str) -> HubError {
    HubError::ConflictOn(FieldError::new(
        "shortcut",
        format!("{shortcut:?} is taken"),
    ))
}

/// A unique violation can still happen when two PostgreSQL writers race for one shortcut
/// past the check: the same 409.
fn raced(shortcut: Option<&str>) -> impl FnOnce(StoreError) -> HubError + '_ {
    move |e| match (e, shortcut) {
        (StoreError::Conflict(_), Some(s)) => taken(s),
        (e, _) => e.into(),
    }
}

fn settle(id: i64, saved: Saved) -> Result<QuickReply, HubError> {
    match saved {
        Saved::Done(r) => Ok(r),
        Saved::Taken(s) => Err(taken(&s)),
        Saved::Missing => Err(not_found(id)),
    }
}

/// A change to a quick reply: `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct QuickReplyPatch {
    pub shortcut: Option<String>,
    pub text: Option<String>,
}

/// The fields that changed, before and after (`None`: nothing did).
fn changes(before: &QuickReply, after: &QuickReply) -> Option<(Value, Value)> {
    let (mut was, mut is) = (Map::new(), Map::new());
    for (field, b, a) in [
        ("shortcut", &before.shortcut, &after.shortcut),
        ("text", &before.text, &after.text),
    ] {
        if b != a {
            was.insert(field.into(), json!(b));
            is.insert(field.into(), json!(a));
        }
    }
    (!was.is_empty()).then_some((Value::Object(was), Value::Object(is)))
}

impl Hub {
    pub async fn quick_replies(
        &self,
        v: &Viewer,
        q: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<QuickReply>, HubError> {
        v.may_read_quick_replies().map_err(denied)?;
        Ok(quick_replies::list(self.db(), q, after, limit).await?)
    }

    pub async fn quick_reply(&self, v: &Viewer, id: i64) -> Result<QuickReply, HubError> {
        v.may_read_quick_replies().map_err(denied)?;
        quick_replies::get(self.db(), id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn create_quick_reply(
        &self,
        v: &Viewer,
        shortcut: String,
        text: String,
    ) -> Result<QuickReply, HubError> {
        v.may_write_quick_replies().map_err(denied)?;
        check_shortcut(&shortcut)?;
        check_text(&text)?;
        let saved = self
            .services
            .writer
            .run(
                (v.clone(), shortcut.clone(), text),
                |tx, (v, shortcut, text)| {
                    Box::pin(async move {
                        let saved = quick_replies::insert(tx, shortcut, text, v.user_id).await?;
                        if let Saved::Done(r) = &saved {
                            let entry = AuditEntry::new("quick_reply.create", "quick_reply", r.id)
                                .after(json!({"shortcut": r.shortcut, "text": r.text}));
                            audit::record(tx, v, &entry).await?;
                        }
                        Ok(saved)
                    })
                },
            )
            .await
            .map_err(raced(Some(&shortcut)))?;
        settle(0, saved)
    }

    pub async fn update_quick_reply(
        &self,
        v: &Viewer,
        id: i64,
        patch: QuickReplyPatch,
    ) -> Result<QuickReply, HubError> {
        v.may_write_quick_replies().map_err(denied)?;
        if let Some(s) = &patch.shortcut {
            check_shortcut(s)?;
        }
        if let Some(t) = &patch.text {
            check_text(t)?;
        }
        let shortcut = patch.shortcut.clone();
        let saved = self
            .services
            .writer
            .run((v.clone(), id, patch), |tx, (v, id, p)| {
                Box::pin(async move {
                    let Some(before) = quick_replies::get_in(tx, *id).await? else {
                        return Ok(Saved::Missing);
                    };
                    let saved =
                        quick_replies::update(tx, *id, p.shortcut.as_deref(), p.text.as_deref())
                            .await?;
                    if let Saved::Done(after) = &saved {
                        if let Some((was, is)) = changes(&before, after) {
                            let entry = AuditEntry::new("quick_reply.update", "quick_reply", id)
                                .before(was)
                                .after(is);
                            audit::record(tx, v, &entry).await?;
                        }
                    }
                    Ok(saved)
                })
            })
            .await
            .map_err(raced(shortcut.as_deref()))?;
        settle(id, saved)
    }

    pub async fn delete_quick_reply(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        v.may_write_quick_replies().map_err(denied)?;
        let deleted = self
            .services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let Some(r) = quick_replies::delete(tx, *id).await? else {
                        return Ok(false);
                    };
                    let entry = AuditEntry::new("quick_reply.delete", "quick_reply", id)
                        .before(json!({"shortcut": r.shortcut, "text": r.text}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(shortcut: &str, text: &str) -> QuickReply {
        QuickReply {
            id: 1,
            shortcut: shortcut.into(),
            text: text.into(),
            created_by: Some(1),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn only_changed_fields_are_recorded() {
        let before = reply("thanks", "Thank you!");
        let (was, is) = changes(&before, &reply("thanks", "Thanks!")).expect("a change");
        assert_eq!(was, json!({"text": "Thank you!"}));
        assert_eq!(is, json!({"text": "Thanks!"}));
        let (was, is) = changes(&before, &reply("ty", "Thank you!")).expect("a change");
        assert_eq!(
            (was, is),
            (json!({"shortcut": "thanks"}), json!({"shortcut": "ty"}))
        );
        assert!(changes(&before, &before.clone()).is_none());
    }
}
