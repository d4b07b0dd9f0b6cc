//! `GET /api/audit-log`: who changed what, when, through what, for admins and managers
//! (managers: their sessions' entries and those of no session). Filters are optional and
//! applied in SQL; `?format=csv` answers every matching entry as a CSV download.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::stream;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, ForbiddenError, UnprocessableError};
use super::pagination::{page, Page, DEFAULT_LIMIT, MAX_LIMIT};
use crate::actors::Hub;
use crate::domain::access::AuditFilter;
use crate::domain::audit::{ActionMatch, AuditQuery};
use crate::domain::FieldError;
use crate::store::audit::AuditItem;

/// Rows per query while a CSV export streams.
const CSV_PAGE: i64 = 500;

/// The query as it arrives: every value is text, checked here so that a bad one is a 422
/// naming its field (the document states each one's type).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only changes made by this member.
    #[param(value_type = Option<i64>)]
    pub actor_id: Option<String>,
    /// An action (`member.create`), or every action under a prefix ending in `.` (`member.`).
    #[param(pattern = r"^[^\u0000]*$")]
    pub action: Option<String>,
    /// e.g. `member`, `contact`, `session`, `conversation`, `message`.
    #[param(pattern = r"^[^\u0000]*$")]
    pub target_type: Option<String>,
    #[param(pattern = r"^[^\u0000]*$")]
    pub target_id: Option<String>,
    /// Only entries of this WhatsApp session (by name); a session the reader cannot see
    /// matches nothing.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub session: Option<String>,
    /// From this time on (RFC 3339, inclusive).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// Before this time (RFC 3339, exclusive).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor` (JSON only).
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size, default 50 (JSON only: a CSV export holds every matching entry).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    pub format: Option<String>,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::Invalid(FieldError::new(field, why.to_string()))
}

fn integer(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| invalid(field, format!("expected an integer, got {s:?}")))
        })
        .transpose()
}

fn time(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    invalid(
                        field,
                        format!("expected an RFC 3339 time (2026-01-31T09:00:00Z), got {s:?}"),
                    )
                })
        })
        .transpose()
}

/// Free text (empty: no filter); U+0000 cannot be stored, so it matches nothing and is refused.
fn text(field: &str, v: &Option<String>) -> Result<Option<String>, ApiError> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) if s.contains('\0') => Err(invalid(field, "must not contain U+0000")),
        Some(s) => Ok(Some(s.to_string())),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// What the query asks for, checked.
#[derive(Debug)]
struct Parsed {
    query: AuditQuery,
    session: Option<String>,
    before: Option<i64>,
    limit: i64,
    format: Format,
}

impl AuditParams {
    fn parse(&self) -> Result<Parsed, ApiError> {
        let action = text("action", &self.action)?
            .map(|a| ActionMatch::parse(&a).map_err(ApiError::Invalid))
            .transpose()?;
        let session = match self.session.as_deref() {
            None => None,
            Some(s) if super::validate::is_session_name(s) => Some(s.to_string()),
            Some(s) => {
                return Err(invalid(
                    "session",
                    format!("not a session name (1 to 64 letters, digits, _ or -): {s:?}"),
                ))
            }
        };
        let limit = match integer("limit", &self.limit)? {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(invalid(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}, got {n}"),
                ))
            }
        };
        let format = match self.format.as_deref() {
            None | Some("") | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(f) => return Err(invalid("format", format!("json or csv, got {f:?}"))),
        };
        Ok(Parsed {
            query: AuditQuery {
                actor_id: integer("actor_id", &self.actor_id)?,
                action,
                target_type: text("target_type", &self.target_type)?,
                target_id: text("target_id", &self.target_id)?,
                session_id: None,
                from: time("from", &self.from)?,
                to: time("to", &self.to)?,
            },
            session,
            before: integer("cursor", &self.cursor)?,
            limit,
            format,
        })
    }
}

#[utoipa::path(get, path = "/api/audit-log", operation_id = "list_audit_log", tag = "audit",
    security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, description = "entries, newest first; with `format=csv` every matching entry as a CSV download \
            (columns id, at, at_utc, actor_id, actor_email, via, action, target_type, target_id, session_id, before, after, ip)",
            content((inline(Page<AuditItem>) = "application/json"), (String = "text/csv")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit-log.csv\"` on a CSV export"))),
        (status = 400, body = ErrorBody, description = "a query that cannot be read at all (a parameter given twice)"),
        UnprocessableError, ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let access = hub.audit_access(&auth.viewer)?;
    let Parsed {
        mut query,
        session,
        before,
        limit,
        format,
    } = params.parse()?;
    let mut nothing = false;
    if let Some(name) = &session {
        match hub.audit_session(&access, name).await? {
            Some(id) => query.session_id = Some(id),
            None => nothing = true,
        }
    }
    match format {
        Format::Json => {
            let items = if nothing {
                Vec::new()
            } else {
                hub.audit_log(&access, &query, before, limit).await?
            };
            Ok(HttpResponse::Ok().json(page(items, limit, |e| e.id.to_string())))
        }
        Format::Csv => {
            // The first page is read before answering, so that a database that is away
            // is a 503 and not a cut-off download.
            let first = if nothing {
                Vec::new()
            } else {
                hub.audit_log(&access, &query, None, CSV_PAGE).await?
            };
            Ok(csv_response(hub.get_ref().clone(), access, query, first))
        }
    }
}

/// What the CSV stream still has to write.
struct Export {
    hub: Arc<Hub>,
    access: AuditFilter,
    query: AuditQuery,
    /// The next rows to write (`None`: done).
    rows: Option<Vec<AuditItem>>,
    header: bool,
}

fn csv_response(
    hub: Arc<Hub>,
    access: AuditFilter,
    query: AuditQuery,
    first: Vec<AuditItem>,
) -> HttpResponse {
    let start = Export {
        hub,
        access,
        query,
        rows: Some(first),
        header: true,
    };
    let body = stream::unfold(start, |mut ex| async move {
        let rows = ex.rows.take()?;
        let chunk = csv_chunk(ex.header, &rows);
        ex.header = false;
        if rows.len() as i64 >= CSV_PAGE {
            let before = rows.last().map(|r| r.id);
            match ex
                .hub
                .audit_log(&ex.access, &ex.query, before, CSV_PAGE)
                .await
            {
                Ok(next) => ex.rows = Some(next),
                // The status is sent already: cutting the stream off is how the client
                // learns that the export is incomplete.
                Err(e) => {
                    tracing::warn!(error = %e, "audit log export cut off");
                    return Some((Err(ApiError::from(e)), ex));
                }
            }
        }
        Some((chunk, ex))
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"audit-log.csv\"",
        ))
        .streaming(body)
}

const COLUMNS: [&str; 13] = [
    "id",
    "at",
    "at_utc",
    "actor_id",
    "actor_email",
    "via",
    "action",
    "target_type",
    "target_id",
    "session_id",
    "before",
    "after",
    "ip",
];

/// A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
/// first) gets a leading `'`, so an exported log cannot run what a visitor typed (a
/// failed login's "email", say) on the reader's machine.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn csv_chunk(header: bool, rows: &[AuditItem]) -> Result<Bytes, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200 + 128));
    let fail = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    if header {
        w.write_record(COLUMNS).map_err(fail)?;
    }
    for r in rows {
        let at_utc = chrono::DateTime::from_timestamp_millis(r.at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        w.write_record([
            r.id.to_string(),
            r.at.to_string(),
            at_utc,
            opt(&r.actor_id),
            cell(&opt(&r.actor_email)),
            cell(&r.via),
            cell(&r.action),
            cell(&r.target_type),
            cell(&opt(&r.target_id)),
            opt(&r.session_id),
            cell(&opt(&r.before)),
            cell(&opt(&r.after)),
            cell(&opt(&r.ip)),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> AuditParams {
        let q = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        web::Query::<AuditParams>::from_query(&q)
            .expect("query")
            .into_inner()
    }

    fn refused(pairs: &[(&str, &str)], field: &str) {
        match params(pairs).parse() {
            Err(ApiError::Invalid(m)) => assert_eq!(m.field, field, "{m}"),
            other => panic!("{pairs:?}: expected a 422 naming {field}, got {other:?}"),
        }
    }

    #[test]
    fn filters_are_parsed_and_bad_ones_named() {
        let p = params(&[
            ("actor_id", "7"),
            ("action", "member."),
            ("target_type", "contact"),
            ("target_id", "12"),
            ("session", "default"),
            ("from", "2026-01-31T09:00:00Z"),
            ("to", "2026-01-31T10:00:00+01:00"),
            ("cursor", "99"),
            ("limit", "10"),
            ("format", "csv"),
        ])
        .parse()
        .expect("valid");
        assert_eq!(p.query.actor_id, Some(7));
        assert_eq!(p.query.action, Some(ActionMatch::Prefix("member.".into())));
        assert_eq!(p.query.target_type.as_deref(), Some("contact"));
        assert_eq!(p.query.target_id.as_deref(), Some("12"));
        assert_eq!(p.session.as_deref(), Some("default"));
        assert_eq!(p.query.from, Some(1_769_850_000_000));
        assert_eq!(p.query.to, Some(1_769_850_000_000));
        assert_eq!((p.before, p.limit, p.format), (Some(99), 10, Format::Csv));
        let none = params(&[]).parse().expect("valid");
        assert_eq!(none.query, AuditQuery::default());
        assert_eq!((none.limit, none.format), (DEFAULT_LIMIT, Format::Json));
        refused(&[("actor_id", "abc")], "actor_id");
        refused(&[("actor_id", "")], "actor_id");
        refused(&[("from", "yesterday")], "from");
        refused(&[("to", "2026-13-01T00:00:00Z")], "to");
        refused(&[("limit", "0")], "limit");
        refused(&[("limit", "201")], "limit");
        refused(&[("cursor", "x")], "cursor");
        refused(&[("format", "xml")], "format");
        refused(&[("session", "no spaces")], "session");
        refused(&[("action", "a\0b")], "action");
        refused(&[("target_id", "\0")], "target_id");
    }

    fn item(email: &str, after: serde_json::Value) -> AuditItem {
        AuditItem {
            id: 3,
            at: 1_769_850_000_123,
            actor_id: None,
            actor_email: None,
            via: "http".into(),
            action: "auth.login_failed".into(),
            target_type: "member".into(),
            target_id: None,
            session_id: None,
            before: None,
            after: Some(json!({"email": email, "x": after})),
            ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn csv_is_escaped_and_formulas_defused() {
        let bytes = csv_chunk(true, &[item("a,\"b\"\nc", json!(1))]).expect("csv");
        let mut r = csv::Reader::from_reader(bytes.as_ref());
        let headers: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(headers, COLUMNS);
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "3");
        assert_eq!(&rows[0][2], "2026-01-31T09:00:00.123Z");
        let after: serde_json::Value = serde_json::from_str(&rows[0][11]).expect("json");
        assert_eq!(after["email"], "a,\"b\"\nc");
        assert_eq!(&rows[0][12], "127.0.0.1");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("ann@example.com"), "ann@example.com");
        let no_header = csv_chunk(false, &[]).expect("csv");
        assert!(no_header.is_empty());
    }
}
