//! The HTTP server: the app (routes, request spans) served by actix's server and HTTP/1
//! service as `actix_web::HttpServer` would (same timeouts, keep-alive, TCP_NODELAY,
//! graceful shutdown signal), plus what `HttpServer` cannot do: a websocket upgrade that
//! takes the connection out of actix-http (`http::upgrade`), so an idle agent socket
//! does not keep the connection's HTTP buffers.

use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, KeepAlive};
use actix_service::ServiceFactoryExt;
use actix_service::{fn_factory, fn_service, map_config, IntoServiceFactory, ServiceFactory};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, ServiceRequest, ServiceResponse};
use actix_web::{web, App};

use crate::actors::Hub;
use crate::http::login_limit::LoginLimiter;
use crate::http::request_span::RequestSpan;

/// `HttpServer`'s defaults, kept as they were before the hub built its own server.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

fn app(
    hub: web::Data<Arc<Hub>>,
    limiter: web::Data<LoginLimiter>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(hub)
        .app_data(limiter)
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .configure(crate::http::routes)
}

/// What `HttpServer` gives its app (it is the app's view of the server's address).
fn app_config(addr: SocketAddr) -> AppConfig {
    AppConfig::__priv_test_new(false, addr.to_string(), addr)
}

/// Serves the hub on `listener`; `drain` is how long in-flight requests and sockets get
/// once shutdown begins.
pub fn serve(
    listener: TcpListener,
    hub: web::Data<Arc<Hub>>,
    limiter: web::Data<LoginLimiter>,
    drain: Duration,
) -> std::io::Result<actix_server::Server> {
    let addr = listener.local_addr()?;
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    let server = builder
        .listen("tickhub", listener, move || {
            let signal = graceful.clone();
            let (upgrade_hub, upgrade_limiter) = (hub.clone(), limiter.clone());
            // The app answers upgrade requests too (auth, errors, spans): one instance per
            // worker for them, beside the one serving plain requests.
            let upgrade = fn_factory(move || {
                let app = app(upgrade_hub.clone(), upgrade_limiter.clone());
                async move {
                    let app = Rc::new(app.into_factory().new_service(app_config(addr)).await?);
                    Ok::<_, ()>(fn_service(move |(req, framed)| {
                        crate::http::upgrade::serve(app.clone(), req, framed)
                    }))
                }
            });
            let plain = app(hub.clone(), limiter.clone())
                .into_factory()
                .map_err(|e: actix_web::Error| e.error_response());
            HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = signal.clone();
                    async move { signal.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                .h1_allow_half_closed(true)
                .local_addr(addr)
                // Nagle's algorithm would hold back small websocket frames until the
                // client's delayed ACK (~40 ms): latency is what this server is for.
                .tcp_nodelay(true)
                .upgrade(upgrade)
                .finish(map_config(plain, move |()| app_config(addr)))
                .tcp()
        })?
        // Signals are ours: sockets must be closed before the drain can end.
        .disable_signals()
        .shutdown_timeout(drain.as_secs())
        .run();
    Ok(server)
}
