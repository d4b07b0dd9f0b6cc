//! The conversation list's statements: the access filter, the plain filters and the
//! cursor, in activity order (newest first) on the activity index; and a search (`q`),
//! which goes in two parts so that it is quick whether its text is common or rare:
//!
//! 1. the next [`SEARCH_WINDOW`] conversations of the list are read in order and each is
//!    checked (its chat id and title, its contact, its messages through the conversation's
//!    index): a text found in many conversations fills the page there;
//! 2. when the window did not fill the page, the rest comes from the text search indexes
//!    ([`Search`]): the few messages and contacts holding the text name their
//!    conversations, and only those are sorted. On PostgreSQL a text the window found
//!    several times (a common name) instead walks on along the list, each conversation
//!    checked against the sets of messages and contacts holding it: sorting thousands of
//!    named conversations took a hundred milliseconds where the walk stops at the page.
//!
//! Both parts say the same thing (a conversation past the window is found by part 2 exactly
//! when part 1 would have found it), so pages and cursors are those of the plain list.

use super::contact_filter::Dialect;
use super::conversations::{Conversation, Cursor, Filter, SELECT_PREFIX};
use super::search::Search;
use super::{Db, Result};
use crate::domain::access::ConversationFilter;

/// Conversations checked one by one before a search turns to its indexes: each costs a
/// read of its messages (~0.03 ms), so the window stays small; a text in a quarter of the
/// conversations or more still fills a page of 50 there.
const SEARCH_WINDOW: i64 = 250;

/// Matches in the window from which a search past it walks the list (PostgreSQL): about
/// one conversation in a hundred holds the text, so a page of 50 is some thousands of
/// conversations down, and the sets it is checked against are large.
const DENSE_FROM: usize = 3;

/// Which statement of the list.
#[derive(Clone, Copy)]
enum Part<'a> {
    /// No search.
    Plain,
    /// The search checked on each conversation from the cursor down to `end` (inclusive;
    /// `None`: to the end of the list).
    Window(&'a Search, Option<Cursor>),
    /// The search's conversations from the indexes (past the window: the cursor).
    Indexed(&'a Search),
    /// The same conversations as `Indexed`, found by walking the list on and checking each
    /// against the sets the indexes give (PostgreSQL, a common text).
    Dense(&'a Search),
}

/// A value bound to a statement, in the order of its placeholders.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Text(&'a str),
    Int(i64),
}

/// A statement's `WHERE` and its values. Only the filters in use go into the text: a
/// catch-all (`$n IS NULL OR …`) hides from the planner which indexes fit, and PostgreSQL's
/// generic plans for it sorted every visible row.
struct Statement<'a> {
    filter: String,
    values: Vec<Value<'a>>,
    /// The page size's placeholder.
    limit: String,
    /// An agent's list in two branches (theirs, nobody's): the agent's placeholder.
    branches: Option<String>,
}

impl<'a> Statement<'a> {
    fn bind(&mut self, v: Value<'a>) -> String {
        self.values.push(v);
        format!("${}", self.values.len())
    }

    fn and(&mut self, clause: &str) {
        self.filter.push_str(if self.filter.is_empty() {
            "WHERE "
        } else {
            "\n           AND "
        });
        self.filter.push_str(clause);
    }

    /// `column IN (…)`, one placeholder a value.
    fn one_of(&mut self, column: &str, values: impl IntoIterator<Item = Value<'a>>) {
        let list: Vec<String> = values.into_iter().map(|v| self.bind(v)).collect();
        self.and(&format!("{column} IN ({})", list.join(", ")));
    }
}

/// The statement of `part` for `access` and `f`, after the cursor `after`, `limit` rows.
fn statement<'a>(
    d: Dialect,
    f: &'a Filter,
    part: Part<'a>,
    access: &ConversationFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Statement<'a> {
    let mut st = Statement {
        filter: String::new(),
        values: Vec::new(),
        limit: String::new(),
        branches: None,
    };
    st.limit = st.bind(Value::Int(limit));
    if !f.status.is_empty() {
        st.one_of("c.status", f.status.iter().map(|s| Value::Text(s.as_str())));
    }
    if let Some(session) = f.session_id {
        let p = st.bind(Value::Int(session));
        st.and(&format!("c.session_id = {p}"));
    }
    if let Some(assignee) = f.assignee_id {
        let p = st.bind(Value::Int(assignee));
        st.and(&format!("c.assignee_id = {p}"));
    }
    if f.unassigned {
        st.and("c.assignee_id IS NULL");
    }
    if let Some(after) = after {
        let (at, id) = (st.bind(Value::Int(after.at)), st.bind(Value::Int(after.id)));
        st.and(&format!(
            "(c.last_message_at < {at} OR (c.last_message_at = {at} AND c.id < {id}))"
        ));
    }
    if let Some(sessions) = &access.sessions {
        if sessions.is_empty() {
            st.and("1 = 0");
        } else {
            // On SQLite a unary plus keeps the viewer's sessions a filter, never a way in:
            // an agent's branches walk their activity indexes, which SQLite otherwise gave
            // up for the session's (conversations_session_activity, there for
            // `?session=`), sorting a whole session to answer a page. PostgreSQL has no
            // such index and plans better with the plain column.
            let column = match d {
                Dialect::Sqlite => "+c.session_id",
                Dialect::Postgres => "c.session_id",
            };
            st.one_of(column, sessions.iter().map(|&id| Value::Int(id)));
        }
    }
    if let Some(me) = access.mine_or_unassigned {
        if f.assignee_id.is_none() && !f.unassigned {
            st.branches = Some(st.bind(Value::Int(me)));
        } else {
            let p = st.bind(Value::Int(me));
            st.and(&format!("(c.assignee_id IS NULL OR c.assignee_id = {p})"));
        }
    }
    match part {
        Part::Plain => {}
        Part::Window(s, end) => {
            let p = st.bind(Value::Text(&s.like));
            if let Some(end) = end {
                let (at, id) = (st.bind(Value::Int(end.at)), st.bind(Value::Int(end.id)));
                st.and(&format!(
                    "(c.last_message_at > {at} OR (c.last_message_at = {at} AND c.id >= {id}))"
                ));
            }
            // `OFFSET 0`: PostgreSQL would otherwise run each EXISTS once for every row
            // holding the text (a hashed subplan, from the trigram index) rather than for
            // the window's few conversations, which is slow for a common text.
            st.and(&format!(
                "(lower(c.chat_id) LIKE {p} ESCAPE '\\' OR lower(COALESCE(c.title, '')) LIKE {p} ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM contacts ct WHERE ct.id = c.contact_id
                    AND ct.search_text LIKE {p} ESCAPE '\\' LIMIT 1 OFFSET 0)
                OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                    AND lower(m.text) LIKE {p} ESCAPE '\\' LIMIT 1 OFFSET 0))"
            ));
        }
        Part::Dense(s) => {
            let p = st.bind(Value::Text(&s.like));
            // `Indexed`'s three sources as semi-joins: each becomes a hashed set the walk
            // along the activity index checks
            st.and(&format!(
                "(c.id IN (SELECT m.conversation_id FROM messages m WHERE {})
                OR c.contact_id IN (SELECT ct.id FROM contacts ct WHERE {})
                OR ((c.contact_id IS NULL OR c.title IS NOT NULL)
                    AND (lower(c.chat_id) LIKE {p} ESCAPE '\\' OR lower(COALESCE(c.title, '')) LIKE {p} ESCAPE '\\')))",
                s.message("m", &p, &p),
                s.contact("ct", &p),
            ));
        }
        Part::Indexed(s) => {
            let p = st.bind(Value::Text(&s.like));
            // PostgreSQL's trigram indexes take the LIKE pattern itself
            let t = match &s.phrase {
                Some(phrase) => st.bind(Value::Text(phrase)),
                None => p.clone(),
            };
            // A person chat's own chat id is its contact's too, so only conversations
            // without a contact, or with a title, are read for their own fields (the
            // partial index `conversations_own_search`).
            st.and(&format!(
                "c.id IN (
                SELECT m.conversation_id FROM messages m WHERE {}
                UNION SELECT c2.id FROM conversations c2
                    WHERE c2.contact_id IN (SELECT ct.id FROM contacts ct WHERE {})
                UNION SELECT c3.id FROM conversations c3
                    WHERE (c3.contact_id IS NULL OR c3.title IS NOT NULL)
                      AND (lower(c3.chat_id) LIKE {p} ESCAPE '\\' OR lower(COALESCE(c3.title, '')) LIKE {p} ESCAPE '\\'))",
                s.message("m", &t, &p),
                s.contact("ct", &t),
            ));
        }
    }
    if let Some(tag) = f.tag.as_deref() {
        let t = st.bind(Value::Text(tag));
        st.and(&format!(
            "EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id AND t.tag = {t})"
        ));
    }
    if let Some(contact) = f.contact_id {
        let c = st.bind(Value::Int(contact));
        st.and(&format!("c.contact_id = {c}"));
    }
    st
}

/// The whole statement: `select` (which names the columns `last_message_at` and `id`),
/// then the filter, in activity order. An agent's list is two walks, one per branch
/// (theirs on `conversations_assignee_activity`, nobody's), merged and cut at the page:
/// as one statement (`assignee_id IS NULL OR assignee_id = me`) the database filtered or
/// sorted every visible row.
fn compose(select: &str, st: &Statement) -> String {
    let limit = &st.limit;
    let order = format!("\n         ORDER BY c.last_message_at DESC, c.id DESC LIMIT {limit}");
    let Some(me) = &st.branches else {
        return format!("{select}{}{order}", st.filter);
    };
    let branch = |clause: &str| {
        let glue = if st.filter.is_empty() {
            "WHERE "
        } else {
            "\n           AND "
        };
        format!("{select}{}{glue}{clause}{order}", st.filter)
    };
    format!(
        "SELECT * FROM ({}) AS mine
         UNION ALL
         SELECT * FROM ({}) AS open
         ORDER BY last_message_at DESC, id DESC LIMIT {limit}",
        branch(&format!("c.assignee_id = {me}")),
        branch("c.assignee_id IS NULL"),
    )
}

/// Runs `st` after `select`.
async fn fetch<T>(db: &Db, select: &str, st: Statement<'_>) -> Result<Vec<T>>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let sql = compose(select, &st);
    // A search is planned for its text each time (an unnamed statement): how many rows
    // hold it decides how the indexes are used. Plain lists keep their prepared plan.
    let plain = !st
        .values
        .iter()
        .any(|v| matches!(v, Value::Text(t) if t.contains('%')));
    let rows = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(plain);
        for v in &st.values {
            q = match v {
                Value::Text(t) => q.bind(*t),
                Value::Int(i) => q.bind(*i),
            };
        }
        q.fetch_all(p).await
    })?;
    Ok(rows)
}

/// The conversations `access` lets through, filtered by `f`, newest activity first.
pub async fn list(
    db: &Db,
    access: &ConversationFilter,
    f: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Conversation>> {
    let d = Dialect::of(db);
    // A session outside the viewer's: nothing to read (the statement would walk every
    // visible conversation to find none).
    if let (Some(wanted), Some(allowed)) = (f.session_id, access.sessions.as_deref()) {
        if !allowed.contains(&wanted) {
            return Ok(Vec::new());
        }
    }
    let Some(q) = f.q.as_deref() else {
        return fetch(
            db,
            SELECT_PREFIX,
            statement(d, f, Part::Plain, access, after, limit),
        )
        .await;
    };
    let search = Search::new(db, q);
    // Where the window ends: the SEARCH_WINDOW-th conversation the list would show next.
    let ends: Vec<(i64, i64)> = fetch(
        db,
        "SELECT c.last_message_at, c.id FROM conversations c ",
        statement(d, f, Part::Plain, access, after, SEARCH_WINDOW),
    )
    .await?;
    let end = (ends.len() as i64 == SEARCH_WINDOW)
        .then(|| ends.last().map(|&(at, id)| Cursor { at, id }))
        .flatten();
    let window = statement(d, f, Part::Window(&search, end), access, after, limit);
    let mut found: Vec<Conversation> = fetch(db, SELECT_PREFIX, window).await?;
    let Some(end) = end else { return Ok(found) };
    if found.len() as i64 >= limit {
        return Ok(found);
    }
    let rest = limit - found.len() as i64;
    let part = if d == Dialect::Postgres && found.len() >= DENSE_FROM {
        Part::Dense(&search)
    } else {
        Part::Indexed(&search)
    };
    let indexed = statement(d, f, part, access, Some(end), rest);
    found.extend(fetch::<Conversation>(db, SELECT_PREFIX, indexed).await?);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::{compose, statement, Dialect, Part, Value};
    use crate::domain::access::ConversationFilter;
    use crate::domain::ConversationStatus;
    use crate::store::conversations::{Cursor, Filter};
    use crate::store::search::Search;

    const SELECT: &str = "SELECT c.id FROM conversations c ";

    #[test]
    fn only_the_filters_in_use_are_in_the_statement_numbered_in_turn() {
        let all = ConversationFilter::default();
        let none = Filter::default();
        let plain = statement(Dialect::Postgres, &none, Part::Plain, &all, None, 50);
        assert_eq!(plain.filter, "");
        assert_eq!(plain.values, vec![Value::Int(50)]);
        assert_eq!(
            compose(SELECT, &plain),
            format!("{SELECT}\n         ORDER BY c.last_message_at DESC, c.id DESC LIMIT $1")
        );
        let f = Filter {
            status: vec![ConversationStatus::Open, ConversationStatus::Pending],
            tag: Some("vip".into()),
            contact_id: Some(3),
            ..Default::default()
        };
        let after = Some(Cursor { at: 5, id: 6 });
        let st = statement(Dialect::Postgres, &f, Part::Plain, &all, after, 50);
        for part in [
            "c.status IN ($2, $3)",
            "c.last_message_at < $4 OR (c.last_message_at = $4 AND c.id < $5)",
            "t.tag = $6",
            "c.contact_id = $7",
        ] {
            assert!(st.filter.contains(part), "{part} in {}", st.filter);
        }
        assert_eq!(st.values.len(), 7);
        let like = Search {
            like: "%ann%".into(),
            phrase: None,
        };
        let end = Some(Cursor { at: 8, id: 9 });
        let st = statement(
            Dialect::Postgres,
            &none,
            Part::Window(&like, end),
            &all,
            None,
            50,
        );
        assert!(
            st.filter.contains("lower(m.text) LIKE $2 ESCAPE '\\'"),
            "{}",
            st.filter
        );
        assert!(
            st.filter.contains("c.last_message_at > $3"),
            "{}",
            st.filter
        );
        // PostgreSQL: one pattern for everything; SQLite: the FTS phrase beside it
        let st = statement(
            Dialect::Postgres,
            &none,
            Part::Indexed(&like),
            &all,
            None,
            50,
        );
        assert!(st.filter.contains("lower(m.text) LIKE $2") && !st.filter.contains("$3"));
        let phrase = Search {
            like: "%ann%".into(),
            phrase: Some("\"ann\"".into()),
        };
        let st = statement(
            Dialect::Sqlite,
            &none,
            Part::Indexed(&phrase),
            &all,
            None,
            50,
        );
        assert!(st.filter.contains("messages_fts MATCH $3"), "{}", st.filter);
        // the messages the indexer has not reached yet, by the pattern
        assert!(
            st.filter.contains("indexed_through") && st.filter.contains("AND text LIKE $2"),
            "{}",
            st.filter
        );
        assert!(
            st.filter.contains("lower(c3.chat_id) LIKE $2"),
            "{}",
            st.filter
        );
    }

    #[test]
    fn an_agents_list_is_two_branches_unless_a_filter_picks_one() {
        let agent = ConversationFilter {
            sessions: Some(vec![1, 4]),
            mine_or_unassigned: Some(7),
        };
        let none = Filter::default();
        let st = statement(Dialect::Postgres, &none, Part::Plain, &agent, None, 50);
        assert_eq!(st.filter, "WHERE c.session_id IN ($2, $3)");
        let on_sqlite = statement(Dialect::Sqlite, &none, Part::Plain, &agent, None, 50);
        assert_eq!(on_sqlite.filter, "WHERE +c.session_id IN ($2, $3)");
        let sql = compose(SELECT, &st);
        assert!(
            sql.contains("AND c.assignee_id = $4")
                && sql.contains("AND c.assignee_id IS NULL")
                && sql.contains("UNION ALL"),
            "{sql}"
        );
        let unassigned = Filter {
            unassigned: true,
            ..Default::default()
        };
        let st = statement(
            Dialect::Postgres,
            &unassigned,
            Part::Plain,
            &agent,
            None,
            50,
        );
        let sql = compose(SELECT, &st);
        assert!(!sql.contains("UNION"), "{sql}");
        assert!(
            sql.contains("(c.assignee_id IS NULL OR c.assignee_id = $4)"),
            "{sql}"
        );
        let nobody = ConversationFilter {
            sessions: Some(vec![]),
            mine_or_unassigned: None,
        };
        let st = statement(Dialect::Postgres, &none, Part::Plain, &nobody, None, 50);
        assert_eq!(st.filter, "WHERE 1 = 0");
    }
}
