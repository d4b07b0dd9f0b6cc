//! `/api/admin`: operator views.

use std::sync::Arc;

use actix_web::web;

use super::auth::AuthUser;
use super::error::{ApiError, ErrorBody};
use super::pagination::{page, Page, PageQuery};
use crate::actors::Hub;
use crate::cluster::ClusterView;
use crate::store::inbox::FailedWebhook;

#[utoipa::path(get, path = "/api/admin/failed-webhooks", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = inline(Page<FailedWebhook>),
            description = "webhooks stored but given up on after their attempts, newest first; each keeps its last error"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn failed_webhooks(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<FailedWebhook>>, ApiError> {
    let limit = p.limit()?;
    let items = hub
        .failed_webhooks(&auth.viewer, p.id_cursor()?, limit)
        .await?;
    Ok(web::Json(page(items, limit, |w| w.id.to_string())))
}

#[utoipa::path(get, path = "/api/admin/cluster", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ClusterView,
            description = "the nodes alive, the coordinator, and which node owns each WhatsApp session (a single node owns all)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn cluster(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
) -> Result<web::Json<ClusterView>, ApiError> {
    Ok(web::Json(hub.cluster_view(&auth.viewer).await?))
}
