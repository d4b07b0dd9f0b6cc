//! API keys (server-to-server use): a key acts as the member who created it, bounded by
//! its scopes. This is where a route is mapped to the scope it needs: a route with no
//! scope here is closed to every key (the team, sessions, bots, settings, keys themselves,
//! the audit log), so a new endpoint is refused to keys until someone decides its scope.
//! The member's own role is then checked as for any request (docs/integrations.md).

use super::{Decision, Denied};
use crate::domain::status::text_enum;
use crate::domain::FieldError;

text_enum! {
    /// What an API key may be used for.
    Scope {
        /// Read conversations, their messages, notes and assignment history.
        ConversationsRead => "conversations:read",
        /// Assign, resolve, reopen, mark read, write notes.
        ConversationsWrite => "conversations:write",
        /// Send replies (and retry failed ones).
        MessagesSend => "messages:send",
        ContactsRead => "contacts:read",
        ContactsWrite => "contacts:write",
        CampaignsRead => "campaigns:read",
        CampaignsWrite => "campaigns:write",
        /// The dashboard and analytics.
        AnalyticsRead => "analytics:read",
        /// Outbound webhook subscriptions.
        WebhooksManage => "webhooks:manage",
    }
}

/// The scopes of a new key, checked: known, at least one.
pub fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, FieldError> {
    if names.is_empty() {
        return Err(FieldError::new("scopes", "name at least one scope"));
    }
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let s = Scope::parse(n).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            FieldError::new(
                format!("scopes[{i}]"),
                format!("unknown scope {n:?}; known: {}", known.join(", ")),
            )
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// The scope `method route` needs (`route`: the matched pattern, e.g.
/// `/api/conversations/{id}/messages`); `None`: no key may call it.
pub fn required_scope(method: &str, route: &str) -> Option<Scope> {
    let read = method == "GET" || method == "HEAD";
    let path = route.strip_prefix("/api").unwrap_or(route);
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    use Scope as S;
    Some(match first {
        "conversations" | "messages" => match (read, last) {
            (true, _) => S::ConversationsRead,
            (false, "messages" | "retry") => S::MessagesSend,
            (false, _) => S::ConversationsWrite,
        },
        "contacts" | "contact-types" | "contact-attributes" | "segments" => {
            // Previews and exports change nothing; they read.
            if read || last == "preview" {
                S::ContactsRead
            } else {
                S::ContactsWrite
            }
        }
        "campaigns" | "templates" => {
            if read || last == "audience" || last == "render" {
                S::CampaignsRead
            } else {
                S::CampaignsWrite
            }
        }
        "dashboard" | "analytics" if read => S::AnalyticsRead,
        "webhook-subscriptions" => S::WebhooksManage,
        _ => return None,
    })
}

/// Whether a key holding `scopes` may call `method route`.
pub fn may_call(scopes: &[Scope], method: &str, route: &str) -> Decision {
    match required_scope(method, route) {
        Some(s) if scopes.contains(&s) => Ok(()),
        Some(_) => Err(Denied::Forbidden(
            "this API key lacks the scope this call needs",
        )),
        None => Err(Denied::Forbidden(
            "API keys cannot call this; sign in as a member",
        )),
    }
}

/// The message for a key lacking `scope` (names it).
pub fn lacks(method: &str, route: &str) -> String {
    match required_scope(method, route) {
        Some(s) => format!("this API key lacks the scope {s} that {method} {route} needs"),
        None => format!("API keys cannot call {method} {route}; sign in as a member"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_scopes() {
        assert_eq!(
            required_scope("GET", "/api/conversations"),
            Some(Scope::ConversationsRead)
        );
        assert_eq!(
            required_scope("POST", "/api/conversations/{id}/messages"),
            Some(Scope::MessagesSend)
        );
        assert_eq!(
            required_scope("POST", "/api/conversations/{id}/resolve"),
            Some(Scope::ConversationsWrite)
        );
        assert_eq!(
            required_scope("PATCH", "/api/contacts/{id}"),
            Some(Scope::ContactsWrite)
        );
        assert_eq!(
            required_scope("POST", "/api/segments/preview"),
            Some(Scope::ContactsRead)
        );
        assert_eq!(
            required_scope("GET", "/api/dashboard"),
            Some(Scope::AnalyticsRead)
        );
        for closed in [
            "/api/team-members",
            "/api/api-keys",
            "/api/settings/waha",
            "/api/bots",
            "/api/audit-log",
            "/api/sessions",
        ] {
            assert_eq!(required_scope("GET", closed), None, "{closed}");
        }
    }

    #[test]
    fn a_key_needs_the_scope() {
        let s = [Scope::ContactsRead];
        assert!(may_call(&s, "GET", "/api/contacts").is_ok());
        assert!(may_call(&s, "POST", "/api/contacts").is_err());
        assert!(may_call(&s, "GET", "/api/team-members").is_err());
        assert_eq!(
            parse_scopes(&["contacts:read".into(), "x".into()])
                .expect_err("bad")
                .field,
            "scopes[1]"
        );
    }
}
