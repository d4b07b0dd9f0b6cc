//! WhatsApp chat ids are opaque keys; only a few forms carry a phone number.

/// A normalised chat id (`…@c.us`, `…@g.us`, `…@lid`, `…@newsletter`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatId(String);

impl ChatId {
    /// Normalises the forms WAHA's engines mix: `@s.whatsapp.net` becomes `@c.us` and a
    /// `:device` suffix is dropped, so one person is one chat whatever the engine says.
    pub fn normalise(raw: &str) -> ChatId {
        let raw = raw.trim();
        let (user, server) = raw.split_once('@').unwrap_or((raw, "c.us"));
        let user = user.split(':').next().unwrap_or(user);
        let server = if server == "s.whatsapp.net" {
            "c.us"
        } else {
            server
        };
        ChatId(format!("{user}@{server}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_group(&self) -> bool {
        self.0.ends_with("@g.us")
    }

    /// The phone number, only where the id is one (never for `@lid`, groups, channels).
    pub fn phone(&self) -> Option<String> {
        let (user, server) = self.0.split_once('@')?;
        (server == "c.us" && !user.is_empty() && user.chars().all(|c| c.is_ascii_digit()))
            .then(|| format!("+{user}"))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for ChatId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The raw id inside a serialized WAHA message id `{fromMe}_{chat}_{raw}[_{participant}]`;
/// bare ids (NOWEB/GOWS, `revokedMessageId`) are returned unchanged. Engines disagree on the
/// serialized form (the group suffix), so correlation uses this part.
pub fn raw_message_id(id: &str) -> &str {
    let mut parts = id.splitn(4, '_');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("true" | "false"), Some(_chat), Some(raw)) => raw,
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_engine_forms() {
        assert_eq!(
            ChatId::normalise("5585999:22@s.whatsapp.net").as_str(),
            "5585999@c.us"
        );
        assert_eq!(
            ChatId::normalise("447700@c.us").phone().as_deref(),
            Some("+447700")
        );
        assert_eq!(ChatId::normalise("123@lid").phone(), None);
        assert!(ChatId::normalise("1203@g.us").is_group());
        assert_eq!(ChatId::normalise("447700").as_str(), "447700@c.us");
    }

    #[test]
    fn raw_ids() {
        assert_eq!(raw_message_id("false_1@c.us_AAA"), "AAA");
        assert_eq!(raw_message_id("true_1@g.us_BBB_2@c.us"), "BBB");
        assert_eq!(raw_message_id("3EB0ABC"), "3EB0ABC");
    }
}
