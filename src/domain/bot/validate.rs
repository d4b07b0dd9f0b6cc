//! Validation of bots and triggers when they are saved. Every error starts with the path of
//! the field that is wrong (`pattern: required for contains`, `keywords[2]: empty`,
//! `business_hours.holidays[1]: not a date YYYY-MM-DD`), so the API can answer 422 with it.

use super::normalize::{fold, Folding};
use super::regexes::check_regex;
use super::template::Template;
use super::{BotDef, MatchKind, TriggerAction, TriggerDef};
use crate::domain::FieldError;

/// The longest pattern or keyword, in characters.
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// The most keywords one `any_keyword` trigger (or a bot's handoff list) may hold.
pub const MAX_KEYWORDS: usize = 200;
/// The longest template, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 4_096;

fn check_literal(field: &str, text: &str, folding: Folding) -> Result<(), FieldError> {
    if text.chars().count() > MAX_PATTERN_CHARS {
        return Err(FieldError::new(
            field,
            format!("longer than {MAX_PATTERN_CHARS} characters"),
        ));
    }
    if fold(text, folding).is_empty() {
        return Err(FieldError::new(field, "empty"));
    }
    Ok(())
}

fn check_keywords(field: &str, keywords: &[String], folding: Folding) -> Result<(), FieldError> {
    if keywords.len() > MAX_KEYWORDS {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_KEYWORDS} keywords"),
        ));
    }
    for (i, k) in keywords.iter().enumerate() {
        check_literal(&format!("{field}[{i}]"), k, folding)?;
    }
    Ok(())
}

/// Parses a template, naming `field` in the error.
pub(crate) fn parse_template(field: &str, src: &str) -> Result<Template, FieldError> {
    if src.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(FieldError::new(
            field,
            format!("longer than {MAX_TEMPLATE_CHARS} characters"),
        ));
    }
    if src.trim().is_empty() {
        return Err(FieldError::new(field, "empty"));
    }
    Template::parse(src).map_err(|e| FieldError::new(field, e.to_string()))
}

fn check_template(field: &str, src: Option<&str>) -> Result<(), FieldError> {
    src.map_or(Ok(()), |s| parse_template(field, s).map(drop))
}

/// `name`, `email`, `notes` or `attributes.<key>`.
fn is_contact_field(field: &str) -> bool {
    match field.strip_prefix("attributes.") {
        Some(key) => !key.is_empty() && !key.contains(char::is_whitespace),
        None => matches!(field, "name" | "email" | "notes"),
    }
}

impl TriggerDef {
    /// The folding this trigger's literals are matched under.
    pub fn folding(&self) -> Folding {
        Folding::for_sensitivity(self.case_sensitive, self.accent_sensitive)
    }

    /// Checks the trigger on its own; the error starts with the field's name.
    pub fn validate(&self) -> Result<(), FieldError> {
        let kind = self.match_kind.as_str();
        if self.match_kind == MatchKind::AnyKeyword {
            if self.pattern.is_some() {
                return Err(FieldError::new(
                    "pattern",
                    "any_keyword takes keywords, not a pattern",
                ));
            }
            if self.keywords.is_empty() {
                return Err(FieldError::new(
                    "keywords",
                    "at least one keyword for any_keyword",
                ));
            }
            check_keywords("keywords", &self.keywords, self.folding())?;
        } else {
            if !self.keywords.is_empty() {
                return Err(FieldError::new(
                    "keywords",
                    format!("only for any_keyword, not {kind}"),
                ));
            }
            let Some(pattern) = self.pattern.as_deref() else {
                return Err(FieldError::new("pattern", format!("required for {kind}")));
            };
            if self.match_kind == MatchKind::Regex {
                if pattern.is_empty() {
                    return Err(FieldError::new("pattern", "empty"));
                }
                if pattern.chars().count() > MAX_PATTERN_CHARS {
                    return Err(FieldError::new(
                        "pattern",
                        format!("longer than {MAX_PATTERN_CHARS} characters"),
                    ));
                }
                check_regex(pattern, self.case_sensitive, self.accent_sensitive)
                    .map_err(|e| FieldError::new("pattern", e.to_string()))?;
            } else {
                check_literal("pattern", pattern, self.folding())?;
            }
        }

        check_template("response", self.response.as_deref())?;
        let action = self.action.as_str();
        match self.action {
            TriggerAction::Reply | TriggerAction::ReplyAndHandoff => {
                if self.response.is_none() {
                    return Err(FieldError::new(
                        "response",
                        format!("required for {action}"),
                    ));
                }
            }
            TriggerAction::Handoff => {}
            TriggerAction::AddTag => {
                if self.tag.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    return Err(FieldError::new("tag", "required for add_tag"));
                }
            }
            TriggerAction::SetContactField => {
                let Some(field) = self.field.as_deref() else {
                    return Err(FieldError::new("field", "required for set_contact_field"));
                };
                if !is_contact_field(field) {
                    return Err(FieldError::new(
                        "field",
                        "must be name, email, notes or attributes.<key>",
                    ));
                }
                let Some(value) = self.value.as_deref() else {
                    return Err(FieldError::new("value", "required for set_contact_field"));
                };
                parse_template("value", value)?;
            }
        }
        Ok(())
    }
}

impl BotDef {
    /// Checks the bot's own templates: greeting, fallback, after-hours message.
    pub fn validate_templates(&self) -> Result<(), FieldError> {
        check_template("greeting", self.greeting.as_deref())?;
        check_template("fallback", self.fallback.as_deref())?;
        check_template("after_hours_message", self.after_hours_message.as_deref())
    }

    /// Checks the whole bot, triggers included (their errors start `triggers[i].`).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.name.trim().is_empty() {
            return Err(FieldError::new("name", "required"));
        }
        check_keywords("handoff_keywords", &self.handoff_keywords, Folding::FULL)?;
        if self.handoff_after_misses == Some(0) {
            return Err(FieldError::new("handoff_after_misses", "at least 1"));
        }
        if let Some(hours) = &self.business_hours {
            hours.validate("business_hours")?;
        }
        self.validate_templates()?;
        for (i, t) in self.triggers.iter().enumerate() {
            t.validate()
                .map_err(|e| e.under(&format!("triggers[{i}]")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
