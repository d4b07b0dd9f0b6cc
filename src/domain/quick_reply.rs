//! What a quick reply (a saved response) may be. Its text is a bot template, so a reply
//! inserted from it can speak of the contact the same way a bot's answer does.

use super::bot::parse_template;
use super::FieldError;

/// The longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;

/// 1 to 32 of `a-z`, `0-9`, `_` and `-` (what a person types after `/`); the error names
/// the field.
pub fn check_shortcut(s: &str) -> Result<(), FieldError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_SHORTCUT_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "shortcut",
            format!("1 to {MAX_SHORTCUT_CHARS} of a-z, 0-9, _ and -, got {s:?}"),
        ))
    }
}

/// 1 to 4096 characters (a bot template's limit), not blank, a template that parses
/// (`text: unclosed {{ at 6`).
pub fn check_text(s: &str) -> Result<(), FieldError> {
    // PostgreSQL's text cannot hold U+0000: refused on both backends alike.
    if s.contains('\0') {
        return Err(FieldError::new("text", "must not contain U+0000"));
    }
    parse_template("text", s).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts() {
        for ok in ["thanks", "a", "opening-hours_2", &"x".repeat(32)] {
            assert_eq!(check_shortcut(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Thanks", "with space", "é", "/thanks", &"x".repeat(33)] {
            let e = check_shortcut(bad).expect_err(bad);
            assert_eq!(e.field, "shortcut", "{e}");
        }
    }

    #[test]
    fn texts_are_templates() {
        assert_eq!(check_text("Thanks, {{contact.first_name}}!"), Ok(()));
        assert_eq!(check_text("Open {{ business.hours_today }}"), Ok(()));
        for (bad, why) in [
            ("Hi {{contact.name", "text: unclosed {{ at 3"),
            ("Hi {{order.id}}", "text: unknown variable {{order.id}}"),
            ("   ", "text: empty"),
            ("a\0b", "text: must not contain U+0000"),
        ] {
            assert_eq!(
                check_text(bad).map_err(|e| e.to_string()),
                Err(why.to_string()),
                "{bad:?}"
            );
        }
        assert_eq!(check_text(&"é".repeat(4096)), Ok(()));
        assert!(check_text(&"é".repeat(4097))
            .expect_err("too long")
            .to_string()
            .starts_with("text: longer than 4096"));
    }
}
