//! Outbound webhooks, the rules without I/O: which event types a subscription may ask
//! for, which of them an event of the log becomes, how a delivery is signed, and how long
//! a failed one waits before the next attempt (docs/integrations.md).

use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::status::text_enum;
use super::{EventKind, FieldError};

text_enum! {
    /// What a subscription may ask for.
    HookEvent {
        MessageCreated => "message.created",
        MessageUpdated => "message.updated",
        ConversationUpdated => "conversation.updated",
        ConversationAssigned => "conversation.assigned",
        /// A conversation that became resolved: once per resolve, not on every later
        /// update of a resolved conversation.
        ConversationResolved => "conversation.resolved",
        ContactCreated => "contact.created",
        ContactUpdated => "contact.updated",
        ContactDeleted => "contact.deleted",
        /// A campaign that reached `completed` or `cancelled`: once.
        CampaignFinished => "campaign.finished",
    }
}

/// The most event types a subscription lists (each at most once).
pub const MAX_EVENTS: usize = 32;
/// The longest URL accepted.
pub const MAX_URL: usize = 2048;
/// Secrets are between these lengths.
pub const SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=256;

/// The event types of a subscription, checked: known, not empty, no repeats.
pub fn parse_events(names: &[String]) -> Result<Vec<HookEvent>, FieldError> {
    if names.is_empty() {
        return Err(FieldError::new("events", "name at least one event type"));
    }
    if names.len() > MAX_EVENTS {
        return Err(FieldError::new(
            "events",
            format!("at most {MAX_EVENTS} event types"),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        let e = HookEvent::parse(n).ok_or_else(|| {
            let known: Vec<&str> = HookEvent::ALL.iter().map(|e| e.as_str()).collect();
            FieldError::new(
                format!("events[{i}]"),
                format!("unknown event type {n:?}; known: {}", known.join(", ")),
            )
        })?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// A subscriber's URL: absolute http(s) with a host.
pub fn check_url(raw: &str) -> Result<url::Url, FieldError> {
    let bad = |why: &str| FieldError::new("url", why.to_string());
    if raw.len() > MAX_URL {
        return Err(bad("at most 2048 characters"));
    }
    let u = url::Url::parse(raw).map_err(|_| bad("expected an absolute http(s) URL"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(bad("expected an absolute http(s) URL"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(
            "credentials in the URL are not accepted: use the secret",
        ));
    }
    Ok(u)
}

pub fn check_secret(s: &str) -> Result<(), FieldError> {
    if !SECRET_LEN.contains(&s.chars().count()) || s.contains('\0') {
        return Err(FieldError::new(
            "secret",
            "between 16 and 256 characters (no NUL)",
        ));
    }
    Ok(())
}

/// What the dispatcher last knew of a subject's status (a conversation's, a campaign's),
/// and what an event says it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// `c:<conversation id>` or `k:<campaign id>`.
    pub subject: String,
    pub status: String,
}

/// The subject and status an event reports, when its kind is followed for transitions.
pub fn status_of(kind: EventKind, data: &Value) -> Option<StatusChange> {
    let (prefix, id, status) = match kind {
        EventKind::ConversationUpdated => ("c", data.get("id"), data.get("status")),
        EventKind::CampaignProgress => ("k", data.get("campaign_id"), data.get("status")),
        _ => return None,
    };
    Some(StatusChange {
        subject: format!("{prefix}:{}", id?.as_i64()?),
        status: status?.as_str()?.to_string(),
    })
}

/// The subscription event types an event of the log is, given the subject's previous
/// status (`None`: unknown).
pub fn hook_events(kind: EventKind, data: &Value, previous: Option<&str>) -> Vec<HookEvent> {
    let became = |terminal: &[&str]| match status_of(kind, data) {
        Some(now) => terminal.contains(&now.status.as_str()) && previous != Some(&now.status),
        None => false,
    };
    match kind {
        EventKind::MessageCreated => vec![HookEvent::MessageCreated],
        EventKind::MessageUpdated => vec![HookEvent::MessageUpdated],
        EventKind::ConversationAssigned => vec![HookEvent::ConversationAssigned],
        EventKind::ConversationUpdated => {
            let mut v = vec![HookEvent::ConversationUpdated];
            if became(&["resolved"]) {
                v.push(HookEvent::ConversationResolved);
            }
            v
        }
        EventKind::ContactUpdated => match data.get("change").and_then(Value::as_str) {
            Some("created") => vec![HookEvent::ContactCreated],
            Some("deleted") => vec![HookEvent::ContactDeleted],
            _ => vec![HookEvent::ContactUpdated],
        },
        EventKind::CampaignProgress if became(&["completed", "cancelled"]) => {
            vec![HookEvent::CampaignFinished]
        }
        _ => Vec::new(),
    }
}

/// The log's event types that can become a subscription's event (what the dispatcher
/// reads from the log).
pub const LOG_KINDS: &[EventKind] = &[
    EventKind::MessageCreated,
    EventKind::MessageUpdated,
    EventKind::ConversationAssigned,
    EventKind::ConversationUpdated,
    EventKind::ContactUpdated,
    EventKind::CampaignProgress,
];

/// `X-Tickhub-Signature`: `sha256=` and the hex HMAC-SHA256 of the raw body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How long to wait after the `attempts`-th failed attempt: `base` doubled per attempt,
/// at most `max`, then between half and all of it (`jitter` in 0..1), so that
/// subscriptions failing together do not retry in step.
pub fn backoff(attempts: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let full = exp.min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_event_types_are_named() {
        let e = parse_events(&["message.created".into(), "message.exploded".into()])
            .expect_err("unknown");
        assert_eq!(e.field, "events[1]");
        assert_eq!(parse_events(&[]).expect_err("empty").field, "events");
        let ok = parse_events(&["contact.created".into(), "contact.created".into()]).expect("ok");
        assert_eq!(ok, vec![HookEvent::ContactCreated]);
    }

    #[test]
    fn only_http_urls() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("ftp://example.com").is_err());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("http://u:p@example.com/").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn resolved_and_finished_are_transitions() {
        let conv = json!({"id": 7, "status": "resolved"});
        let k = EventKind::ConversationUpdated;
        assert!(hook_events(k, &conv, Some("open")).contains(&HookEvent::ConversationResolved));
        assert!(hook_events(k, &conv, None).contains(&HookEvent::ConversationResolved));
        assert_eq!(
            hook_events(k, &conv, Some("resolved")),
            vec![HookEvent::ConversationUpdated]
        );
        let camp = json!({"campaign_id": 3, "status": "completed", "counts": {}});
        let p = EventKind::CampaignProgress;
        assert_eq!(
            hook_events(p, &camp, Some("running")),
            vec![HookEvent::CampaignFinished]
        );
        assert!(hook_events(p, &camp, Some("completed")).is_empty());
        assert!(hook_events(p, &json!({"campaign_id": 3, "status": "running"}), None).is_empty());
        assert_eq!(
            status_of(k, &conv),
            Some(StatusChange {
                subject: "c:7".into(),
                status: "resolved".into()
            })
        );
    }

    #[test]
    fn contact_changes_split() {
        let k = EventKind::ContactUpdated;
        assert_eq!(
            hook_events(k, &json!({"change": "created"}), None),
            vec![HookEvent::ContactCreated]
        );
        assert_eq!(
            hook_events(k, &json!({"change": "deleted"}), None),
            vec![HookEvent::ContactDeleted]
        );
        assert_eq!(
            hook_events(k, &json!({"change": "updated"}), None),
            vec![HookEvent::ContactUpdated]
        );
        assert!(hook_events(EventKind::NoteCreated, &json!({}), None).is_empty());
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (b, m) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff(1, b, m, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, b, m, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(30, b, m, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(3, b, m, 0.0), Duration::from_secs(2));
    }
}
