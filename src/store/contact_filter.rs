//! The contact filter (`domain::segment_filter`) as SQL over `contacts c`: fixed text and
//! `$n` placeholders only; every value the filter holds is bound. The same clause reads the
//! same on SQLite and PostgreSQL; only custom attributes (a JSON text column) differ, read
//! with `json_type`/`json_extract` on SQLite and `jsonb` operators on PostgreSQL.

use crate::domain::segment_filter::{
    AttrKind, Clause, Engagement, Field, Filter, Node, Op, Operand,
};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(db: &super::Db) -> Dialect {
        match db {
            super::Db::Sqlite { .. } => Dialect::Sqlite,
            super::Db::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// A condition being written, with its bound values; placeholders continue from `next`.
#[derive(Debug)]
pub(crate) struct Sql {
    pub dialect: Dialect,
    pub params: Vec<Param>,
    next: usize,
    /// "Now" for `within_days`, in milliseconds.
    now: i64,
}

/// The latest message and the number of conversations of contact `c` (computed, never
/// stored: the webhook path writes no contact row per message).
pub(crate) const LAST_MESSAGE_AT: &str =
    "(SELECT MAX(cv.last_message_at) FROM conversations cv WHERE cv.contact_id = c.id)";
pub(crate) const CONVERSATION_COUNT: &str =
    "(SELECT COUNT(*) FROM conversations cv WHERE cv.contact_id = c.id)";

const DAY_MS: i64 = 86_400_000;

impl Sql {
    /// Placeholders from `$first` on.
    pub fn new(dialect: Dialect, first: usize, now: i64) -> Sql {
        Sql {
            dialect,
            params: Vec::new(),
            next: first,
            now,
        }
    }

    /// Binds `p` and answers its placeholder.
    pub fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        let n = self.next;
        self.next += 1;
        format!("${n}")
    }

    /// The filter as one condition.
    pub fn filter(&mut self, f: &Filter) -> String {
        let (nodes, joiner, empty) = match f {
            Filter::All(n) => (n, " AND ", "1 = 1"),
            Filter::Any(n) => (n, " OR ", "1 = 0"),
        };
        if nodes.is_empty() {
            return empty.into();
        }
        let parts: Vec<String> = nodes
            .iter()
            .map(|n| match n {
                Node::Group(g) => self.filter(g),
                Node::Clause(c) => self.clause(c),
            })
            .collect();
        format!("({})", parts.join(joiner))
    }

    fn text(&mut self, s: &str) -> String {
        self.bind(Param::Text(s.to_string()))
    }

    fn clause(&mut self, c: &Clause) -> String {
        match &c.field {
            Field::Name => self.text_field("c.name", c),
            Field::Email => self.text_field("c.email", c),
            Field::Notes => self.text_field("c.notes", c),
            Field::Phone => self.text_field("c.phone", c),
            Field::Type => self.plain("c.type", c),
            Field::Consent => self.plain("c.consent", c),
            Field::Session => match &c.value {
                Operand::Text(name) => {
                    let p = self.text(name);
                    let eq = format!(
                        "c.session_id = (SELECT s.id FROM wa_sessions s WHERE s.name = {p})"
                    );
                    negate_if(c.op == Op::Ne, eq)
                }
                _ => "1 = 0".into(),
            },
            Field::OwnerId => match (&c.op, &c.value) {
                (Op::Exists, _) => "c.owner_id IS NOT NULL".into(),
                (Op::NotExists, _) => "c.owner_id IS NULL".into(),
                (op, Operand::Int(id)) => {
                    let p = self.bind(Param::Int(*id));
                    negate_if(*op == Op::Ne, format!("c.owner_id = {p}"))
                }
                _ => "1 = 0".into(),
            },
            Field::OptedOut => match c.value {
                Operand::Bool(true) => "COALESCE(c.consent, '') = 'opted_out'".into(),
                _ => "COALESCE(c.consent, '') <> 'opted_out'".into(),
            },
            Field::Tags => self.tags(c),
            Field::LifetimeSpend => self.compare("c.lifetime_spend_cents", c),
            Field::ConversationCount => self.compare(CONVERSATION_COUNT, c),
            Field::LastMessageAt => self.last_message(c),
            Field::CreatedAt => self.time("c.created_at", c),
            Field::Campaign(e) => self.campaign(*e, c),
            Field::Attribute { name, kind } => self.attribute(name, *kind, c),
        }
    }

    /// A campaign's message to the contact, as far as `e` (one campaign's, or any's).
    fn campaign(&mut self, e: Engagement, c: &Clause) -> String {
        let stamp = match e {
            Engagement::Received => "queued_at",
            Engagement::Read => "read_at",
            Engagement::Replied => "replied_at",
        };
        let reached = format!(
            "SELECT 1 FROM campaign_recipients cr WHERE cr.contact_id = c.id AND cr.{stamp} IS NOT NULL"
        );
        match (&c.op, &c.value) {
            (op @ (Op::Eq | Op::Ne), Operand::Int(id)) => {
                let p = self.bind(Param::Int(*id));
                negate_if(
                    *op == Op::Ne,
                    format!("EXISTS ({reached} AND cr.campaign_id = {p})"),
                )
            }
            (Op::NotExists, _) => format!("NOT EXISTS ({reached})"),
            _ => format!("EXISTS ({reached})"),
        }
    }

    /// Name, email, notes, phone: equal or containing, ignoring case.
    fn text_field(&mut self, col: &str, c: &Clause) -> String {
        let lowered = format!("lower(COALESCE({col}, ''))");
        match (&c.op, &c.value) {
            (Op::Exists, _) => format!("COALESCE({col}, '') <> ''"),
            (Op::NotExists, _) => format!("COALESCE({col}, '') = ''"),
            (op @ (Op::Eq | Op::Ne), Operand::Text(v)) => {
                let p = self.text(&v.to_lowercase());
                negate_if(*op == Op::Ne, format!("{lowered} = {p}"))
            }
            (op @ (Op::Contains | Op::NotContains), Operand::Text(v)) => {
                let p = self.text(&super::contains_pattern(v));
                negate_if(
                    *op == Op::NotContains,
                    format!("{lowered} LIKE {p} ESCAPE '\\'"),
                )
            }
            _ => "1 = 0".into(),
        }
    }

    /// Type and consent: exact values.
    fn plain(&mut self, col: &str, c: &Clause) -> String {
        match (&c.op, &c.value) {
            (Op::Exists, _) => format!("{col} IS NOT NULL"),
            (Op::NotExists, _) => format!("{col} IS NULL"),
            (op @ (Op::Eq | Op::Ne), Operand::Text(v)) => {
                let p = self.text(v);
                negate_if(*op == Op::Ne, format!("{col} = {p}"))
            }
            (Op::In, Operand::Texts(vs)) => {
                let ps: Vec<String> = vs.iter().map(|v| self.text(v)).collect();
                format!("{col} IN ({})", ps.join(", "))
            }
            _ => "1 = 0".into(),
        }
    }

    fn tags(&mut self, c: &Clause) -> String {
        let has = |cond: &str| {
            format!("EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id{cond})")
        };
        match (&c.op, &c.value) {
            (Op::Exists, _) => has(""),
            (Op::NotExists, _) => format!("NOT {}", has("")),
            (op @ (Op::Contains | Op::NotContains), Operand::Text(v)) => {
                let p = self.text(v);
                let e = has(&format!(" AND t.tag = {p}"));
                negate_if(*op == Op::NotContains, e)
            }
            (Op::In, Operand::Texts(vs)) => {
                let ps: Vec<String> = vs.iter().map(|v| self.text(v)).collect();
                has(&format!(" AND t.tag IN ({})", ps.join(", ")))
            }
            _ => "1 = 0".into(),
        }
    }

    /// A number compared with a bound integer.
    fn compare(&mut self, expr: &str, c: &Clause) -> String {
        let Operand::Int(v) = c.value else {
            return "1 = 0".into();
        };
        let p = self.bind(Param::Int(v));
        match c.op {
            Op::Ne => negate_if(true, format!("{expr} = {p}")),
            op => format!("{expr} {} {p}", symbol(op)),
        }
    }

    /// A time in milliseconds: absolute (`gt` an RFC 3339 time) or relative to now.
    fn time(&mut self, expr: &str, c: &Clause) -> String {
        match (&c.op, &c.value) {
            (Op::Exists, _) => format!("{expr} IS NOT NULL"),
            (Op::NotExists, _) => format!("{expr} IS NULL"),
            (Op::WithinDays, Operand::Int(days)) => {
                let p = self.bind(Param::Int(self.now - days * DAY_MS));
                format!("{expr} >= {p}")
            }
            (Op::NotWithinDays, Operand::Int(days)) => {
                let p = self.bind(Param::Int(self.now - days * DAY_MS));
                format!("NOT COALESCE({expr} >= {p}, FALSE)")
            }
            (op, Operand::Time(ms)) => {
                let p = self.bind(Param::Int(*ms));
                format!("{expr} {} {p}", symbol(*op))
            }
            _ => "1 = 0".into(),
        }
    }

    /// The latest message of the contact's conversations, compared through EXISTS rather
    /// than `MAX(…)` per contact: the database answers it with one semi-join over the
    /// conversations (a count over 100,000 contacts on PostgreSQL: 235 ms with MAX).
    fn last_message(&mut self, c: &Clause) -> String {
        let any = |cond: &str| {
            format!(
                "EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = c.id \
                 AND cv.last_message_at IS NOT NULL{cond})"
            )
        };
        match (&c.op, &c.value) {
            (Op::Exists, _) => any(""),
            (Op::NotExists, _) => format!("NOT {}", any("")),
            (Op::WithinDays, Operand::Int(days)) => {
                let p = self.bind(Param::Int(self.now - days * DAY_MS));
                any(&format!(" AND cv.last_message_at >= {p}"))
            }
            (Op::NotWithinDays, Operand::Int(days)) => {
                let p = self.bind(Param::Int(self.now - days * DAY_MS));
                format!("NOT {}", any(&format!(" AND cv.last_message_at >= {p}")))
            }
            // The latest is after t: some conversation's is.
            (op @ (Op::Gt | Op::Gte), Operand::Time(ms)) => {
                let p = self.bind(Param::Int(*ms));
                any(&format!(" AND cv.last_message_at {} {p}", symbol(*op)))
            }
            // The latest is before t: there is one, and none at or after t.
            (op @ (Op::Lt | Op::Lte), Operand::Time(ms)) => {
                let p = self.bind(Param::Int(*ms));
                let not_before = if *op == Op::Lt { ">=" } else { ">" };
                format!(
                    "({} AND NOT {})",
                    any(""),
                    any(&format!(" AND cv.last_message_at {not_before} {p}"))
                )
            }
            _ => "1 = 0".into(),
        }
    }

    /// The attribute `name` as SQL of its kind (NULL where it is absent or of another
    /// JSON type, so a comparison never errs on a value of the wrong type).
    fn attribute_expr(&mut self, name: &str, kind: AttrKind) -> String {
        match self.dialect {
            Dialect::Postgres => {
                let k1 = self.text(name);
                let k2 = self.text(name);
                let (json_type, cast) = match kind {
                    AttrKind::Text | AttrKind::Date => ("string", ""),
                    AttrKind::Number => ("number", "::float8"),
                    AttrKind::Boolean => ("boolean", "::boolean"),
                };
                format!(
                    "(CASE WHEN jsonb_typeof(c.attributes::jsonb -> {k1}) = '{json_type}' \
                     THEN (c.attributes::jsonb ->> {k2}){cast} END)"
                )
            }
            Dialect::Sqlite => {
                // Names are plain (a-z, 0-9, _), so the quoted path needs no escaping.
                let path = format!("$.\"{name}\"");
                let p1 = self.text(&path);
                if kind == AttrKind::Boolean {
                    return format!(
                        "(CASE json_type(c.attributes, {p1}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"
                    );
                }
                let p2 = self.text(&path);
                let types = match kind {
                    AttrKind::Number => "('integer', 'real')",
                    _ => "('text')",
                };
                format!(
                    "(CASE WHEN json_type(c.attributes, {p1}) IN {types} THEN json_extract(c.attributes, {p2}) END)"
                )
            }
        }
    }

    fn attribute(&mut self, name: &str, kind: AttrKind, c: &Clause) -> String {
        match c.op {
            Op::Exists | Op::NotExists => {
                let present = match self.dialect {
                    Dialect::Postgres => {
                        let k = self.text(name);
                        format!("jsonb_typeof(c.attributes::jsonb -> {k}) IN ('string', 'number', 'boolean')")
                    }
                    Dialect::Sqlite => {
                        let p = self.text(&format!("$.\"{name}\""));
                        format!("COALESCE(json_type(c.attributes, {p}), 'null') <> 'null'")
                    }
                };
                negate_if(c.op == Op::NotExists, present)
            }
            _ => {
                let expr = self.attribute_expr(name, kind);
                match (&c.op, &c.value) {
                    (Op::In, Operand::Texts(vs)) => {
                        let ps: Vec<String> = vs.iter().map(|v| self.text(v)).collect();
                        format!("{expr} IN ({})", ps.join(", "))
                    }
                    (op @ (Op::Contains | Op::NotContains), Operand::Text(v)) => {
                        let p = self.text(&super::contains_pattern(v));
                        negate_if(
                            *op == Op::NotContains,
                            format!("lower({expr}) LIKE {p} ESCAPE '\\'"),
                        )
                    }
                    (op, value) => {
                        let p = match value {
                            Operand::Text(s) => self.text(s),
                            Operand::Float(f) => self.bind(Param::Float(*f)),
                            Operand::Bool(b) => self.bind(Param::Bool(*b)),
                            Operand::Int(i) => self.bind(Param::Int(*i)),
                            _ => return "1 = 0".into(),
                        };
                        match op {
                            Op::Ne => negate_if(true, format!("{expr} = {p}")),
                            op => format!("{expr} {} {p}", symbol(*op)),
                        }
                    }
                }
            }
        }
    }
}

/// `cond`, or its negation where NULL (nothing to compare) counts as "not equal".
fn negate_if(negate: bool, cond: String) -> String {
    if negate {
        format!("NOT COALESCE({cond}, FALSE)")
    } else {
        cond
    }
}

fn symbol(op: Op) -> &'static str {
    match op {
        Op::Gt => ">",
        Op::Gte => ">=",
        Op::Lt => "<",
        Op::Lte => "<=",
        _ => "=",
    }
}

/// Binds `params` to `query`, in order (a macro: the query's type differs per backend).
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::store::contact_filter::Param::Text(s) => q.bind(s.clone()),
                $crate::store::contact_filter::Param::Int(i) => q.bind(*i),
                $crate::store::contact_filter::Param::Float(f) => q.bind(*f),
                $crate::store::contact_filter::Param::Bool(b) => q.bind(*b),
            };
        }
        q
    }};
}
pub(crate) use bind_params;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::segment_filter::{Mode, Schema};
    use serde_json::json;

    fn compile(d: Dialect, v: serde_json::Value) -> Sql {
        let f = Filter::parse(&v, "filter", &Schema::default(), Mode::Strict).expect("valid");
        let mut sql = Sql::new(d, 3, 1_000 * DAY_MS);
        let text = sql.filter(&f);
        sql.params.insert(0, Param::Text(text));
        sql
    }

    #[test]
    fn values_are_bound_never_written() {
        let evil = "x'); DROP TABLE contacts; --";
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = compile(
                d,
                json!({"any": [
                    {"field": "name", "op": "eq", "value": evil},
                    {"field": "tags", "op": "contains", "value": evil},
                    {"field": "attributes.city", "op": "eq", "value": evil},
                    {"field": "type", "op": "in", "value": [evil]}
                ]}),
            );
            let Param::Text(text) = &sql.params[0] else {
                panic!()
            };
            assert!(!text.contains("DROP"), "{text}");
            assert!(
                text.starts_with("(lower(COALESCE(c.name, '')) = $3 OR"),
                "{text}"
            );
            assert!(sql.params.contains(&Param::Text(evil.to_string())));
        }
    }

    #[test]
    fn relative_times_count_back_from_now() {
        let sql = compile(
            Dialect::Postgres,
            json!({"all": [{"field": "last_message_at", "op": "within_days", "value": 30}]}),
        );
        assert_eq!(sql.params[1], Param::Int(970 * DAY_MS));
        let Param::Text(text) = &sql.params[0] else {
            panic!()
        };
        assert!(text.contains("cv.last_message_at >= $3"), "{text}");
        let sql = compile(
            Dialect::Sqlite,
            json!({"all": [{"field": "created_at", "op": "within_days", "value": 30}]}),
        );
        let Param::Text(text) = &sql.params[0] else {
            panic!()
        };
        assert_eq!(text, "(c.created_at >= $3)");
    }

    #[test]
    fn empty_groups() {
        let mut sql = Sql::new(Dialect::Sqlite, 1, 0);
        assert_eq!(sql.filter(&Filter::All(vec![])), "1 = 1");
        assert_eq!(sql.filter(&Filter::Any(vec![])), "1 = 0");
    }
}
