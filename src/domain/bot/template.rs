//! Response templates, parsed when a bot is saved and rendered per message.
//!
//! Variables sit in double braces, with optional whitespace inside (`{{ contact.name }}`):
//!
//! | variable | renders |
//! | --- | --- |
//! | `contact.name` | the contact's name, else their WhatsApp push name |
//! | `contact.first_name` | the first word of `contact.name` |
//! | `contact.phone` | the contact's phone number |
//! | `contact.attributes.<key>`, `contact.<key>` | a custom attribute: a string as is, a number or boolean printed, `null` empty, a list or object as JSON |
//! | `business.hours_today` | today's (local) hours, e.g. `09:00–12:00, 13:00–17:00`; `closed` on a holiday or a day without hours; empty without business hours |
//! | `business.name` | the business's name |
//!
//! A missing value renders empty, never as the placeholder, unless the variable names a
//! fallback: `{{contact.first_name | "there"}}` (or `'there'`) renders `there` when the
//! value is missing, empty or blank. A campaign's message must read well for the contact
//! without a name, where a bot's reply could be reworded by hand.
//!
//! | form | renders |
//! | --- | --- |
//! | `{{ var }}` | the value, or nothing |
//! | `{{ var \| "text" }}`, `{{var\|'text'}}` | the value, or `text` when the value is blank; `text` is taken as written (`}`, `}}`, `\|` and the other quote included); `""` is allowed and means no fallback |
//!
//! Other namespaces and names are refused when the template is saved (`unknown variable
//! {{foo}}`), as is a `{{` without its `}}` (`unclosed {{ at 12`, counted in characters
//! from 0), a fallback without quotes (`the fallback of {{contact.name}} must be quoted`),
//! an unclosed quote (`unclosed " at 20`) and anything between the closing quote and the
//! `}}` (`expected }} at 25`). Rendering cannot fail, but it can come out empty or blank;
//! the decision reports that as a failure.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::decide::ContactVars;
use super::schedule::Schedule;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Var { var: Var, fallback: Option<String> },
}

/// The variables a template may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    ContactName,
    ContactFirstName,
    ContactPhone,
    ContactAttribute(String),
    BusinessHoursToday,
    BusinessName,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        let var = match name {
            "contact.name" => Var::ContactName,
            "contact.first_name" => Var::ContactFirstName,
            "contact.phone" => Var::ContactPhone,
            "business.hours_today" => Var::BusinessHoursToday,
            "business.name" => Var::BusinessName,
            _ => {
                let key = name.strip_prefix("contact.")?;
                let key = match key.strip_prefix("attributes.") {
                    Some(key) => key,
                    // `{{contact.attributes}}` names no attribute.
                    None if key == "attributes" => return None,
                    None => key,
                };
                let valid = !key.is_empty()
                    && !key.contains(|c: char| c.is_whitespace() || c == '{' || c == '}');
                if !valid {
                    return None;
                }
                Var::ContactAttribute(key.to_owned())
            }
        };
        Some(var)
    }
}

/// What a template is rendered with: the contact, the business, and (computed only if a
/// template asks) today's hours.
pub struct Vars<'a> {
    pub contact: &'a ContactVars,
    pub business_name: Option<&'a str>,
    schedule: Option<&'a Schedule>,
    at: DateTime<Utc>,
    hours_today: OnceCell<String>,
}

impl<'a> Vars<'a> {
    pub fn new(
        contact: &'a ContactVars,
        business_name: Option<&'a str>,
        schedule: Option<&'a Schedule>,
        at: DateTime<Utc>,
    ) -> Self {
        Vars {
            contact,
            business_name,
            schedule,
            at,
            hours_today: OnceCell::new(),
        }
    }

    fn hours_today(&self) -> &str {
        self.hours_today.get_or_init(|| {
            self.schedule
                .map_or(String::new(), |s| s.hours_today(self.at))
        })
    }
}

impl Template {
    /// Parses `src`; the error does not name the field (the caller prefixes it).
    pub fn parse(src: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = 0;
        while let Some(found) = src[rest..].find("{{") {
            let open = rest + found;
            if open > rest {
                parts.push(Part::Text(src[rest..open].to_owned()));
            }
            let (var, fallback, end) = placeholder(src, open)?;
            parts.push(Part::Var { var, fallback });
            rest = end;
        }
        if rest < src.len() {
            parts.push(Part::Text(src[rest..].to_owned()));
        }
        Ok(Template { parts })
    }

    /// The variables used, in order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { var, .. } => Some(var),
            Part::Text(_) => None,
        })
    }

    pub fn render(&self, vars: &Vars<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var { var, fallback } => {
                    let start = out.len();
                    render_var(var, vars, &mut out);
                    if let Some(f) = fallback {
                        if out[start..].trim().is_empty() {
                            out.truncate(start);
                            out.push_str(f);
                        }
                    }
                }
            }
        }
        out
    }
}

/// Characters (not bytes) before byte `at`: positions in errors are what an editor shows.
fn col(src: &str, at: usize) -> usize {
    src[..at].chars().count()
}

/// The placeholder whose `{{` is at byte `open`: its variable, its fallback, and the byte
/// just past its `}}`. Quotes matter only after the `|`, so a name is read as before.
fn placeholder(src: &str, open: usize) -> Result<(Var, Option<String>, usize), String> {
    let unclosed = || format!("unclosed {{{{ at {}", col(src, open));
    let start = open + 2;
    let after = &src[start..];
    // The name ends at the first `|` or `}}`, whichever comes first.
    let close = after.find("}}");
    let bar = after.find('|').filter(|b| close.is_none_or(|c| *b < c));
    let name_end = match (bar, close) {
        (Some(b), _) => b,
        (None, Some(c)) => c,
        (None, None) => return Err(unclosed()),
    };
    let raw_name = &after[..name_end];
    if raw_name.contains("{{") {
        return Err(unclosed());
    }
    let name = raw_name.trim();
    let var = Var::parse(name).ok_or_else(|| format!("unknown variable {{{{{name}}}}}"))?;
    let Some(bar) = bar else {
        return Ok((var, None, start + name_end + 2));
    };
    // After the `|`: blanks, a quoted text, blanks, `}}`.
    let q_at = start + bar + 1;
    let q_at = q_at + (src[q_at..].len() - src[q_at..].trim_start().len());
    let quote = match src[q_at..].chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            return Err(format!(
                "the fallback of {{{{{name}}}}} must be quoted (\"…\" or '…')"
            ))
        }
    };
    let text_at = q_at + 1;
    let Some(len) = src[text_at..].find(quote) else {
        return Err(format!("unclosed {quote} at {}", col(src, q_at)));
    };
    let text = &src[text_at..text_at + len];
    let tail = text_at + len + 1;
    let end_at = tail + (src[tail..].len() - src[tail..].trim_start().len());
    if !src[end_at..].starts_with("}}") {
        return Err(format!("expected }}}} at {}", col(src, end_at)));
    }
    let fallback = (!text.is_empty()).then(|| text.to_owned());
    Ok((var, fallback, end_at + 2))
}

fn render_var(var: &Var, vars: &Vars<'_>, out: &mut String) {
    let contact = vars.contact;
    match var {
        Var::ContactName => out.push_str(contact.display_name().unwrap_or("")),
        Var::ContactFirstName => {
            let name = contact.display_name().unwrap_or("");
            out.push_str(name.split_whitespace().next().unwrap_or(""));
        }
        Var::ContactPhone => out.push_str(contact.phone.as_deref().unwrap_or("")),
        Var::ContactAttribute(key) => match contact.attributes.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
        },
        Var::BusinessHoursToday => out.push_str(vars.hours_today()),
        Var::BusinessName => out.push_str(vars.business_name.unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bot::BusinessHours;
    use chrono::TimeZone;
    use serde_json::json;

    fn contact() -> ContactVars {
        ContactVars {
            name: Some("Ana Maria Souza".into()),
            push_name: Some("Aninha".into()),
            phone: Some("5511999990000".into()),
            attributes: json!({"plan": "gold", "visits": 3, "vip": true, "nothing": null, "tags": ["a", "b"]})
                .as_object()
                .cloned()
                .unwrap(),
        }
    }

    fn render(src: &str, contact: &ContactVars) -> String {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        Template::parse(src)
            .unwrap()
            .render(&Vars::new(contact, Some("Salão Bela"), None, at))
    }

    #[test]
    fn contact_variables_render() {
        let c = contact();
        assert_eq!(
            render(
                "Hi {{contact.first_name}} ({{ contact.name }}, {{contact.phone}})",
                &c
            ),
            "Hi Ana (Ana Maria Souza, 5511999990000)"
        );
        assert_eq!(render("{{business.name}}", &c), "Salão Bela");
    }

    #[test]
    fn attributes_render_by_type() {
        let c = contact();
        assert_eq!(
            render(
                "{{contact.plan}}|{{contact.attributes.visits}}|{{contact.vip}}|{{contact.nothing}}|{{contact.tags}}",
                &c
            ),
            "gold|3|true||[\"a\",\"b\"]"
        );
    }

    #[test]
    fn missing_values_render_empty_never_the_placeholder() {
        let none = ContactVars::default();
        assert_eq!(
            render(
                "Hi {{contact.name}}{{contact.first_name}}{{contact.phone}}{{contact.plan}}!",
                &none
            ),
            "Hi !"
        );
        // The push name stands in for a missing (or blank) name.
        let pushed = ContactVars {
            name: Some("  ".into()),
            push_name: Some("Bob Jones".into()),
            ..ContactVars::default()
        };
        assert_eq!(render("{{contact.first_name}}", &pushed), "Bob");
        // Without business hours, hours_today is empty; without a name, business.name too.
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let t = Template::parse("[{{business.hours_today}}{{business.name}}]").unwrap();
        assert_eq!(t.render(&Vars::new(&none, None, None, at)), "[]");
    }

    #[test]
    fn hours_today_comes_from_the_schedule() {
        let hours: BusinessHours = serde_json::from_value(json!({
            "time_zone": "Europe/London",
            "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]},
            "holidays": ["2026-12-14"]
        }))
        .unwrap();
        let schedule = Schedule::compile(&hours, "business_hours").unwrap();
        let t = Template::parse("Today: {{business.hours_today}}").unwrap();
        let c = ContactVars::default();
        let monday = Utc.with_ymd_and_hms(2026, 12, 7, 20, 0, 0).unwrap();
        let r = t.render(&Vars::new(&c, None, Some(&schedule), monday));
        assert_eq!(r, "Today: 09:00–12:00, 13:00–17:00");
        let tuesday = Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap();
        let r = t.render(&Vars::new(&c, None, Some(&schedule), tuesday));
        assert_eq!(r, "Today: closed");
    }

    #[test]
    fn text_without_variables_and_stray_braces_stay() {
        let c = contact();
        assert_eq!(render("a } b }} c { d", &c), "a } b }} c { d");
        assert_eq!(render("", &c), "");
    }

    #[test]
    fn syntax_errors_name_the_problem() {
        assert_eq!(
            Template::parse("Hello there {{contact.name").unwrap_err(),
            "unclosed {{ at 12"
        );
        // Counted in characters, not bytes.
        assert_eq!(Template::parse("Olá {{").unwrap_err(), "unclosed {{ at 4");
        assert_eq!(
            Template::parse("{{ a {{contact.name}}").unwrap_err(),
            "unclosed {{ at 0"
        );
        assert_eq!(
            Template::parse("x {{foo}}").unwrap_err(),
            "unknown variable {{foo}}"
        );
        assert_eq!(
            Template::parse("{{ business.open }}").unwrap_err(),
            "unknown variable {{business.open}}"
        );
        assert_eq!(
            Template::parse("{{}}").unwrap_err(),
            "unknown variable {{}}"
        );
        assert_eq!(
            Template::parse("{{contact.}}").unwrap_err(),
            "unknown variable {{contact.}}"
        );
        assert_eq!(
            Template::parse("{{contact.attributes}}").unwrap_err(),
            "unknown variable {{contact.attributes}}"
        );
    }

    #[test]
    fn fallbacks_stand_in_for_missing_empty_or_blank_values() {
        let none = ContactVars::default();
        let c = contact();
        let t = r#"Hi {{contact.first_name | "there"}}, {{ contact.name|'friend' }}!"#;
        assert_eq!(render(t, &c), "Hi Ana, Ana Maria Souza!");
        assert_eq!(render(t, &none), "Hi there, friend!");
        let blank = ContactVars {
            name: Some("   ".into()),
            phone: Some(" ".into()),
            attributes: json!({"plan": "", "visits": 0, "nothing": null})
                .as_object()
                .cloned()
                .unwrap(),
            ..ContactVars::default()
        };
        assert_eq!(
            render(
                r#"{{contact.name|"A"}}/{{contact.phone|"B"}}/{{contact.plan|"C"}}/{{contact.visits|"D"}}/{{contact.nothing|"E"}}/{{contact.gone|"F"}}"#,
                &blank
            ),
            "A/B/C/0/E/F"
        );
        // No whitespace needed anywhere; blanks inside the quotes are kept.
        assert_eq!(render(r#"[{{contact.name|" x "}}]"#, &none), "[ x ]");
    }

    #[test]
    fn a_fallback_is_taken_as_written() {
        let none = ContactVars::default();
        assert_eq!(
            render(r#"{{contact.name | "a } b }} c | d ' {{ e"}}!"#, &none),
            "a } b }} c | d ' {{ e!"
        );
        assert_eq!(
            render(r#"{{contact.name | 'say "hi"'}}"#, &none),
            r#"say "hi""#
        );
        assert_eq!(
            render("{{contact.name | \"two\nlines\"}}", &none),
            "two\nlines"
        );
        // An empty fallback is no fallback: the variable renders empty.
        assert_eq!(render(r#"<{{contact.name | ""}}>"#, &none), "<>");
        assert_eq!(
            render(r#"<{{contact.name | ''}}>"#, &contact()),
            "<Ana Maria Souza>"
        );
        // A `|` after the closing braces is text.
        assert_eq!(render(r#"{{contact.phone}} | "x""#, &none), r#" | "x""#);
    }

    #[test]
    fn fallback_syntax_errors_name_the_problem() {
        assert_eq!(
            Template::parse(r#"Hi {{contact.name | "there}}"#).unwrap_err(),
            r#"unclosed " at 20"#
        );
        assert_eq!(
            Template::parse("{{contact.name|'there}}").unwrap_err(),
            "unclosed ' at 15"
        );
        assert_eq!(
            Template::parse("{{contact.name | there}}").unwrap_err(),
            r#"the fallback of {{contact.name}} must be quoted ("…" or '…')"#
        );
        assert_eq!(
            Template::parse("{{contact.name |}}").unwrap_err(),
            r#"the fallback of {{contact.name}} must be quoted ("…" or '…')"#
        );
        assert_eq!(
            Template::parse(r#"{{contact.name | "a" "b"}}"#).unwrap_err(),
            "expected }} at 21"
        );
        assert_eq!(
            Template::parse(r#"{{contact.name | "a" | "b"}}"#).unwrap_err(),
            "expected }} at 21"
        );
        // The quote closed but the braces never come.
        assert_eq!(
            Template::parse(r#"Olá {{contact.name | "a""#).unwrap_err(),
            "expected }} at 24"
        );
        // The name is checked first, as without a fallback.
        assert_eq!(
            Template::parse(r#"{{ foo | "x" }}"#).unwrap_err(),
            "unknown variable {{foo}}"
        );
        assert_eq!(
            Template::parse(r#"{{ | "x" }}"#).unwrap_err(),
            "unknown variable {{}}"
        );
        assert_eq!(
            Template::parse(r#"{{ a {{contact.name | "x"}}"#).unwrap_err(),
            "unclosed {{ at 0"
        );
    }

    #[test]
    fn vars_lists_what_is_used() {
        let t = Template::parse("{{contact.name}} {{contact.attributes.x}}").unwrap();
        let vars: Vec<_> = t.vars().cloned().collect();
        assert_eq!(
            vars,
            vec![Var::ContactName, Var::ContactAttribute("x".into())]
        );
    }
}
