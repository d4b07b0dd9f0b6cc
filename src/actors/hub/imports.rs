//! Contact imports (CSV): stored as they stream in, then applied chunk by chunk by a
//! worker. Each chunk's rows, its errors, the counters and the chunk's claim commit in one
//! writer transaction, so an import interrupted by a restart (or `kill -9`) resumes at
//! its first unapplied chunk and never applies a row twice. Progress is pushed as
//! `contact_import.progress`.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tracing::{info, warn};

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::contact::{check_email, check_tag, is_date, spend_cents, AttrDef, AttrType};
use crate::domain::csv_import::Column;
use crate::domain::segment_filter::Schema;
use crate::domain::{phone, ChatId, EventKind, EventScope, Viewer};
use crate::store::contact_bulk::{self, NewContact};
use crate::store::contacts::{self, ContactChange};
use crate::store::imports::{self, Import, RowError};
use crate::store::{audit, contact_schema, events, sessions, StoreError, Tx};

/// A row ready to write: its WhatsApp id, number and fields.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) chat: String,
    pub(super) e164: String,
    pub(super) change: ContactChange,
}

/// What every row of an import is checked against, read once per run.
pub(super) struct Rules {
    columns: Vec<Column>,
    schema: Schema,
    types: HashSet<String>,
    region: Option<phonenumber::country::Id>,
}

fn attribute(def: Option<&AttrDef>, raw: &str) -> Result<Value, String> {
    let Some(def) = def else {
        return Ok(Value::String(raw.to_string()));
    };
    match def.kind {
        AttrType::Text => Ok(Value::String(raw.to_string())),
        AttrType::Number => raw
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(|| format!("is declared number, got {raw:?}")),
        AttrType::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("is declared boolean (true/false), got {raw:?}")),
        },
        AttrType::Date if is_date(raw.trim()) => Ok(Value::String(raw.trim().to_string())),
        AttrType::Date => Err(format!("is declared date (YYYY-MM-DD), got {raw:?}")),
        AttrType::Choice if def.choices.iter().any(|c| c == raw.trim()) => {
            Ok(Value::String(raw.trim().to_string()))
        }
        AttrType::Choice => Err(format!("is one of {:?}, got {raw:?}", def.choices)),
    }
}

impl Rules {
    /// A record as a row, or every error it holds. An empty cell leaves its field alone.
    fn row(&self, line: i64, record: &csv::StringRecord) -> Result<Row, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, reason: String| {
            errors.push(RowError {
                line,
                field: field.to_string(),
                reason,
            })
        };
        if record.len() != self.columns.len() {
            err(
                "row",
                format!(
                    "has {} fields, the header {}",
                    record.len(),
                    self.columns.len()
                ),
            );
            return Err(errors);
        }
        let mut change = ContactChange::default();
        let mut number = None;
        let mut attrs = Map::new();
        for (col, raw) in self.columns.iter().zip(record.iter()) {
            let cell = raw.trim();
            if *col == Column::Ignore || (cell.is_empty() && *col != Column::Phone) {
                continue;
            }
            if cell.contains('\0') {
                err(name_of(col).as_str(), "must not contain U+0000".into());
                continue;
            }
            match col {
                Column::Phone => match phone::normalise(cell, self.region) {
                    Ok(n) => number = Some(n),
                    Err(e) => err("phone", e.to_string()),
                },
                Column::Name => change.name = Some(Some(cell.chars().take(200).collect())),
                Column::Notes => change.notes = Some(Some(cell.chars().take(10_000).collect())),
                Column::Email => match check_email("email", cell) {
                    Ok(e) => change.email = Some(Some(e)),
                    Err(e) => err("email", e.reason),
                },
                Column::Type if self.types.contains(cell) => {
                    change.kind = Some(Some(cell.to_string()))
                }
                Column::Type => err("type", format!("unknown type '{cell}'")),
                Column::Tags => {
                    let mut tags = Vec::new();
                    for t in cell.split(';').filter(|t| !t.trim().is_empty()) {
                        match check_tag("tags", t) {
                            Ok(t) if !tags.contains(&t) => tags.push(t),
                            Ok(_) => {}
                            Err(e) => err("tags", e.reason),
                        }
                    }
                    change.tags = Some(tags);
                }
                Column::LifetimeSpend => match cell.parse::<f64>() {
                    Ok(v) => match spend_cents("lifetime_spend", v) {
                        Ok(c) => change.spend_cents = Some(c),
                        Err(e) => err("lifetime_spend", e.reason),
                    },
                    Err(_) => err("lifetime_spend", format!("not a number: {cell:?}")),
                },
                Column::Attribute(a) => match attribute(self.schema.attributes.get(a), cell) {
                    Ok(v) => {
                        attrs.insert(a.clone(), v);
                    }
                    Err(why) => err(&format!("attr.{a}"), why),
                },
                Column::Ignore => {}
            }
        }
        if !attrs.is_empty() {
            change.attributes = Some(attrs);
        }
        match (number, errors.is_empty()) {
            (Some(e164), true) => Ok(Row {
                chat: ChatId::normalise(&phone::wa_id(&e164)).into_string(),
                e164,
                change,
            }),
            _ => Err(errors),
        }
    }
}

fn name_of(c: &Column) -> String {
    match c {
        Column::Phone => "phone".into(),
        Column::Name => "name".into(),
        Column::Email => "email".into(),
        Column::Type => "type".into(),
        Column::Tags => "tags".into(),
        Column::Notes => "notes".into(),
        Column::LifetimeSpend => "lifetime_spend".into(),
        Column::Attribute(a) => format!("attr.{a}"),
        Column::Ignore => "-".into(),
    }
}

/// A chunk's text as rows and errors (lines counted from `first_line`).
pub(super) fn parse_chunk(
    rules: &Rules,
    first_line: i64,
    text: &str,
) -> (Vec<Row>, Vec<RowError>, i64) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let (mut rows, mut errors, mut n) = (Vec::new(), Vec::new(), 0);
    let mut record = csv::StringRecord::new();
    loop {
        // Where the next record starts (for an error that stops the reading).
        let next_line = first_line + reader.position().line() as i64 - 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(next_line, |p| first_line + p.line() as i64 - 1);
                // A blank line is no row.
                if record.len() == 1 && record[0].trim().is_empty() {
                    continue;
                }
                n += 1;
                match rules.row(line, &record) {
                    Ok(r) => rows.push(r),
                    Err(e) => errors.extend(e),
                }
            }
            Err(e) => {
                n += 1;
                errors.push(RowError {
                    line: next_line,
                    field: "row".into(),
                    reason: format!("not CSV: {e}"),
                });
                break;
            }
        }
    }
    (rows, errors, n)
}

/// A chunk's good rows, in the chunk's transaction: (created, updated, skipped). The new
/// contacts go in one statement (a few on SQLite); a number met again later in the chunk
/// then counts as a duplicate of the contact its first row made, as it would row by row.
/// Updates of known contacts follow, in file order (batched on PostgreSQL).
pub(super) async fn apply_rows(
    tx: &mut Tx,
    session_id: i64,
    update: bool,
    rows: &[Row],
) -> Result<(i64, i64, i64), StoreError> {
    let chats: Vec<String> = rows.iter().map(|r| r.chat.clone()).collect();
    let known = contacts::owners_of(tx, session_id, &chats).await?;
    let mut first_of_new = HashSet::new();
    let new: Vec<NewContact<'_>> = rows
        .iter()
        .filter(|r| !known.contains_key(&r.chat) && first_of_new.insert(r.chat.as_str()))
        .map(|r| NewContact {
            chat_id: &r.chat,
            phone: Some(r.e164.as_str()),
            change: &r.change,
        })
        .collect();
    let made = contact_bulk::insert_many(tx, session_id, &new).await?;
    let (mut updated, mut skipped) = (0, 0);
    // A chat id taken since `owners_of` (none while the writer runs one transaction at a
    // time) is skipped, as the row-by-row insert did.
    skipped += (new.len() - made.len()) as i64;
    let mut firsts = HashSet::new();
    let mut updates = Vec::new();
    for r in rows {
        let first = firsts.insert(r.chat.as_str());
        let id = match known.get(&r.chat) {
            Some(id) => *id,
            None if first => continue,
            None => match made.get(&r.chat) {
                Some(id) => *id,
                None => {
                    skipped += 1;
                    continue;
                }
            },
        };
        if update {
            updates.push((id, &r.change));
            updated += 1;
        } else {
            skipped += 1;
        }
    }
    contact_bulk::update_many(tx, session_id, &updates).await?;
    Ok((made.len() as i64, updated, skipped))
}

impl Hub {
    /// What an import's rows are checked against, read once per run.
    pub(super) async fn import_rules(&self, cols: &[String]) -> Result<Rules, HubError> {
        Ok(Rules {
            columns: crate::domain::csv_import::columns(cols)?,
            schema: contact_schema::schema(self.db()).await?,
            types: contact_schema::types(self.db())
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            region: self.config().phone_region,
        })
    }

    /// Whether the viewer may import into `session` (asked before the body is read).
    pub async fn import_allowed(&self, v: &Viewer, session: &str) -> Result<i64, HubError> {
        let unknown = || HubError::Invalid(format!("unknown session {session:?}"));
        let s = sessions::by_name(self.db(), session)
            .await?
            .ok_or_else(unknown)?;
        v.may_write_contacts(s.id)
            .map_err(|d| HubError::denied(d, || format!("session {session:?}")))
            .map_err(|e| match e {
                HubError::NotFound(_) => unknown(),
                e => e,
            })?;
        Ok(s.id)
    }

    /// Starts an import of contacts into `session` with the header's `columns`; the body
    /// follows through `import_chunk` and `import_received`.
    pub async fn import_begin(
        &self,
        v: &Viewer,
        session: &str,
        on_duplicate: &str,
        header: &[String],
    ) -> Result<i64, HubError> {
        let session_id = self.import_allowed(v, session).await?;
        crate::domain::csv_import::columns(header)?;
        let columns: Vec<String> = header
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        Ok(imports::insert(
            self.db(),
            session_id,
            on_duplicate,
            &columns,
            v.user_id,
            self.now_ms(),
        )
        .await?)
    }

    pub async fn import_chunk(
        &self,
        id: i64,
        seq: i64,
        first_line: i64,
        text: &str,
    ) -> Result<(), HubError> {
        Ok(imports::add_chunk(self.db(), id, seq, first_line, text).await?)
    }

    /// The whole body is stored: the import runs (in the background).
    pub async fn import_received(self: &Arc<Self>, id: i64, chunks: i64) -> Result<(), HubError> {
        imports::received(self.db(), id, chunks, self.now_ms()).await?;
        if chunks == 0 {
            imports::complete_empty(self.db(), id, self.now_ms()).await?;
            return Ok(());
        }
        let hub = self.clone();
        actix_rt::spawn(async move { hub.run_import(id).await });
        Ok(())
    }

    /// An upload that broke off: the import fails (nothing of it was applied).
    pub async fn import_abandoned(&self, id: i64, why: &str) {
        if let Err(e) = imports::fail(self.db(), id, why, self.now_ms()).await {
            warn!(import = id, error = %e, "could not mark an import failed");
        }
    }

    pub async fn import(&self, v: &Viewer, id: i64) -> Result<Import, HubError> {
        let not_found = || HubError::NotFound(format!("import {id}"));
        let i = imports::get(self.db(), id).await?.ok_or_else(not_found)?;
        v.may_see_contact(i.session_id).map_err(|_| not_found())?;
        Ok(i)
    }

    /// Imports a restart left behind: those still running resume; an upload cut off by
    /// the restart fails.
    pub async fn resume_imports(self: &Arc<Self>) -> Result<usize, HubError> {
        let mut n = 0;
        for (id, status) in imports::unfinished(self.db()).await? {
            if status == "receiving" {
                self.import_abandoned(id, "the upload was cut off by a restart")
                    .await;
            } else {
                let hub = self.clone();
                actix_rt::spawn(async move { hub.run_import(id).await });
                n += 1;
            }
        }
        Ok(n)
    }

    /// Applies an import to its end. A database that is away is waited for (the import
    /// goes on from its first unapplied chunk); a hub shutting down leaves the import
    /// running, for the next start to resume; anything else fails it.
    async fn run_import(self: Arc<Self>, id: i64) {
        use tracing::Instrument;
        let mut waits = 0;
        loop {
            let run = self.apply_import(id);
            match run
                .instrument(tracing::info_span!("contact_import", import = id))
                .await
            {
                Ok(()) => return,
                Err(HubError::Store(StoreError::WriterGone) | HubError::Stopped) => {
                    info!(
                        import = id,
                        "contact import paused by the shutdown; the next start resumes it"
                    );
                    return;
                }
                Err(HubError::Store(StoreError::Unavailable(e))) if waits < 60 => {
                    waits += 1;
                    warn!(import = id, error = %e, "database away; the import waits");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
                Err(e) => {
                    warn!(import = id, error = %e, "contact import stopped");
                    self.import_abandoned(id, "the import stopped on an error; see the hub's log")
                        .await;
                    return;
                }
            }
        }
    }

    async fn apply_import(&self, id: i64) -> Result<(), HubError> {
        let Some((session_id, on_dup, cols, chunks, next, status)) =
            imports::plan(self.db(), id).await?
        else {
            return Ok(());
        };
        if status != "running" {
            return Ok(());
        }
        let rules = self.import_rules(&cols).await?;
        let update = on_dup == "update";
        for seq in next..chunks {
            let Some((first_line, text)) = imports::chunk(self.db(), id, seq).await? else {
                return Err(HubError::NotFound(format!("chunk {seq} of import {id}")));
            };
            let (rows, errors, n) = parse_chunk(&rules, first_line, &text);
            let failed = errors.iter().map(|e| e.line).collect::<HashSet<_>>().len() as i64;
            let input = (id, seq, session_id, update, rows, errors, n, failed);
            let done = self
                .services
                .writer
                .run(input, |tx, (id, seq, session_id, update, rows, errors, n, failed)| {
                    Box::pin(async move {
                        if !imports::claim_chunk(tx, *id, *seq).await? {
                            return Ok(None);
                        }
                        let (created, updated, skipped) = apply_rows(tx, *session_id, *update, rows).await?;
                        let (status, c) = imports::count_chunk(tx, *id, [*n, created, updated, skipped, *failed], errors).await?;
                        let data = json!({"id": id, "session_id": session_id, "status": status,
                            "rows": c[0], "created": c[1], "updated": c[2], "skipped": c[3], "failed": c[4]});
                        events::append(tx, EventKind::ContactImportProgress, EventScope::session(*session_id), &data).await?;
                        if status == "completed" {
                            let entry = AuditEntry::new("contact.import", "contact_import", id)
                                .session(*session_id)
                                .after(data.clone());
                            audit::record_system(tx, &entry).await?;
                        }
                        Ok(Some(status))
                    })
                })
                .await?;
            if done.as_deref() == Some("completed") {
                info!(import = id, "contact import completed");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(cols: &[&str]) -> Rules {
        let mut schema = Schema::default();
        schema.attributes.insert(
            "visits".into(),
            AttrDef {
                name: "visits".into(),
                kind: AttrType::Number,
                choices: vec![],
            },
        );
        Rules {
            columns: crate::domain::csv_import::columns(
                &cols.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            )
            .unwrap(),
            schema,
            types: ["lead".to_string()].into_iter().collect(),
            region: None,
        }
    }

    #[test]
    fn rows_and_their_errors_with_lines() {
        let r = rules(&["phone", "name", "type", "tags", "attr.visits"]);
        let text = "+447700900001,Ann,lead,vip;b2b,3\n12ab,Bob,whale,,x\n+447700900003,\"Cy\nSmith\",,,\n+447700900004,Di\n";
        let (rows, errors, n) = parse_chunk(&r, 2, text);
        assert_eq!(n, 4);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].e164, "+447700900001");
        assert_eq!(rows[0].change.tags, Some(vec!["vip".into(), "b2b".into()]));
        assert_eq!(
            rows[0].change.attributes.as_ref().unwrap()["visits"],
            json!(3.0)
        );
        assert_eq!(rows[1].e164, "+447700900003");
        assert_eq!(rows[1].change.name, Some(Some("Cy\nSmith".into())));
        let got: Vec<(i64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            vec![(3, "phone"), (3, "type"), (3, "attr.visits"), (6, "row")]
        );
    }
}
