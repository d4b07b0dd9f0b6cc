//! A contact list read whole and written as contacts (a campaign's uploaded audience,
//! docs/campaigns.md): read by the contact import's own rules, each number becoming or
//! updating a contact of one of the campaign's sessions.

use std::collections::{HashMap, HashSet};

use super::imports::{apply_rows, parse_chunk, Row};
use super::Hub;
use crate::actors::error::HubError;
use crate::store::contacts;
use crate::store::imports::RowError;

/// A contact list read whole: its good rows by chunk, and what the rest held.
#[derive(Debug, Default)]
pub struct ParsedList {
    chunks: Vec<Vec<Row>>,
    /// Records read (the header not counted).
    pub rows: i64,
    /// Rows repeating a number met earlier in the file.
    pub duplicates: i64,
    /// The distinct numbers of the good rows.
    pub numbers: i64,
    pub errors: Vec<RowError>,
}

/// What applying a list did: the contacts its good rows name, each once, in file order.
#[derive(Debug, Default)]
pub struct AppliedList {
    pub contact_ids: Vec<i64>,
    pub created: i64,
}

/// Which session (an index into the campaign's sessions) each of a chunk's rows goes to:
/// a number that is a contact already stays with it (the first session, in the
/// campaign's order, that knows it), a new one takes the next session in turn
/// (`next_new` counts the new numbers met so far in the file), so new numbers are spread
/// evenly and the same file always spreads the same way. A number met twice goes where
/// it went first. Answers the index of each row and the new `next_new`.
fn spread(
    rows: &[Row],
    known: &[HashMap<String, i64>],
    mut next_new: usize,
) -> (Vec<usize>, usize) {
    let n = known.len().max(1);
    let mut placed: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let at = match placed.get(r.chat.as_str()) {
            Some(i) => *i,
            None => {
                let i = match known.iter().position(|k| k.contains_key(&r.chat)) {
                    Some(i) => i,
                    None => {
                        next_new += 1;
                        (next_new - 1) % n
                    }
                };
                placed.insert(r.chat.as_str(), i);
                i
            }
        };
        out.push(at);
    }
    (out, next_new)
}

impl Hub {
    /// A whole contact CSV (its header and chunks, as `csv_import::Splitter` cut them)
    /// read as the import reads it, nothing written yet.
    pub(super) async fn parse_list(
        &self,
        header: &[String],
        chunks: &[(i64, String)],
    ) -> Result<ParsedList, HubError> {
        let rules = self.import_rules(header).await?;
        let mut out = ParsedList::default();
        let mut seen = HashSet::new();
        for (first_line, text) in chunks {
            let (rows, errors, n) = parse_chunk(&rules, *first_line, text);
            out.rows += n;
            out.errors.extend(errors);
            for r in &rows {
                if seen.insert(r.chat.clone()) {
                    out.numbers += 1;
                } else {
                    out.duplicates += 1;
                }
            }
            out.chunks.push(rows);
        }
        Ok(out)
    }

    /// Writes a parsed list's contacts into `sessions` as an import with
    /// `on_duplicate=update` would (a known number takes the row's non-empty cells: the
    /// message's variables come from them), a chunk per transaction, new numbers spread
    /// over the sessions (`spread`), and answers who they are.
    pub(super) async fn apply_list(
        &self,
        sessions: &[i64],
        list: ParsedList,
    ) -> Result<AppliedList, HubError> {
        let mut out = AppliedList::default();
        let mut seen = HashSet::new();
        let mut next_new = 0usize;
        for rows in list.chunks.into_iter().filter(|c| !c.is_empty()) {
            let input = (sessions.to_vec(), rows, next_new);
            let (created, ids, next) = self
                .services
                .writer
                .run(input, |tx, (sessions, rows, next_new)| {
                    Box::pin(async move {
                        let chats: Vec<String> = rows.iter().map(|r| r.chat.clone()).collect();
                        let mut known = Vec::with_capacity(sessions.len());
                        for s in sessions.iter() {
                            known.push(contacts::owners_of(tx, *s, &chats).await?);
                        }
                        let (placed, next) = spread(rows, &known, *next_new);
                        let mut created = 0;
                        let mut owners = Vec::with_capacity(sessions.len());
                        for (i, s) in sessions.iter().enumerate() {
                            let mine: Vec<Row> = rows
                                .iter()
                                .zip(&placed)
                                .filter(|(_, at)| **at == i)
                                .map(|(r, _)| r.clone())
                                .collect();
                            if mine.is_empty() {
                                owners.push(HashMap::new());
                                continue;
                            }
                            created += apply_rows(tx, *s, true, &mine).await?.0;
                            let theirs: Vec<String> = mine.iter().map(|r| r.chat.clone()).collect();
                            owners.push(contacts::owners_of(tx, *s, &theirs).await?);
                        }
                        // In file order, each row's contact in the session it went to.
                        let ids: Vec<i64> = rows
                            .iter()
                            .zip(&placed)
                            .filter_map(|(r, at)| owners[*at].get(&r.chat).copied())
                            .collect();
                        Ok((created, ids, next))
                    })
                })
                .await?;
            next_new = next;
            out.created += created;
            out.contact_ids
                .extend(ids.into_iter().filter(|id| seen.insert(*id)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(chat: &str) -> Row {
        Row {
            chat: chat.into(),
            e164: format!("+{chat}"),
            change: Default::default(),
        }
    }

    #[test]
    fn new_numbers_take_turns_and_known_ones_stay() {
        let rows: Vec<Row> = ["1", "2", "3", "2", "4", "5", "6"]
            .iter()
            .map(|c| row(c))
            .collect();
        // "4" is a contact of the second session already, "5" of both (the first wins).
        let a: HashMap<String, i64> = [("5".to_string(), 50)].into();
        let b: HashMap<String, i64> = [("4".to_string(), 40), ("5".to_string(), 51)].into();
        let (placed, next) = spread(&rows, &[a.clone(), b.clone()], 0);
        assert_eq!(placed, vec![0, 1, 0, 1, 1, 0, 1]);
        assert_eq!(next, 4, "four new numbers: 1, 2, 3, 6");
        // The turn goes on across chunks.
        let (placed, next) = spread(&[row("7"), row("8")], &[a, b], next);
        assert_eq!((placed, next), (vec![0, 1], 6));
        // One session: everything goes there.
        let (placed, _) = spread(&rows, &[HashMap::new()], 0);
        assert!(placed.iter().all(|i| *i == 0));
    }
}
