//! The conversation list's statements: the access filter, the plain filters and the
//! cursor, in activity order (newest first) on the activity index; and a search (`q`),
//! which goes in two parts so that it is quick whether its text is common or rare:
//!
//! 1. the next [`SEARCH_WINDOW`] conversations of the list are read in order and each is
//!    checked (its chat id and title, its contact, its messages through the conversation's
//!    index): a text found in many conversations fills the page there;
//! 2. when the window did not fill the page, the rest comes from the text search indexes
//!    ([`Search`]): the few messages and contacts holding the text name their
//!    conversations, and only those are sorted.
//!
//! Both parts say the same thing (a conversation past the window is found by part 2 exactly
//! when part 1 would have found it), so pages and cursors are those of the plain list.

use super::conversations::{Conversation, Cursor, Filter, SELECT_PREFIX};
use super::search::Search;
use super::{id_list, Db, Result};
use crate::domain::access::ConversationFilter;

/// Conversations checked one by one before a search turns to its indexes: each costs a
/// read of its messages (~0.03 ms), so the window stays small; a text in a quarter of the
/// conversations or more still fills a page of 50 there.
const SEARCH_WINDOW: i64 = 250;

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
}

/// A value bound after the nine every statement has.
enum Extra<'a> {
    Text(&'a str),
    Int(i64),
}

/// The statement of `part` and its values past `$9`, numbered in the order they are
/// bound. Only placeholders and fixed text go into the text.
fn statement<'a>(f: &'a Filter, part: Part<'a>) -> (String, Vec<Extra<'a>>) {
    let mut sql = String::from(
        "WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || c.status || ',%')) AND ($2 IS NULL OR c.session_id = $2)
           AND ($3 IS NULL OR c.assignee_id = $3) AND ($4 = FALSE OR c.assignee_id IS NULL)
           AND ($5 IS NULL OR c.last_message_at < $5 OR (c.last_message_at = $5 AND c.id < $6))
           AND ($8 IS NULL OR (',' || $8 || ',') LIKE ('%,' || CAST(c.session_id AS TEXT) || ',%'))
           AND ($9 IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $9)",
    );
    let mut extras = Vec::new();
    let mut next = |e: Extra<'a>| {
        extras.push(e);
        format!("${}", 9 + extras.len())
    };
    match part {
        Part::Plain => {}
        Part::Window(s, end) => {
            let p = next(Extra::Text(&s.like));
            if let Some(end) = end {
                let (at, id) = (next(Extra::Int(end.at)), next(Extra::Int(end.id)));
                sql.push_str(&format!(
                    "
           AND (c.last_message_at > {at} OR (c.last_message_at = {at} AND c.id >= {id}))"
                ));
            }
            // `OFFSET 0`: PostgreSQL would otherwise run each EXISTS once for every row
            // holding the text (a hashed subplan, from the trigram index) rather than for
            // the window's few conversations, which is slow for a common text.
            sql.push_str(&format!(
                "
           AND (lower(c.chat_id) LIKE {p} ESCAPE '\\' OR lower(COALESCE(c.title, '')) LIKE {p} ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM contacts ct WHERE ct.id = c.contact_id
                    AND ct.search_text LIKE {p} ESCAPE '\\' LIMIT 1 OFFSET 0)
                OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                    AND lower(m.text) LIKE {p} ESCAPE '\\' LIMIT 1 OFFSET 0))"
            ));
        }
        Part::Indexed(s) => {
            let p = next(Extra::Text(&s.like));
            // PostgreSQL's trigram indexes take the LIKE pattern itself
            let t = match &s.phrase {
                Some(phrase) => next(Extra::Text(phrase)),
                None => p.clone(),
            };
            // A person chat's own chat id is its contact's too, so only conversations
            // without a contact, or with a title, are read for their own fields (the
            // partial index `conversations_own_search`).
            sql.push_str(&format!(
                "
           AND c.id IN (
                SELECT m.conversation_id FROM messages m WHERE {}
                UNION SELECT c2.id FROM conversations c2
                    WHERE c2.contact_id IN (SELECT ct.id FROM contacts ct WHERE {})
                UNION SELECT c3.id FROM conversations c3
                    WHERE (c3.contact_id IS NULL OR c3.title IS NOT NULL)
                      AND (lower(c3.chat_id) LIKE {p} ESCAPE '\\' OR lower(COALESCE(c3.title, '')) LIKE {p} ESCAPE '\\'))",
                s.message("m", &t),
                s.contact("ct", &t),
            ));
        }
    }
    if let Some(tag) = f.tag.as_deref() {
        let t = next(Extra::Text(tag));
        sql.push_str(&format!(
            "
           AND EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id AND t.tag = {t})"
        ));
    }
    if let Some(contact) = f.contact_id {
        let c = next(Extra::Int(contact));
        sql.push_str(&format!("\n           AND c.contact_id = {c}"));
    }
    sql.push_str("\n         ORDER BY c.last_message_at DESC, c.id DESC LIMIT $7");
    (sql, extras)
}

/// Runs `sql` (a statement of [`statement`], after `select`) with the nine common values
/// and `extras`.
async fn fetch<T>(
    db: &Db,
    select: &str,
    (sql, extras): (String, Vec<Extra<'_>>),
    access: &ConversationFilter,
    f: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<T>>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let sql = format!("{select}{sql}");
    // The statuses as one comma list, matched like the session lists: one statement
    // whatever their number.
    let statuses = (!f.status.is_empty()).then(|| {
        f.status
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    });
    let plain = extras.is_empty();
    let rows = on_pool!(db, p => {
        // Anything beyond the plain filters is planned for its values each time (an
        // unnamed statement): how many rows hold a text decides how the indexes are used.
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .persistent(plain)
            .bind(statuses.as_deref()).bind(f.session_id).bind(f.assignee_id).bind(f.unassigned)
            .bind(after.map(|c| c.at)).bind(after.map(|c| c.id)).bind(limit)
            .bind(id_list(access.sessions.as_deref())).bind(access.mine_or_unassigned);
        for e in &extras {
            q = match e {
                Extra::Text(t) => q.bind(*t),
                Extra::Int(i) => q.bind(*i),
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
    let Some(q) = f.q.as_deref() else {
        return fetch(
            db,
            SELECT_PREFIX,
            statement(f, Part::Plain),
            access,
            f,
            after,
            limit,
        )
        .await;
    };
    let search = Search::new(db, q);
    // Where the window ends: the SEARCH_WINDOW-th conversation the list would show next.
    let ends: Vec<(i64, i64)> = fetch(
        db,
        "SELECT c.last_message_at, c.id FROM conversations c ",
        statement(f, Part::Plain),
        access,
        f,
        after,
        SEARCH_WINDOW,
    )
    .await?;
    let end = (ends.len() as i64 == SEARCH_WINDOW)
        .then(|| ends.last().map(|&(at, id)| Cursor { at, id }))
        .flatten();
    let mut found: Vec<Conversation> = fetch(
        db,
        SELECT_PREFIX,
        statement(f, Part::Window(&search, end)),
        access,
        f,
        after,
        limit,
    )
    .await?;
    let Some(end) = end else { return Ok(found) };
    if found.len() as i64 >= limit {
        return Ok(found);
    }
    let rest = limit - found.len() as i64;
    found.extend(
        fetch::<Conversation>(
            db,
            SELECT_PREFIX,
            statement(f, Part::Indexed(&search)),
            access,
            f,
            Some(end),
            rest,
        )
        .await?,
    );
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::{statement, Part};
    use crate::store::conversations::{Cursor, Filter};
    use crate::store::search::Search;

    #[test]
    fn extras_are_numbered_in_turn_and_absent_unless_asked() {
        let none = Filter::default();
        let plain = statement(&none, Part::Plain);
        assert!(
            plain.1.is_empty() && !plain.0.contains("$10"),
            "{}",
            plain.0
        );
        let tagged = Filter {
            tag: Some("vip".into()),
            contact_id: Some(3),
            ..Default::default()
        };
        let (sql, extras) = statement(&tagged, Part::Plain);
        assert!(
            sql.contains("t.tag = $10") && sql.contains("c.contact_id = $11"),
            "{sql}"
        );
        assert_eq!(extras.len(), 2);
        let like = Search {
            like: "%ann%".into(),
            phrase: None,
        };
        let end = Some(Cursor { at: 5, id: 6 });
        let (sql, extras) = statement(&tagged, Part::Window(&like, end));
        assert!(sql.contains("lower(m.text) LIKE $10 ESCAPE '\\'"), "{sql}");
        assert!(
            sql.contains("c.last_message_at > $11") && sql.contains("c.id >= $12"),
            "{sql}"
        );
        assert!(
            sql.contains("t.tag = $13") && sql.contains("c.contact_id = $14"),
            "{sql}"
        );
        assert_eq!(extras.len(), 5);
        // PostgreSQL: one pattern for everything; SQLite: the FTS phrase beside it
        let (sql, extras) = statement(&none, Part::Indexed(&like));
        assert!(
            sql.contains("lower(m.text) LIKE $10") && !sql.contains("$11"),
            "{sql}"
        );
        assert_eq!(extras.len(), 1);
        let phrase = Search {
            like: "%ann%".into(),
            phrase: Some("\"ann\"".into()),
        };
        let (sql, extras) = statement(&none, Part::Indexed(&phrase));
        assert!(sql.contains("messages_fts MATCH $11"), "{sql}");
        assert!(sql.contains("lower(c3.chat_id) LIKE $10"), "{sql}");
        assert_eq!(extras.len(), 2);
    }
}
