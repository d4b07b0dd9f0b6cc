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
    // A cluster node cut off from Redis would miss its peers' events and hand-overs: the
    // load balancer should send its traffic elsewhere until Redis is back.
    let redis = match hub.cluster() {
        None => None,
        Some(c) => Some(if c.link.ping().await {
            "ok"
        } else {
            "unavailable"
        }),
    };
    let database = match tokio::time::timeout(Duration::from_secs(2), hub.db().ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            // The database's own words (hosts, users) go to the log, not to whoever asks.
            tracing::warn!(error = %e, "readiness: the database does not answer");
            "unavailable"
        }
        Err(_) => "timed out",
    };
    let ready = database == "ok" && redis.is_none_or(|r| r == "ok");
    let mut body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "waha": waha,
    });
    if let Some(r) = redis {
        body["redis"] = r.into();
    }
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render())
}
