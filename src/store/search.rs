//! Finding a text inside contacts and messages (the lists' `q`), through the indexes of
//! migration 0008: trigram GIN indexes on PostgreSQL, which answer `LIKE '%q%'` itself, and
//! FTS5 trigram tables on SQLite, asked with a phrase (FTS5 finds no text shorter than
//! three characters, so a shorter one is looked for with `LIKE` row by row, which is
//! quick because so short a text is found within the first rows).
//!
//! The text is matched anywhere in a field, ignoring case, and `%`, `_` and `\` are plain
//! characters, on both backends.

use super::{contains_pattern, Db};

/// One search text, as the backend's statements bind it.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    /// `%text%` for `LIKE … ESCAPE '\'`, lower-cased.
    pub like: String,
    /// The FTS5 phrase (SQLite, three characters or more); `None`: `like` is used.
    pub phrase: Option<String>,
}

impl Search {
    pub fn new(db: &Db, text: &str) -> Search {
        let phrase = match db {
            Db::Sqlite { .. } if text.chars().count() >= 3 => {
                Some(format!("\"{}\"", text.replace('"', "\"\"")))
            }
            _ => None,
        };
        Search {
            like: contains_pattern(text),
            phrase,
        }
    }

    /// The value the `contact`/`message` conditions bind.
    pub fn bound(&self) -> &str {
        self.phrase.as_deref().unwrap_or(&self.like)
    }

    /// True for the contact `alias` whose searchable text (name, WhatsApp name, phone,
    /// chat id, email, notes) holds the text bound at `p`. Fixed text and placeholders only.
    pub fn contact(&self, alias: &str, p: &str) -> String {
        match self.phrase {
            Some(_) => format!(
                "{alias}.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH {p})"
            ),
            // PostgreSQL keeps the column lower-cased; SQLite's LIKE ignores ASCII case.
            None => format!("{alias}.search_text LIKE {p} ESCAPE '\\'"),
        }
    }

    /// True for the message `alias` whose text holds the text bound at `p`.
    pub fn message(&self, alias: &str, p: &str) -> String {
        match self.phrase {
            Some(_) => format!(
                "{alias}.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {p})"
            ),
            None => format!("lower({alias}.text) LIKE {p} ESCAPE '\\'"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Search;

    fn sqlite() -> super::Db {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().in_memory(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new().connect_lazy_with(opts);
        super::Db::Sqlite {
            read: pool.clone(),
            write: pool,
        }
    }

    #[tokio::test]
    async fn short_texts_and_postgres_use_like_long_ones_on_sqlite_a_phrase() {
        let db = sqlite();
        let s = Search::new(&db, "Ab");
        assert_eq!((s.bound(), s.phrase.is_none()), ("%ab%", true));
        let s = Search::new(&db, "say \"hi\"");
        assert_eq!(s.bound(), "\"say \"\"hi\"\"\"");
        assert!(s.contact("ct", "$10").contains("contacts_fts MATCH $10"));
        let pg = super::Db::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .connect_lazy_with(sqlx::postgres::PgConnectOptions::new()),
        );
        let s = Search::new(&pg, "Refund");
        assert_eq!(s.bound(), "%refund%");
        assert_eq!(s.message("m", "$11"), "lower(m.text) LIKE $11 ESCAPE '\\'");
    }
}
