//! `tickhub waha-sim`: a WAHA simulator. It speaks the parts of WAHA's REST API the hub
//! uses, with WAHA's paths, bodies and status codes, and posts WAHA-shaped webhooks
//! (HMAC-signed, retried like WAHA). Only WhatsApp itself is simulated: customers write
//! in through the control API (`/sim/…`) or at a fixed rate.

mod api;
mod control;
mod ids;
mod png;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};

pub use state::SimState;

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    /// A global webhook, like WAHA's `WHATSAPP_HOOK_URL`: added to every session's own.
    pub webhook_url: Option<String>,
    /// HMAC key for the global webhook.
    pub hmac_key: Option<String>,
    /// When set, every `/api` call must carry it as `X-Api-Key`.
    pub api_key: Option<String>,
    pub engine: String,
    /// Simulated customers write in at this many messages per second.
    pub rate: Option<f64>,
    /// How many simulated customers.
    pub chats: usize,
    /// Time between the acks of a sent message (SERVER → DEVICE → READ).
    pub ack_delay_ms: u64,
    /// Time from STARTING to WORKING (the "scan").
    pub pair_delay_ms: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            webhook_url: None,
            hmac_key: None,
            api_key: None,
            engine: "GOWS".into(),
            rate: None,
            chats: 20,
            ack_delay_ms: 150,
            pair_delay_ms: 300,
        }
    }
}

pub struct SimHandle {
    pub addr: SocketAddr,
    pub state: Arc<SimState>,
    pub server: actix_web::dev::ServerHandle,
}

/// Binds and starts the simulator (port 0 allowed); must run inside an actix System.
pub async fn start(opts: SimOptions) -> std::io::Result<SimHandle> {
    let listener = std::net::TcpListener::bind(opts.listen)?;
    let addr = listener.local_addr()?;
    let state = SimState::new(opts.clone(), addr);
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(16 * 1024 * 1024)
                    .error_handler(api::json_error),
            )
            .configure(api::routes)
            .configure(control::routes)
    })
    .workers(1)
    .tcp_nodelay(true)
    .listen(listener)?
    .disable_signals()
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    if let Some(rate) = opts.rate.filter(|r| *r > 0.0) {
        actix_rt::spawn(control::customers(
            state.clone(),
            Duration::from_secs_f64(1.0 / rate),
        ));
    }
    Ok(SimHandle {
        addr,
        state,
        server: handle,
    })
}
