//! What a contact's fields may hold: emails, tags, types, spend, consent and custom
//! attributes with declared types. Every refusal names its field (`attributes.plan`), so
//! the API answers 422 with that path and nothing is saved.

use serde_json::Value;

use super::status::text_enum;
use super::FieldError;

text_enum! {
    /// The type a custom attribute is declared with.
    AttrType {
        Text => "text",
        Number => "number",
        /// A calendar date, `YYYY-MM-DD`.
        Date => "date",
        Boolean => "boolean",
        /// One of the definition's `choices`.
        Choice => "choice",
    }
}

text_enum! {
    /// Whether the customer agreed to hear from the business.
    ConsentState {
        OptedIn => "opted_in",
        OptedOut => "opted_out",
    }
}

/// A declared attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDef {
    pub name: String,
    pub kind: AttrType,
    /// The allowed values of a `choice`.
    pub choices: Vec<String>,
}

/// The longest tag, attribute name, type name, and text attribute value.
pub const MAX_TAG_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 1024;

/// 1 to 64 of `a-z`, `0-9` and `_`, starting with a letter: attribute and type names are
/// keys in JSON paths and filters (`attributes.plan`), so they stay plain.
pub fn check_key(field: &str, name: &str) -> Result<(), FieldError> {
    let ok = name.len() <= MAX_NAME_CHARS
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "1 to {MAX_NAME_CHARS} of a-z, 0-9 and _, starting with a letter, got {name:?}"
            ),
        ))
    }
}

/// A plausible address: one `@`, something before it, a dotted domain after it, no spaces,
/// at most 254 characters (what mail can deliver to). Answers it trimmed.
pub fn check_email(field: &str, email: &str) -> Result<String, FieldError> {
    let e = email.trim();
    let bad = |why: &str| Err(FieldError::new(field, format!("{why}: {e:?}")));
    if e.len() > 254 {
        return bad("longer than 254 characters");
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("an email address holds no spaces");
    }
    let Some((local, domain)) = e.rsplit_once('@') else {
        return bad("not an email address (no @)");
    };
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || local.contains('@') || !domain.contains('.') || !labels_ok {
        return bad("not an email address");
    }
    Ok(e.to_string())
}

/// A tag: trimmed, 1 to 64 characters, no control characters.
pub fn check_tag(field: &str, tag: &str) -> Result<String, FieldError> {
    let t = tag.trim();
    if t.is_empty() || t.chars().count() > MAX_TAG_CHARS || t.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!(
                "a tag is 1 to {MAX_TAG_CHARS} characters without control characters, got {tag:?}"
            ),
        ));
    }
    Ok(t.to_string())
}

/// A lifetime spend in major units (12.50) as whole cents; not negative, not absurd.
pub fn spend_cents(field: &str, v: f64) -> Result<i64, FieldError> {
    if !v.is_finite() || !(0.0..=1e13).contains(&v) {
        return Err(FieldError::new(
            field,
            format!("a spend is a number from 0 to 10000000000000, got {v}"),
        ));
    }
    Ok((v * 100.0).round() as i64)
}

/// Whether `s` is a calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// A value for attribute `name`: of its declared type if it is declared (a date as
/// `YYYY-MM-DD`, a choice among its choices); else any text, number or boolean. Objects
/// and arrays are refused: filters compare single values.
pub fn check_attribute(def: Option<&AttrDef>, name: &str, v: &Value) -> Result<(), FieldError> {
    let field = format!("attributes.{name}");
    let refuse = |why: String| Err(FieldError::new(field.clone(), why));
    let Some(def) = def else {
        check_key(&field, name)?;
        return match v {
            Value::String(s) if s.chars().count() > MAX_TEXT_CHARS => {
                refuse(format!("at most {MAX_TEXT_CHARS} characters"))
            }
            Value::String(s) if s.contains('\0') => refuse("must not contain U+0000".into()),
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
            other => refuse(format!(
                "an attribute holds a text, a number or a boolean, got {}",
                kind_of(other)
            )),
        };
    };
    let ok = match (def.kind, v) {
        (AttrType::Text, Value::String(s)) => {
            if s.chars().count() > MAX_TEXT_CHARS || s.contains('\0') {
                return refuse(format!(
                    "a text of at most {MAX_TEXT_CHARS} characters without U+0000"
                ));
            }
            true
        }
        (AttrType::Number, Value::Number(n)) => n.as_f64().is_some_and(f64::is_finite),
        (AttrType::Boolean, Value::Bool(_)) => true,
        (AttrType::Date, Value::String(s)) => {
            if !is_date(s) {
                return refuse(format!("is declared date: a date YYYY-MM-DD, got {s:?}"));
            }
            true
        }
        (AttrType::Choice, Value::String(s)) => {
            if !def.choices.iter().any(|c| c == s) {
                return refuse(format!(
                    "is declared choice: one of {:?}, got {s:?}",
                    def.choices
                ));
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        refuse(format!("is declared {}, got {}", def.kind, kind_of(v)))
    }
}

/// How a JSON value reads in an error message.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The opt-out words: `stop`, and those of `configured` (a comma list), lower-cased, each
/// once.
pub fn opt_out_words(configured: &str) -> Vec<String> {
    let mut out = vec!["stop".to_string()];
    for w in configured.split(',').map(|w| w.trim().to_lowercase()) {
        if !w.is_empty() && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Whether a customer's message is exactly one of `words` (trimmed, any case). On the
/// webhook path for every message: an ordinary message costs a length check, or one
/// comparison per word; nothing is allocated unless the text is a word's length.
pub fn is_opt_out(text: &str, words: &[String]) -> bool {
    let t = text.trim();
    // Lower-casing keeps a text within 3 times its bytes (e.g. 'ȿ' is 2 bytes, 'ⱥ' 3).
    if t.is_empty()
        || !words
            .iter()
            .any(|w| t.len() <= w.len() * 3 && w.len() <= t.len() * 3)
    {
        return false;
    }
    if words.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        return true;
    }
    let lower = t.to_lowercase();
    words.contains(&lower)
}

#[cfg(test)]
mod opt_out_tests {
    use super::*;

    #[test]
    fn only_a_whole_word_in_any_case_opts_out() {
        let words = opt_out_words(" Unsubscribe ,ARRÊT,, stop");
        assert_eq!(words, ["stop", "unsubscribe", "arrêt"]);
        for yes in [
            "STOP",
            "stop",
            " Stop ",
            "\tstop\n",
            "unsubscribe",
            "Arrêt",
            "ARRÊT",
        ] {
            assert!(is_opt_out(yes, &words), "{yes:?}");
        }
        for no in [
            "STOP please",
            "stop!",
            "s t o p",
            "",
            "   ",
            "stopstop",
            "please stop",
        ] {
            assert!(!is_opt_out(no, &words), "{no:?}");
        }
        assert!(!is_opt_out("unsubscribe", &opt_out_words("")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(kind: AttrType) -> AttrDef {
        AttrDef {
            name: "x".into(),
            kind,
            choices: vec!["gold".into(), "silver".into()],
        }
    }

    #[test]
    fn declared_types_are_enforced_and_named() {
        let e = check_attribute(Some(&def(AttrType::Number)), "plan", &json!("ten")).unwrap_err();
        assert_eq!(e.field, "attributes.plan");
        assert_eq!(e.reason, "is declared number, got a text");
        assert!(check_attribute(Some(&def(AttrType::Number)), "n", &json!(10.5)).is_ok());
        assert!(check_attribute(Some(&def(AttrType::Boolean)), "b", &json!(true)).is_ok());
        assert!(check_attribute(Some(&def(AttrType::Boolean)), "b", &json!("true")).is_err());
        assert!(check_attribute(Some(&def(AttrType::Date)), "d", &json!("2026-02-28")).is_ok());
        assert!(check_attribute(Some(&def(AttrType::Date)), "d", &json!("2026-02-30")).is_err());
        assert!(check_attribute(Some(&def(AttrType::Date)), "d", &json!(20260228)).is_err());
        assert!(check_attribute(Some(&def(AttrType::Choice)), "c", &json!("gold")).is_ok());
        let e = check_attribute(Some(&def(AttrType::Choice)), "c", &json!("bronze")).unwrap_err();
        assert!(e.reason.contains("bronze"), "{e}");
        assert!(check_attribute(Some(&def(AttrType::Text)), "t", &json!(1)).is_err());
    }

    #[test]
    fn undeclared_attributes_hold_single_values() {
        assert!(check_attribute(None, "plan", &json!("gold")).is_ok());
        assert!(check_attribute(None, "visits", &json!(3)).is_ok());
        assert!(check_attribute(None, "plan", &json!({"a": 1})).is_err());
        assert!(check_attribute(None, "plan", &json!([1])).is_err());
        assert_eq!(
            check_attribute(None, "Bad Name", &json!(1))
                .unwrap_err()
                .field,
            "attributes.Bad Name"
        );
    }

    #[test]
    fn emails_tags_and_spend() {
        assert_eq!(
            check_email("email", " ann@example.com ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@-x.com",
            "ann@x..com",
        ] {
            assert!(check_email("email", bad).is_err(), "{bad}");
        }
        assert_eq!(check_tag("tags[0]", "  vip ").unwrap(), "vip");
        assert_eq!(check_tag("tags[1]", " ").unwrap_err().field, "tags[1]");
        assert_eq!(spend_cents("s", 12.5).unwrap(), 1250);
        assert_eq!(spend_cents("s", 0.125).unwrap(), 13);
        assert!(spend_cents("s", -1.0).is_err());
        assert!(check_key("name", "plan_2").is_ok());
        assert!(check_key("name", "2plan").is_err());
    }
}
