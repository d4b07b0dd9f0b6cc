//! The HTTP surface: API routes by resource, the WAHA webhook, the agents' websocket, the
//! embedded web app. Errors become JSON responses in `error`; nothing below this module
//! knows about HTTP.

pub mod admin;
pub mod auth;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod health;
pub mod openapi;
pub mod pagination;
pub mod request_span;
pub mod sessions;
pub mod web;
pub mod webhooks;
pub mod ws;

use actix_web::web as aw;

use error::ApiError;

pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.app_data(error::json_config())
        .app_data(error::query_config())
        .app_data(error::path_config())
        .route("/", aw::get().to(web::index))
        .route("/healthz", aw::get().to(health::healthz))
        .route("/readyz", aw::get().to(health::readyz))
        .route("/metrics", aw::get().to(health::metrics))
        .route("/webhooks/waha", aw::post().to(webhooks::receive))
        .route("/ws", aw::get().to(ws::connect))
        .service(
            aw::scope("/api")
                .route("/openapi.json", aw::get().to(openapi::document))
                .route("/auth/login", aw::post().to(auth::login))
                .route("/auth/logout", aw::post().to(auth::logout))
                .route("/auth/me", aw::get().to(auth::me))
                .route("/sessions", aw::get().to(sessions::list))
                .route("/sessions", aw::post().to(sessions::register))
                .route("/sessions/{name}", aw::get().to(sessions::get))
                .route("/sessions/{name}/start", aw::post().to(sessions::start))
                .route("/sessions/{name}/stop", aw::post().to(sessions::stop))
                .route("/sessions/{name}/logout", aw::post().to(sessions::logout))
                .route("/sessions/{name}/qr", aw::get().to(sessions::qr))
                .route("/conversations", aw::get().to(conversations::list))
                .route("/conversations/{id}", aw::get().to(conversations::get))
                .route(
                    "/conversations/{id}/messages",
                    aw::get().to(conversations::messages),
                )
                .route(
                    "/conversations/{id}/messages",
                    aw::post().to(conversations::reply),
                )
                .route(
                    "/conversations/{id}/read",
                    aw::post().to(conversations::read),
                )
                .route("/messages/{id}", aw::get().to(conversations::message))
                .route("/contacts", aw::get().to(contacts::list))
                .route("/contacts", aw::post().to(contacts::create))
                .route("/contacts/{id}", aw::get().to(contacts::get))
                .route("/contacts/{id}", aw::patch().to(contacts::update))
                .route("/contacts/{id}", aw::delete().to(contacts::delete))
                .route(
                    "/admin/failed-webhooks",
                    aw::get().to(admin::failed_webhooks),
                )
                .default_service(aw::to(not_found)),
        )
        .default_service(aw::to(not_found));
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
