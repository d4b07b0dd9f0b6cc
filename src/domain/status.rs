//! The states things move through, stored as text and spoken as text in the API.

/// Declares a text-valued enum: `as_str`, `parse`, serde, its OpenAPI schema (a string
/// enum of the texts), and the conversions sqlx uses to read it from a text column
/// (`#[sqlx(try_from = "String")]`).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written by hand: utoipa's derive does not see serde's renames through a macro.
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $name {}

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)))
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// Where a conversation stands: with the bot, waiting for a person, being handled, done.
    ConversationStatus {
        Bot => "bot",
        Pending => "pending",
        Open => "open",
        Resolved => "resolved",
    }
}

text_enum! {
    /// An outbound message's place in the queue to WAHA.
    OutboxState {
        /// Waiting for its turn (or for its retry time).
        Queued => "queued",
        /// An attempt was started; its outcome is unknown until recorded.
        Sending => "sending",
        Sent => "sent",
        Failed => "failed",
    }
}

impl OutboxState {
    /// Nothing more will be attempted.
    pub fn is_final(self) -> bool {
        matches!(self, OutboxState::Sent | OutboxState::Failed)
    }
}

text_enum! {
    /// A team member's availability, as set by them or derived from their sockets.
    PresenceStatus {
        Online => "online",
        Away => "away",
        Busy => "busy",
        Offline => "offline",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn the_openapi_schema_lists_the_texts() {
        let schema = serde_json::to_value(<Role as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["enum"],
            serde_json::json!(["admin", "manager", "agent", "sales", "marketing"])
        );
    }

    #[test]
    fn text_round_trips() {
        for s in ConversationStatus::ALL {
            assert_eq!(ConversationStatus::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(
            OutboxState::try_from("sending".to_string()),
            Ok(OutboxState::Sending)
        );
        assert!(PresenceStatus::try_from("asleep".to_string()).is_err());
    }
}
