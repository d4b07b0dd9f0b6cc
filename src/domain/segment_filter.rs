//! The contact filter: one typed model for `GET /api/contacts` and segments (saved
//! filters), parsed from JSON and validated here, compiled to SQL with bound parameters by
//! the store (`store::contact_filter`). The grammar is docs/segments.md:
//!
//! ```text
//! filter := {"all": [node, …]} | {"any": [node, …]}
//! node   := filter | {"field": F, "op": O, "value": V}
//! ```
//!
//! A bad clause is refused naming its path (`filter.all[2]: unknown field 'foo'`).

use std::collections::HashMap;

use serde_json::Value;

use super::contact::{check_key, is_date, kind_of, spend_cents, AttrDef, AttrType};
use super::FieldError;

/// How deep groups nest, and how many clauses one filter holds: enough for any builder,
/// small enough that a filter's SQL stays cheap to plan.
pub const MAX_DEPTH: usize = 4;
pub const MAX_CLAUSES: usize = 50;
pub const MAX_LIST: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every node holds (an empty list: every contact).
    All(Vec<Node>),
    /// At least one node holds (an empty list: no contact).
    Any(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Group(Filter),
    Clause(Clause),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub field: Field,
    pub op: Op,
    pub value: Operand,
}

/// What a clause looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Name,
    Email,
    Phone,
    Notes,
    Type,
    Tags,
    OwnerId,
    Session,
    OptedOut,
    Consent,
    /// In cents.
    LifetimeSpend,
    /// The latest message of the contact's conversations (computed).
    LastMessageAt,
    /// How many conversations the contact has (computed).
    ConversationCount,
    CreatedAt,
    /// A campaign's message reached the contact (or was read, or replied to): `eq` a
    /// campaign id, or `exists` for any campaign.
    Campaign(Engagement),
    /// A custom attribute, compared as its declared type (or as its value's JSON type
    /// when it is not declared).
    Attribute {
        name: String,
        kind: AttrKind,
    },
}

/// How far a campaign's message went with a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engagement {
    /// Handed to WhatsApp (queued, then sent or failed).
    Received,
    Read,
    Replied,
}

/// How an attribute is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Text,
    Number,
    Boolean,
    /// `YYYY-MM-DD`, compared as text (which orders dates).
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    NotContains,
    In,
    Exists,
    NotExists,
    /// A time within the last N days.
    WithinDays,
    /// A time longer ago than N days (or none).
    NotWithinDays,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "contains" => Op::Contains,
            "not_contains" => Op::NotContains,
            "in" => Op::In,
            "exists" => Op::Exists,
            "not_exists" => Op::NotExists,
            "within_days" => Op::WithinDays,
            "not_within_days" => Op::NotWithinDays,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::In => "in",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::WithinDays => "within_days",
            Op::NotWithinDays => "not_within_days",
        }
    }
}

/// A clause's value, already of the type its field compares.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    None,
    Text(String),
    Texts(Vec<String>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Milliseconds since the Unix epoch.
    Time(i64),
}

/// What the filter is checked against: the declared attributes.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub attributes: HashMap<String, AttrDef>,
}

/// How strictly a filter is read: `Strict` when a person writes it (a choice must be one
/// of its choices); `Stored` when a saved segment is read again after the definitions
/// may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Stored,
}

/// The fields a filter may name, for the grammar's documentation and error messages.
pub const FIELDS: &[&str] = &[
    "name",
    "email",
    "phone",
    "notes",
    "type",
    "tags",
    "owner_id",
    "session",
    "opted_out",
    "consent",
    "lifetime_spend",
    "last_message_at",
    "conversation_count",
    "created_at",
    "campaign.received",
    "campaign.read",
    "campaign.replied",
    "attributes.<name>",
];

impl Filter {
    /// Every contact.
    pub fn everything() -> Filter {
        Filter::All(Vec::new())
    }

    /// Reads a filter from JSON; `path` is where it sits in the request (`filter`).
    pub fn parse(v: &Value, path: &str, schema: &Schema, mode: Mode) -> Result<Filter, FieldError> {
        let mut clauses = 0;
        parse_group(v, path, schema, mode, 1, &mut clauses)
    }

    /// One clause (`{"field", "op", "value"}`) read on its own, e.g. from a query
    /// parameter named `path`.
    pub fn clause(v: &Value, path: &str, schema: &Schema) -> Result<Node, FieldError> {
        parse_clause(v, path, schema, Mode::Strict).map(Node::Clause)
    }

    /// `self` and `other` both hold.
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All(mut a), Filter::All(b)) => {
                a.extend(b);
                Filter::All(a)
            }
            (a, b) => Filter::All(vec![Node::Group(a), Node::Group(b)]),
        }
    }
}

fn parse_group(
    v: &Value,
    path: &str,
    schema: &Schema,
    mode: Mode,
    depth: usize,
    clauses: &mut usize,
) -> Result<Filter, FieldError> {
    let err = |why: String| Err(FieldError::new(path, why));
    let Value::Object(o) = v else {
        return err(format!(
            "a filter is an object {{\"all\": […]}} or {{\"any\": […]}}, got {}",
            kind_of(v)
        ));
    };
    if depth > MAX_DEPTH {
        return err(format!("groups nest at most {MAX_DEPTH} deep"));
    }
    let (key, list) = match (o.get("all"), o.get("any")) {
        (Some(l), None) => ("all", l),
        (None, Some(l)) => ("any", l),
        (Some(_), Some(_)) => return err("a group has \"all\" or \"any\", not both".into()),
        (None, None) => return err("a group needs \"all\" or \"any\"".into()),
    };
    let Value::Array(items) = list else {
        return Err(FieldError::new(
            format!("{path}.{key}"),
            format!("a list of clauses, got {}", kind_of(list)),
        ));
    };
    let mut nodes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}.{key}[{i}]");
        let is_group = item
            .as_object()
            .is_some_and(|o| o.contains_key("all") || o.contains_key("any"));
        if is_group {
            nodes.push(Node::Group(parse_group(
                item,
                &at,
                schema,
                mode,
                depth + 1,
                clauses,
            )?));
        } else {
            *clauses += 1;
            if *clauses > MAX_CLAUSES {
                return Err(FieldError::new(
                    at,
                    format!("a filter holds at most {MAX_CLAUSES} clauses"),
                ));
            }
            nodes.push(Node::Clause(parse_clause(item, &at, schema, mode)?));
        }
    }
    Ok(match key {
        "all" => Filter::All(nodes),
        _ => Filter::Any(nodes),
    })
}

fn parse_field(name: &str, value: &Value, schema: &Schema) -> Result<Field, String> {
    Ok(match name {
        "name" => Field::Name,
        "email" => Field::Email,
        "phone" => Field::Phone,
        "notes" => Field::Notes,
        "type" => Field::Type,
        "tags" | "tag" => Field::Tags,
        "owner_id" => Field::OwnerId,
        "session" => Field::Session,
        "opted_out" => Field::OptedOut,
        "consent" => Field::Consent,
        "lifetime_spend" => Field::LifetimeSpend,
        "last_message_at" | "last_interaction_at" => Field::LastMessageAt,
        "conversation_count" => Field::ConversationCount,
        "created_at" => Field::CreatedAt,
        "campaign.received" => Field::Campaign(Engagement::Received),
        "campaign.read" => Field::Campaign(Engagement::Read),
        "campaign.replied" => Field::Campaign(Engagement::Replied),
        other => match other.strip_prefix("attributes.") {
            Some(attr) => {
                check_key("", attr).map_err(|e| format!("attribute name {}", e.reason))?;
                let kind = match schema.attributes.get(attr).map(|d| d.kind) {
                    Some(AttrType::Text | AttrType::Choice) => AttrKind::Text,
                    Some(AttrType::Number) => AttrKind::Number,
                    Some(AttrType::Boolean) => AttrKind::Boolean,
                    Some(AttrType::Date) => AttrKind::Date,
                    // Undeclared: compared as what the value is.
                    None => match value {
                        Value::Number(_) => AttrKind::Number,
                        Value::Bool(_) => AttrKind::Boolean,
                        _ => AttrKind::Text,
                    },
                };
                Field::Attribute {
                    name: attr.to_string(),
                    kind,
                }
            }
            None => {
                return Err(format!(
                    "unknown field '{other}' (fields: {})",
                    FIELDS.join(", ")
                ))
            }
        },
    })
}

fn parse_clause(v: &Value, path: &str, schema: &Schema, mode: Mode) -> Result<Clause, FieldError> {
    let err = |why: String| FieldError::new(path, why);
    let Value::Object(o) = v else {
        return Err(err(format!(
            "a clause is an object {{\"field\", \"op\", \"value\"}}, got {}",
            kind_of(v)
        )));
    };
    let Some(field) = o.get("field").and_then(Value::as_str) else {
        return Err(err("a clause needs \"field\" (a text)".into()));
    };
    let Some(op_text) = o.get("op").and_then(Value::as_str) else {
        return Err(err("a clause needs \"op\" (a text)".into()));
    };
    let value = o.get("value").unwrap_or(&Value::Null);
    let parsed = parse_field(field, value, schema).map_err(err)?;
    let op = Op::parse(op_text).ok_or_else(|| err(format!("unknown op '{op_text}'")))?;
    let refuse = |expected: &str| {
        err(format!(
            "'{field}' {op_text} takes {expected}, got {}",
            kind_of(value)
        ))
    };
    let unsupported = || err(format!("'{field}' does not take the op '{op_text}'"));
    use Op::*;
    let operand = match (&parsed, op) {
        (_, Exists | NotExists) => match parsed {
            Field::Name
            | Field::Email
            | Field::Phone
            | Field::Notes
            | Field::Type
            | Field::Tags
            | Field::OwnerId
            | Field::Consent
            | Field::LastMessageAt
            | Field::Campaign(_)
            | Field::Attribute { .. } => Operand::None,
            _ => return Err(unsupported()),
        },
        (
            Field::Name | Field::Email | Field::Notes | Field::Phone,
            Eq | Ne | Contains | NotContains,
        ) => Operand::Text(text(value).ok_or_else(|| refuse("a text"))?),
        (Field::Type | Field::Session | Field::Consent, Eq | Ne) => {
            let t = text(value).ok_or_else(|| refuse("a text"))?;
            if matches!(parsed, Field::Consent) && !["opted_in", "opted_out"].contains(&t.as_str())
            {
                return Err(err(format!(
                    "'consent' is opted_in or opted_out, got {t:?}"
                )));
            }
            Operand::Text(t)
        }
        (Field::Type | Field::Tags, In) => Operand::Texts(
            texts(value).ok_or_else(|| refuse(&format!("a list of 1 to {MAX_LIST} texts")))?,
        ),
        (Field::Tags, Contains | NotContains) => {
            Operand::Text(text(value).ok_or_else(|| refuse("a text"))?)
        }
        (Field::OwnerId, Eq | Ne) => {
            Operand::Int(value.as_i64().ok_or_else(|| refuse("a member id"))?)
        }
        (Field::Campaign(_), Eq | Ne) => Operand::Int(
            value
                .as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| refuse("a campaign id"))?,
        ),
        (Field::OptedOut, Eq) => Operand::Bool(value.as_bool().ok_or_else(|| refuse("a boolean"))?),
        (Field::LifetimeSpend, Eq | Ne | Gt | Gte | Lt | Lte) => {
            let n = value.as_f64().ok_or_else(|| refuse("a number"))?;
            Operand::Int(spend_cents(path, n)?)
        }
        (Field::ConversationCount, Eq | Ne | Gt | Gte | Lt | Lte) => Operand::Int(
            value
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| refuse("a whole number from 0"))?,
        ),
        (Field::LastMessageAt | Field::CreatedAt, Gt | Gte | Lt | Lte) => {
            let t = value.as_str().ok_or_else(|| refuse("an RFC 3339 time"))?;
            let at = chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
                err(format!(
                    "'{field}' {op_text} takes an RFC 3339 time (2026-01-31T09:00:00Z), got {t:?}"
                ))
            })?;
            Operand::Time(at.timestamp_millis())
        }
        (Field::LastMessageAt | Field::CreatedAt, WithinDays | NotWithinDays) => Operand::Int(
            value
                .as_i64()
                .filter(|n| (0..=36_500).contains(n))
                .ok_or_else(|| refuse("a whole number of days from 0 to 36500"))?,
        ),
        (Field::Attribute { name, kind }, _) => {
            attribute_operand(name, *kind, op, value, schema, mode)
                .map_err(|why| err(format!("'{field}' {op_text}: {why}")))?
        }
        _ => return Err(unsupported()),
    };
    Ok(Clause {
        field: parsed,
        op,
        value: operand,
    })
}

fn attribute_operand(
    name: &str,
    kind: AttrKind,
    op: Op,
    value: &Value,
    schema: &Schema,
    mode: Mode,
) -> Result<Operand, String> {
    use Op::*;
    let declared = schema.attributes.get(name);
    let got = kind_of(value);
    match (kind, op) {
        (AttrKind::Text, Eq | Ne | Contains | NotContains | Gt | Gte | Lt | Lte) => {
            let s = value.as_str().ok_or(format!("takes a text, got {got}"))?;
            if let (Some(d), Mode::Strict, Eq | Ne) = (declared, mode, op) {
                if d.kind == AttrType::Choice && !d.choices.iter().any(|c| c == s) {
                    return Err(format!("{s:?} is none of the choices {:?}", d.choices));
                }
            }
            Ok(Operand::Text(s.to_string()))
        }
        (AttrKind::Text, In) => texts(value)
            .map(Operand::Texts)
            .ok_or(format!("takes a list of 1 to {MAX_LIST} texts, got {got}")),
        (AttrKind::Number, Eq | Ne | Gt | Gte | Lt | Lte) => value
            .as_f64()
            .map(Operand::Float)
            .ok_or(format!("takes a number, got {got}")),
        (AttrKind::Boolean, Eq | Ne) => value
            .as_bool()
            .map(Operand::Bool)
            .ok_or(format!("takes a boolean, got {got}")),
        (AttrKind::Date, Eq | Ne | Gt | Gte | Lt | Lte) => match value.as_str() {
            Some(s) if is_date(s) => Ok(Operand::Text(s.to_string())),
            _ => Err(format!("takes a date YYYY-MM-DD, got {value}")),
        },
        _ => Err(format!(
            "not an op for a {} attribute",
            match kind {
                AttrKind::Text => "text",
                AttrKind::Number => "number",
                AttrKind::Boolean => "boolean",
                AttrKind::Date => "date",
            }
        )),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.contains('\0') && s.chars().count() <= 1024)
        .map(str::to_string)
}

fn texts(v: &Value) -> Option<Vec<String>> {
    let list = v.as_array()?;
    if list.is_empty() || list.len() > MAX_LIST {
        return None;
    }
    list.iter().map(text).collect()
}

#[cfg(test)]
#[path = "segment_filter_tests.rs"]
mod tests;
