//! Liveness, readiness and Prometheus metrics.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::actors::Hub;

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "the process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "the database answers (`waha`: whether WAHA answers, a detail)"), (status = 503, description = "the database does not answer")))]
pub async fn readyz(hub: web::Data<Arc<Hub>>) -> HttpResponse {
    // WAHA's reachability is a detail, not a failure: the hub still stores what arrives
    // and serves the inbox; sends wait.
    let waha = if hub.health().reachable() {
        "reachable"
    } else {
        "unreachable"
    };
    match tokio::time::timeout(Duration::from_secs(2), hub.db().ping()).await {
        Ok(Ok(())) => HttpResponse::Ok()
            .json(serde_json::json!({ "status": "ready", "database": "ok", "waha": waha })),
        Ok(Err(e)) => {
            // The database's own words (hosts, users) go to the log, not to whoever asks.
            tracing::warn!(error = %e, "readiness: the database does not answer");
            HttpResponse::ServiceUnavailable().json(
                serde_json::json!({ "status": "unavailable", "database": "unavailable", "waha": waha }),
            )
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(
            serde_json::json!({ "status": "unavailable", "database": "timed out", "waha": waha }),
        ),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render())
}
