//! `PUT /api/bots/{id}/trigger-order`: a bot's triggers put in firing order in one call
//! (docs/bots.md), for the builder's drag and drop; access as for editing the bot.

use std::sync::Arc;

use actix_web::web;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Checked;
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::Page;
use crate::actors::Hub;
use crate::store::bots::Trigger;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TriggerOrder {
    /// Every trigger of the bot, each once, highest priority first.
    pub trigger_ids: Vec<i64>,
}

#[utoipa::path(put, path = "/api/bots/{id}/trigger-order", tag = "bots", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TriggerOrder,
    responses((status = 200, body = inline(Page<Trigger>), description = "the bot's triggers in the order given, their priorities set (10 apart, the last at 10); `next_cursor` is null"),
        (status = 409, body = ErrorBody, description = "a trigger was added or removed meanwhile (`field`: `trigger_ids`)"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn put(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<TriggerOrder>,
) -> Result<web::Json<Page<Trigger>>, ApiError> {
    let items = hub
        .order_triggers(&auth.viewer, *id, body.0.trigger_ids)
        .await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}
