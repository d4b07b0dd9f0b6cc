//! A refused value with the path of the field that holds it, kept apart from the reason so
//! that the API can answer the path on its own (`error.field`) and a form can show the
//! reason beside the right input, while the message still reads `path: reason`.

/// `business_hours.holidays[0]: not a date YYYY-MM-DD` as `field` and `reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The path as a client wrote it: `sessions[1]`, `weekly.mon[0]`, `triggers[2].pattern`.
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same refusal one level down: `pattern` inside `triggers[2]` is
    /// `triggers[2].pattern`.
    pub fn under(self, parent: &str) -> FieldError {
        FieldError {
            field: format!("{parent}.{}", self.field),
            reason: self.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_path_then_reason() {
        let e = FieldError::new("pattern", "empty").under("triggers[2]");
        assert_eq!(e.field, "triggers[2].pattern");
        assert_eq!(e.to_string(), "triggers[2].pattern: empty");
    }
}
