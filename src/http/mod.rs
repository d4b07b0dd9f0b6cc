//! The HTTP surface: API routes by resource, the WAHA webhook, the agents' websocket, the
//! embedded web app. Errors become JSON responses in `error`; nothing below this module
//! knows about HTTP.

pub mod admin;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod board;
pub mod body;
pub mod bots;
pub mod campaign_upload;
pub mod campaigns;
pub mod contact_export;
pub mod contact_merge;
pub mod contact_schema;
pub mod contacts;
pub mod conversations;
pub mod csat;
pub mod csrf;
pub mod error;
pub mod gdpr;
pub mod handling;
pub mod health;
pub mod import_preview;
pub mod integrations;
pub mod login_limit;
pub mod messages;
pub mod notifications;
pub mod openapi;
pub mod pagination;
pub mod quick_replies;
pub mod request_span;
pub mod routing;
pub mod segments;
pub mod sessions;
pub mod team;
pub mod templates;
pub mod trigger_order;
pub mod upgrade;
pub mod validate;
pub mod web;
pub mod webhooks;
pub mod ws;

use actix_web::http::Method;
use actix_web::web as aw;

use error::ApiError;

pub fn routes(cfg: &mut aw::ServiceConfig) {
    use Method as M;
    cfg.app_data(error::json_config())
        .app_data(error::query_config())
        .app_data(error::path_config())
        .service(resource("/", vec![(M::GET, aw::to(web::index))]))
        .service(resource(
            "/assets/{file:.+}",
            vec![(M::GET, aw::to(web::static_asset))],
        ))
        .service(resource(
            "/healthz",
            vec![(M::GET, aw::to(health::healthz))],
        ))
        .service(resource("/readyz", vec![(M::GET, aw::to(health::readyz))]))
        .service(resource(
            "/metrics",
            vec![(M::GET, aw::to(health::metrics))],
        ))
        .service(resource(
            "/webhooks/waha",
            vec![(M::POST, aw::to(webhooks::receive))],
        ))
        .service(resource("/ws", vec![(M::GET, aw::to(ws::connect))]))
        .configure(|cfg| {
            for route in web::APP_ROUTES {
                cfg.service(resource(route, vec![(M::GET, aw::to(web::index))]));
                cfg.service(resource(
                    &format!("{route}/{{rest:.*}}"),
                    vec![(M::GET, aw::to(web::index))],
                ));
            }
        })
        .service(
            aw::scope("/api")
                .service(resource(
                    "/openapi.json",
                    vec![(M::GET, aw::to(openapi::document))],
                ))
                .service(resource(
                    "/auth/login",
                    vec![(M::POST, aw::to(auth::login))],
                ))
                .service(resource(
                    "/auth/logout",
                    vec![(M::POST, aw::to(auth::logout))],
                ))
                .service(resource("/auth/me", vec![(M::GET, aw::to(auth::me))]))
                .service(resource(
                    "/auth/password",
                    vec![(M::POST, aw::to(auth::change_password))],
                ))
                .service(resource(
                    "/me/notifications",
                    vec![
                        (M::GET, aw::to(notifications::get)),
                        (M::PUT, aw::to(notifications::put)),
                    ],
                ))
                // Its own route, beside the other reports under /api/analytics.
                .service(resource(
                    "/analytics/csat",
                    vec![(M::GET, aw::to(csat::report))],
                ))
                .service(resource(
                    "/sessions",
                    vec![
                        (M::GET, aw::to(sessions::list)),
                        (M::POST, aw::to(sessions::register)),
                    ],
                ))
                .service(resource(
                    "/sessions/{name}",
                    vec![
                        (M::GET, aw::to(sessions::get)),
                        (M::PATCH, aw::to(sessions::settings)),
                    ],
                ))
                .service(resource(
                    "/sessions/{name}/start",
                    vec![(M::POST, aw::to(sessions::start))],
                ))
                .service(resource(
                    "/sessions/{name}/stop",
                    vec![(M::POST, aw::to(sessions::stop))],
                ))
                .service(resource(
                    "/sessions/{name}/logout",
                    vec![(M::POST, aw::to(sessions::logout))],
                ))
                .service(resource(
                    "/sessions/{name}/qr",
                    vec![(M::GET, aw::to(sessions::qr))],
                ))
                .service(resource(
                    "/sessions/{name}/members",
                    vec![(M::GET, aw::to(sessions::members))],
                ))
                .service(resource(
                    "/sessions/{name}/queue",
                    vec![(M::GET, aw::to(routing::queue))],
                ))
                .service(resource(
                    "/conversations",
                    vec![(M::GET, aw::to(conversations::list))],
                ))
                // Before `/conversations/{id}`, which would take "counts" for an id.
                .service(resource(
                    "/conversations/counts",
                    vec![(M::GET, aw::to(board::counts))],
                ))
                .service(resource(
                    "/conversations/{id}",
                    vec![(M::GET, aw::to(conversations::get))],
                ))
                .service(resource(
                    "/conversations/{id}/messages",
                    vec![
                        (M::GET, aw::to(conversations::messages)),
                        (M::POST, aw::to(conversations::reply)),
                    ],
                ))
                .service(resource(
                    "/conversations/{id}/read",
                    vec![(M::POST, aw::to(conversations::read))],
                ))
                .service(resource(
                    "/conversations/{id}/assign",
                    vec![(M::POST, aw::to(handling::assign))],
                ))
                .service(resource(
                    "/conversations/{id}/resolve",
                    vec![(M::POST, aw::to(handling::resolve))],
                ))
                .service(resource(
                    "/conversations/{id}/reopen",
                    vec![(M::POST, aw::to(handling::reopen))],
                ))
                .service(resource(
                    "/conversations/{id}/assignments",
                    vec![(M::GET, aw::to(routing::assignments))],
                ))
                .service(resource(
                    "/conversations/{id}/notes",
                    vec![
                        (M::GET, aw::to(handling::notes)),
                        (M::POST, aw::to(handling::add_note)),
                    ],
                ))
                .service(resource(
                    "/team-members",
                    vec![
                        (M::GET, aw::to(team::list)),
                        (M::POST, aw::to(team::create)),
                    ],
                ))
                .service(resource(
                    "/team-members/{id}",
                    vec![
                        (M::GET, aw::to(team::get)),
                        (M::PATCH, aw::to(team::update)),
                    ],
                ))
                .service(resource(
                    "/team-members/{id}/deactivate",
                    vec![(M::POST, aw::to(team::deactivate))],
                ))
                .service(resource(
                    "/team-members/{id}/activate",
                    vec![(M::POST, aw::to(team::activate))],
                ))
                .service(resource(
                    "/team-members/{id}/password",
                    vec![(M::POST, aw::to(team::reset_password))],
                ))
                .service(resource(
                    "/team-members/{id}/presence",
                    vec![(M::GET, aw::to(board::presence_history))],
                ))
                .service(resource(
                    "/dashboard",
                    vec![(M::GET, aw::to(board::dashboard))],
                ))
                .service(resource(
                    "/analytics/agents",
                    vec![(M::GET, aw::to(analytics::agents))],
                ))
                .service(resource(
                    "/analytics/sessions",
                    vec![(M::GET, aw::to(analytics::sessions))],
                ))
                .service(resource(
                    "/analytics/bots",
                    vec![(M::GET, aw::to(analytics::bots))],
                ))
                .service(resource(
                    "/analytics/campaigns",
                    vec![(M::GET, aw::to(analytics::campaigns))],
                ))
                .service(resource(
                    "/messages/{id}",
                    vec![(M::GET, aw::to(conversations::message))],
                ))
                .service(resource(
                    "/messages/{id}/retry",
                    vec![(M::POST, aw::to(messages::retry))],
                ))
                .service(resource(
                    "/messages/{id}/media",
                    vec![(M::GET, aw::to(messages::media))],
                ))
                .service(resource(
                    "/contacts",
                    vec![
                        (M::GET, aw::to(contacts::list)),
                        (M::POST, aw::to(contacts::create)),
                    ],
                ))
                .service(resource(
                    "/contacts/imports",
                    vec![(M::POST, aw::to(contacts::import))],
                ))
                .service(resource(
                    "/contacts/imports/preview",
                    vec![(M::POST, aw::to(import_preview::preview))],
                ))
                .service(resource(
                    "/contacts/imports/{id}",
                    vec![(M::GET, aw::to(contacts::import_status))],
                ))
                .service(resource(
                    "/contacts/duplicates",
                    vec![(M::GET, aw::to(contact_merge::duplicates))],
                ))
                .service(resource(
                    "/contacts/export",
                    vec![(M::GET, aw::to(contact_export::filtered))],
                ))
                .service(resource(
                    "/contacts/{id}/merge",
                    vec![(M::POST, aw::to(contact_merge::merge))],
                ))
                .service(resource(
                    "/contacts/{id}/export",
                    vec![(M::GET, aw::to(gdpr::export))],
                ))
                .service(resource(
                    "/contacts/{id}/erase",
                    vec![(M::POST, aw::to(gdpr::erase))],
                ))
                .service(resource(
                    "/contacts/{id}",
                    vec![
                        (M::GET, aw::to(contacts::get)),
                        (M::PATCH, aw::to(contacts::update)),
                        (M::DELETE, aw::to(contacts::delete)),
                    ],
                ))
                .service(resource(
                    "/contact-types",
                    vec![
                        (M::GET, aw::to(contact_schema::types)),
                        (M::POST, aw::to(contact_schema::create_type)),
                    ],
                ))
                .service(resource(
                    "/contact-types/{name}",
                    vec![(M::DELETE, aw::to(contact_schema::delete_type))],
                ))
                .service(resource(
                    "/contact-attributes",
                    vec![
                        (M::GET, aw::to(contact_schema::attributes)),
                        (M::POST, aw::to(contact_schema::create_attribute)),
                    ],
                ))
                .service(resource(
                    "/contact-attributes/{name}",
                    vec![
                        (M::PATCH, aw::to(contact_schema::update_attribute)),
                        (M::DELETE, aw::to(contact_schema::delete_attribute)),
                    ],
                ))
                .service(resource(
                    "/segments",
                    vec![
                        (M::GET, aw::to(segments::list)),
                        (M::POST, aw::to(segments::create)),
                    ],
                ))
                .service(resource(
                    "/segments/preview",
                    vec![(M::POST, aw::to(segments::preview))],
                ))
                .service(resource(
                    "/segments/{id}/export",
                    vec![(M::GET, aw::to(contact_export::segment))],
                ))
                .service(resource(
                    "/segments/{id}",
                    vec![
                        (M::GET, aw::to(segments::get)),
                        (M::PATCH, aw::to(segments::update)),
                        (M::DELETE, aw::to(segments::delete)),
                    ],
                ))
                .service(resource(
                    "/campaigns",
                    vec![
                        (M::GET, aw::to(campaigns::list)),
                        (M::POST, aw::to(campaigns::create)),
                    ],
                ))
                .service(resource(
                    "/campaigns/audience",
                    vec![(M::POST, aw::to(campaigns::audience))],
                ))
                .service(resource(
                    "/campaigns/render",
                    vec![(M::POST, aw::to(campaigns::render))],
                ))
                .service(resource(
                    "/campaigns/{id}",
                    vec![
                        (M::GET, aw::to(campaigns::get)),
                        (M::PATCH, aw::to(campaigns::update)),
                        (M::DELETE, aw::to(campaigns::delete)),
                    ],
                ))
                .service(resource(
                    "/campaigns/{id}/start",
                    vec![(M::POST, aw::to(campaigns::start))],
                ))
                .service(resource(
                    "/campaigns/{id}/pause",
                    vec![(M::POST, aw::to(campaigns::pause))],
                ))
                .service(resource(
                    "/campaigns/{id}/resume",
                    vec![(M::POST, aw::to(campaigns::resume))],
                ))
                .service(resource(
                    "/campaigns/{id}/cancel",
                    vec![(M::POST, aw::to(campaigns::cancel))],
                ))
                .service(resource(
                    "/campaigns/{id}/test",
                    vec![(M::POST, aw::to(campaigns::test))],
                ))
                .service(resource(
                    "/campaigns/{id}/audience",
                    vec![(M::POST, aw::to(campaign_upload::upload))],
                ))
                .service(resource(
                    "/campaigns/{id}/report",
                    vec![(M::GET, aw::to(campaigns::report))],
                ))
                .service(resource(
                    "/campaigns/{id}/recipients",
                    vec![(M::GET, aw::to(campaigns::recipients))],
                ))
                .service(resource(
                    "/templates",
                    vec![
                        (M::GET, aw::to(templates::list)),
                        (M::POST, aw::to(templates::create)),
                    ],
                ))
                .service(resource(
                    "/templates/{id}",
                    vec![
                        (M::GET, aw::to(templates::get)),
                        (M::PATCH, aw::to(templates::update)),
                        (M::DELETE, aw::to(templates::delete)),
                    ],
                ))
                .service(resource(
                    "/quick-replies",
                    vec![
                        (M::GET, aw::to(quick_replies::list)),
                        (M::POST, aw::to(quick_replies::create)),
                    ],
                ))
                .service(resource(
                    "/quick-replies/{id}",
                    vec![
                        (M::GET, aw::to(quick_replies::get)),
                        (M::PATCH, aw::to(quick_replies::update)),
                        (M::DELETE, aw::to(quick_replies::delete)),
                    ],
                ))
                .service(resource(
                    "/bots",
                    vec![
                        (M::GET, aw::to(bots::list)),
                        (M::POST, aw::to(bots::create)),
                    ],
                ))
                .service(resource(
                    "/bots/{id}",
                    vec![
                        (M::GET, aw::to(bots::get)),
                        (M::PATCH, aw::to(bots::update)),
                        (M::DELETE, aw::to(bots::delete)),
                    ],
                ))
                .service(resource(
                    "/bots/{id}/test",
                    vec![(M::POST, aw::to(bots::test))],
                ))
                .service(resource(
                    "/bots/{id}/replay",
                    vec![(M::POST, aw::to(bots::replay))],
                ))
                .service(resource(
                    "/bots/{id}/trigger-order",
                    vec![(M::PUT, aw::to(trigger_order::put))],
                ))
                .service(resource(
                    "/bots/{id}/metrics",
                    vec![(M::GET, aw::to(bots::metrics))],
                ))
                .service(resource(
                    "/triggers",
                    vec![
                        (M::GET, aw::to(bots::list_triggers)),
                        (M::POST, aw::to(bots::create_trigger)),
                    ],
                ))
                .service(resource(
                    "/triggers/{id}",
                    vec![
                        (M::GET, aw::to(bots::get_trigger)),
                        (M::PATCH, aw::to(bots::update_trigger)),
                        (M::DELETE, aw::to(bots::delete_trigger)),
                    ],
                ))
                .service(resource(
                    "/webhook-subscriptions",
                    vec![
                        (M::GET, aw::to(integrations::list)),
                        (M::POST, aw::to(integrations::create)),
                    ],
                ))
                .service(resource(
                    "/webhook-subscriptions/{id}",
                    vec![
                        (M::GET, aw::to(integrations::get)),
                        (M::PATCH, aw::to(integrations::update)),
                        (M::DELETE, aw::to(integrations::delete)),
                    ],
                ))
                .service(resource(
                    "/webhook-subscriptions/{id}/deliveries",
                    vec![(M::GET, aw::to(integrations::deliveries))],
                ))
                .service(resource(
                    "/webhook-subscriptions/{id}/deliveries/{delivery_id}/replay",
                    vec![(M::POST, aw::to(integrations::replay))],
                ))
                .service(resource(
                    "/api-keys",
                    vec![
                        (M::GET, aw::to(integrations::list_keys)),
                        (M::POST, aw::to(integrations::create_key)),
                    ],
                ))
                .service(resource(
                    "/api-keys/{id}",
                    vec![
                        (M::GET, aw::to(integrations::get_key)),
                        (M::DELETE, aw::to(integrations::revoke_key)),
                    ],
                ))
                .service(resource(
                    "/settings/waha",
                    vec![
                        (M::GET, aw::to(integrations::waha_settings)),
                        (M::PUT, aw::to(integrations::put_waha_settings)),
                    ],
                ))
                .service(resource(
                    "/settings/smtp",
                    vec![
                        (M::GET, aw::to(integrations::smtp_settings)),
                        (M::PUT, aw::to(integrations::put_smtp_settings)),
                    ],
                ))
                .service(resource("/audit-log", vec![(M::GET, aw::to(audit::list))]))
                .service(resource(
                    "/admin/failed-webhooks",
                    vec![(M::GET, aw::to(admin::failed_webhooks))],
                ))
                .service(resource(
                    "/admin/cluster",
                    vec![(M::GET, aw::to(admin::cluster))],
                ))
                .default_service(aw::to(not_found)),
        )
        .default_service(aw::to(not_found));
}

/// One path and its methods: any other method on it is 405 with `Allow`, not 404.
fn resource(path: &str, methods: Vec<(Method, actix_web::Route)>) -> actix_web::Resource {
    let allow = methods
        .iter()
        .map(|(m, _)| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let resource = methods
        .into_iter()
        .fold(aw::resource(path), |r, (m, route)| r.route(route.method(m)));
    resource.default_service(aw::to(move |req: actix_web::HttpRequest| {
        let allow = allow.clone();
        async move {
            Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed {
                method: req.method().to_string(),
                allow,
            })
        }
    }))
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
