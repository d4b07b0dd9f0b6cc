//! Finding a text inside contacts and messages (the lists' `q`), through the indexes of
//! migration 0008: trigram GIN indexes on PostgreSQL, which answer `LIKE '%q%'` itself, and
//! FTS5 trigram tables on SQLite, asked with a phrase (FTS5 finds no text shorter than
//! three characters, so a shorter one is looked for with `LIKE` row by row, which is
//! quick because so short a text is found within the first rows).
//!
//! The text is matched anywhere in a field, ignoring case, and `%`, `_` and `\` are plain
//! characters, on both backends.
//!
//! SQLite's message index is written behind the webhooks (migration 0028): a background
//! job adds the messages past a mark a few hundred at a time ([`index_messages`]), and a
//! search reads the few past the mark row by row, so a message is found from the moment
//! its webhook is answered.

use super::{contains_pattern, Db, Result, Tx};

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

    /// True for the message `alias` whose text holds the text: `p` binds [`Search::bound`],
    /// `like` the `LIKE` pattern (the same placeholder where they are the same value). On
    /// SQLite the messages not yet in the index are read row by row (a range of the
    /// primary key past the indexer's mark: at most a second or so of traffic).
    pub fn message(&self, alias: &str, p: &str, like: &str) -> String {
        match self.phrase {
            Some(_) => format!(
                "{alias}.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {p}
                    UNION ALL SELECT id FROM messages
                    WHERE id > (SELECT indexed_through FROM message_search WHERE id = 1)
                      AND text LIKE {like} ESCAPE '\\')"
            ),
            None => format!("lower({alias}.text) LIKE {like} ESCAPE '\\'"),
        }
    }
}

/// Messages the indexer adds per transaction: its share of the writer's time stays a few
/// milliseconds, and a search's unindexed tail stays short.
pub const INDEX_BATCH: i64 = 500;

/// How many stored messages are not in the search index yet (always 0 on PostgreSQL,
/// whose trigram index is written with each message).
pub async fn backlog(db: &Db) -> Result<i64> {
    match db {
        Db::Sqlite { read, .. } => Ok(sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(id) FROM messages), 0) - indexed_through
             FROM message_search WHERE id = 1",
        )
        .fetch_one(read)
        .await?),
        Db::Postgres(_) => Ok(0),
    }
}

/// Adds up to `limit` messages past the mark to SQLite's search index and moves the mark
/// past them (one transaction: a message is indexed exactly once). Returns how many.
pub async fn index_messages(tx: &mut Tx, limit: i64) -> Result<u64> {
    let super::writer::Conn::Sqlite(t) = &mut tx.conn else {
        return Ok(0);
    };
    let added = sqlx::query(
        "INSERT INTO messages_fts (rowid, text)
         SELECT id, text FROM messages
         WHERE id > (SELECT indexed_through FROM message_search WHERE id = 1)
         ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .execute(&mut **t)
    .await?
    .rows_affected();
    if added > 0 {
        sqlx::query(
            "UPDATE message_search SET indexed_through = (
                SELECT MAX(id) FROM (SELECT id FROM messages WHERE id > indexed_through
                                     ORDER BY id LIMIT $1))
             WHERE id = 1",
        )
        .bind(limit)
        .execute(&mut **t)
        .await?;
    }
    Ok(added)
}

/// Adds every message past the mark to SQLite's index, then merges it into one segment:
/// for a bulk load (`loadtest seed`), on its own connection, with no hub running.
pub async fn index_backlog(db: &Db) -> Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = super::writer::begin(db, 0).await?;
        let n = index_messages(&mut tx, 100_000).await?;
        if n == 0 {
            optimize_messages(&mut tx).await?;
        }
        super::writer::commit(tx).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// Merges the message index into one segment (after a bulk load: its merges would
/// otherwise fall on the next writes).
async fn optimize_messages(tx: &mut Tx) -> Result<()> {
    if let super::writer::Conn::Sqlite(t) = &mut tx.conn {
        sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
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
        assert_eq!(
            s.message("m", "$11", "$11"),
            "lower(m.text) LIKE $11 ESCAPE '\\'"
        );
    }
}
