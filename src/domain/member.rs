//! The rules for a member's profile fields, each refusal naming its field.

use super::hours::WeeklyHours;
use super::FieldError;

pub const MAX_CAPACITY: i64 = 10_000;
pub const MAX_SKILLS: usize = 50;

pub fn check_email(email: &str) -> Result<(), FieldError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "email",
            format!("{email:?} is not an email address"),
        ))
    }
}

pub fn check_name(name: &str) -> Result<(), FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
        return Err(FieldError::new("name", "1 to 200 printable characters"));
    }
    Ok(())
}

pub fn check_capacity(capacity: Option<i64>) -> Result<(), FieldError> {
    match capacity {
        Some(c) if !(0..=MAX_CAPACITY).contains(&c) => Err(FieldError::new(
            "capacity",
            format!("must be between 0 and {MAX_CAPACITY} (or null for no limit), got {c}"),
        )),
        _ => Ok(()),
    }
}

pub fn check_skills(skills: &[String]) -> Result<(), FieldError> {
    if skills.len() > MAX_SKILLS {
        return Err(FieldError::new("skills", format!("at most {MAX_SKILLS}")));
    }
    for (i, s) in skills.iter().enumerate() {
        let n = s.trim().chars().count();
        if n == 0 || n > 64 || s.chars().any(char::is_control) {
            return Err(FieldError::new(
                format!("skills[{i}]"),
                "1 to 64 printable characters",
            ));
        }
    }
    Ok(())
}

pub fn check_hours(hours: Option<&WeeklyHours>) -> Result<(), FieldError> {
    hours.map_or(Ok(()), |h| h.validate("working_hours"))
}

/// Skills trimmed, without repeats, in the order given.
pub fn tidy_skills(skills: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in skills {
        let s = s.trim().to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_its_field() {
        assert!(check_email("ann@example.com").is_ok());
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann @example.com",
            "ann@example",
            "a@b@c.d",
        ] {
            assert!(check_email(bad).unwrap_err().field == "email", "{bad}");
        }
        assert!(check_name("  ").unwrap_err().field == "name");
        assert!(check_capacity(Some(-1)).unwrap_err().field == "capacity");
        assert!(check_capacity(None).is_ok() && check_capacity(Some(0)).is_ok());
        assert!(check_skills(&["ok".into(), " ".into()]).unwrap_err().field == "skills[1]");
        assert_eq!(
            tidy_skills(&[" a".into(), "a".into(), "b".into()]),
            vec!["a", "b"]
        );
    }
}
