//! Lists answer `{"items": [...], "next_cursor": <string or null>}`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of lists ordered by id (a cursor is the last item's id).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Paging of lists ordered by activity (a cursor is `<last_message_at>.<id>`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityPageQuery {
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[+-]?[0-9]{1,18}\.[+-]?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A page size from `?limit=`: default 50, else 1 to 200.
pub fn checked_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {n}"
        ))),
    }
}

/// A cursor that is an id (`?cursor=`), 400 when it is not.
pub fn id_cursor(c: Option<&str>) -> Result<Option<i64>, ApiError> {
    c.map(|c| {
        c.parse()
            .map_err(|_| ApiError::BadRequest(format!("invalid cursor {c:?}")))
    })
    .transpose()
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        checked_limit(self.limit)
    }

    /// The cursor as an id.
    pub fn id_cursor(&self) -> Result<Option<i64>, ApiError> {
        id_cursor(self.cursor.as_deref())
    }
}

impl ActivityPageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        checked_limit(self.limit)
    }
}

/// Builds a page from `limit` items, given how to make a cursor from the last one.
pub fn page<T>(items: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if items.len() as i64 >= limit {
        items.last().map(&cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}
