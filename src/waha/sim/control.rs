//! The simulator's own control API (not WAHA's): customers writing in, arbitrary events,
//! injected faults, and what was sent. Used by tests, `tickhub demo` and load tests.
//!
//! - `POST /sim/inbound` `{session?, from, body?, participant?, notify_name?, id?, media?,
//!   events?}`: a customer writes in (201 `{id, event_ids}`; an event id is null when the
//!   release played has no envelope ids).
//! - `POST /sim/event` `{session?, event, payload?, id?, deliveries?}`: any event, posted
//!   `deliveries` times (201 `{event_id}`).
//! - `POST /sim/sessions/{name}/status` `{status}`: the session moves to `status` and the
//!   webhooks hear `session.status`, even when it is already there (WORKING again after a
//!   reconnect: twice gives two byte-identical bodies on releases before 2025.3.1).
//! - `POST /sim/faults`: see [`Faults`]; among them `boot_hold`, which keeps booting
//!   sessions at STARTING (WAHA answers the QR with 422 then) or SCAN_QR_CODE.
//! - `POST /sim/restart` `{down_ms?}`: WAHA restarts and forgets every session's config
//!   (all STOPPED, `config: null`, no webhook says so); for `down_ms` (default 0) WAHA's
//!   API (`/api/…`, `/ping`) answers 503 first. Answers `{sessions, down_ms}`.
//! - `POST /sim/version` `{version?}`: plays another WAHA release from now on (`{}` just
//!   reads it); answers `GET /api/version`'s body.
//! - `GET /sim/sent`, `GET /sim/stats`: what was sent, webhook counters.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use rand::seq::IndexedRandom;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::ids;
use super::state::{SimState, ME};
use super::webhooks::chrono_ms;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sim")
            .route("/inbound", web::post().to(inbound))
            .route("/event", web::post().to(event))
            .route("/faults", web::post().to(faults))
            .route("/restart", web::post().to(restart))
            .route("/version", web::post().to(version))
            .route("/sent", web::get().to(sent))
            .route("/stats", web::get().to(stats))
            .route("/sessions/{name}/status", web::post().to(force_status)),
    );
}

#[derive(Deserialize)]
struct Media {
    url: Option<String>,
    mimetype: String,
    filename: Option<String>,
}

#[derive(Deserialize)]
struct Inbound {
    #[serde(default = "default_session")]
    session: String,
    from: String,
    #[serde(default)]
    body: String,
    participant: Option<String>,
    notify_name: Option<String>,
    id: Option<String>,
    media: Option<Media>,
    events: Option<Vec<String>>,
}

fn default_session() -> String {
    "default".into()
}

fn bad_request(message: String) -> HttpResponse {
    HttpResponse::BadRequest()
        .json(json!({"statusCode": 400, "message": [message], "error": "Bad Request"}))
}

/// The payload WAHA sends for a message a customer wrote.
fn customer_message(sim: &SimState, m: Inbound) -> (String, Value) {
    let id = m.id.unwrap_or_else(|| {
        let mut id = format!("false_{}_{}", m.from, ids::raw_message_id());
        if let Some(p) = &m.participant {
            id.push('_');
            id.push_str(p);
        }
        id
    });
    let media = m.media.map(|md| {
        let ext = md
            .mimetype
            .split('/')
            .nth(1)
            .unwrap_or("bin")
            .split(';')
            .next()
            .unwrap_or("bin")
            .to_string();
        let url = md.url.unwrap_or_else(|| {
            format!(
                "http://{}/api/files/{}.{ext}",
                sim.addr,
                ids::raw_message_id()
            )
        });
        json!({"url": url, "mimetype": md.mimetype, "filename": md.filename, "error": null})
    });
    let payload = json!({
        "id": id, "timestamp": chrono_ms() / 1000, "from": m.from, "fromMe": false, "source": "app", "to": ME,
        "participant": m.participant, "body": m.body, "hasMedia": media.is_some(), "media": media,
        "ack": 1, "ackName": "SERVER", "replyTo": null,
        "_data": {"notifyName": m.notify_name.unwrap_or_else(|| "Customer".into())},
    });
    (id, payload)
}

async fn inbound(sim: web::Data<SimState>, body: web::Json<Inbound>) -> HttpResponse {
    let body = body.into_inner();
    if !sim.world().sessions.contains_key(&body.session) {
        return bad_request(format!("unknown session {:?}", body.session));
    }
    let events = body
        .events
        .clone()
        .unwrap_or_else(|| vec!["message".into(), "message.any".into()]);
    let session = body.session.clone();
    let (id, payload) = customer_message(&sim, body);
    let event_ids = sim.inbound(&session, payload, &events);
    HttpResponse::Created().json(json!({"id": id, "event_ids": event_ids}))
}

#[derive(Deserialize)]
struct Event {
    #[serde(default = "default_session")]
    session: String,
    event: String,
    #[serde(default)]
    payload: Value,
    id: Option<String>,
    deliveries: Option<usize>,
}

async fn event(sim: web::Data<SimState>, body: web::Json<Event>) -> HttpResponse {
    let e = body.into_inner();
    let envelope = sim.envelope(&e.session, &e.event, e.payload, e.id);
    let id = sim.emit_envelope(&e.session, &envelope, e.deliveries.unwrap_or(1));
    HttpResponse::Created().json(json!({"event_id": id}))
}

/// `POST /sim/faults`: every field is optional and only the fields given change; the
/// answer is how many sends each fault still has to hit (`{}` just reads them).
/// - `send_fail: N` (+ `send_fail_status`, default 500): the next N sends are refused
///   before anything is sent.
/// - `send_fail_after: N` (+ `send_fail_after_status`, default 500): the next N sends go
///   out (listed in `/sim/sent`, found by `GET /api/{session}/chats/{chat}/messages/{id}`,
///   echoed and acked as usual), then answer with that status.
/// - `send_hang: N` (+ `send_hang_ms`, default 20000): the next N sends go out like that,
///   then hold their answer for `send_hang_ms` before the usual 201, so a client with a
///   shorter timeout gives up on a send that reached the customer.
/// - `webhook_pause: true|false`: hold webhook deliveries (they queue) or let them go.
/// - `boot_hold: "STARTING"|"SCAN_QR_CODE"|null`: a session that starts (or restarts)
///   goes no further than that status while it is set; moving the hold on, or `null`,
///   lets held sessions go on, each change a `session.status` webhook as usual.
///
/// A send meets `send_fail` first; of the faults after sending, `send_fail_after` first.
#[derive(Deserialize)]
struct Faults {
    send_fail: Option<u32>,
    send_fail_status: Option<u16>,
    send_fail_after: Option<u32>,
    send_fail_after_status: Option<u16>,
    send_hang: Option<u32>,
    send_hang_ms: Option<u64>,
    webhook_pause: Option<bool>,
    /// Absent: unchanged; `null`: no hold.
    #[serde(default, deserialize_with = "present")]
    boot_hold: Option<Option<String>>,
}

/// A field that is there, `null` included (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

const HOLDABLE: [&str; 2] = ["STARTING", "SCAN_QR_CODE"];

const DEFAULT_HANG_MS: u64 = 20_000;

async fn faults(sim: web::Data<SimState>, body: web::Json<Faults>) -> HttpResponse {
    let f = body.into_inner();
    if let Some(Some(status)) = &f.boot_hold {
        if !HOLDABLE.contains(&status.as_str()) {
            return bad_request(format!("boot_hold must be one of {HOLDABLE:?} or null"));
        }
    }
    let mut left = {
        let mut w = sim.world();
        if let Some(n) = f.send_fail {
            w.faults.send_fail = n;
            w.faults.send_fail_status = f.send_fail_status.unwrap_or(500);
        }
        if let Some(n) = f.send_fail_after {
            w.faults.send_fail_after = n;
            w.faults.send_fail_after_status = f.send_fail_after_status.unwrap_or(500);
        }
        if let Some(n) = f.send_hang {
            w.faults.send_hang = n;
            w.faults.send_hang_ms = f.send_hang_ms.unwrap_or(DEFAULT_HANG_MS);
        }
        json!({
            "send_fail": w.faults.send_fail,
            "send_fail_after": w.faults.send_fail_after,
            "send_hang": w.faults.send_hang,
        })
    };
    if let Some(p) = f.webhook_pause {
        sim.deliverer.set_paused(p);
    }
    if let Some(hold) = f.boot_hold {
        sim.set_boot_hold(hold);
    }
    left["boot_hold"] = json!(sim.boot_hold());
    HttpResponse::Ok().json(left)
}

#[derive(Deserialize)]
struct Restart {
    #[serde(default)]
    down_ms: u64,
}

async fn restart(sim: web::Data<SimState>, body: web::Json<Restart>) -> HttpResponse {
    let sessions = sim.restart(Duration::from_millis(body.down_ms));
    HttpResponse::Ok().json(json!({"sessions": sessions, "down_ms": body.down_ms}))
}

#[derive(Deserialize)]
struct Version {
    version: Option<String>,
}

async fn version(sim: web::Data<SimState>, body: web::Json<Version>) -> HttpResponse {
    if let Some(v) = &body.version {
        match v.parse() {
            Ok(v) => sim.set_version(v),
            Err(e) => return bad_request(format!("{e}")),
        }
    }
    HttpResponse::Ok().json(sim.environment())
}

async fn sent(sim: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(&sim.world().sent)
}

async fn stats(sim: web::Data<SimState>) -> HttpResponse {
    let s = &sim.deliverer.stats;
    HttpResponse::Ok().json(json!({
        "webhooks_delivered": s.delivered.load(Ordering::Relaxed),
        "webhook_attempts_failed": s.failed_attempts.load(Ordering::Relaxed),
        "webhooks_pending": s.pending.load(Ordering::Relaxed),
        "sends": sim.world().sent.len(),
        "session_lists": sim.session_lists.load(Ordering::Relaxed),
    }))
}

#[derive(Deserialize)]
struct ForceStatus {
    status: String,
}

async fn force_status(
    sim: web::Data<SimState>,
    name: web::Path<String>,
    body: web::Json<ForceStatus>,
) -> HttpResponse {
    match sim.set_status(&name, &body.status) {
        Some(_) => HttpResponse::Ok().json(json!({"name": name.as_str(), "status": body.status})),
        None => HttpResponse::NotFound()
            .json(json!({"statusCode": 404, "message": "Session not found", "error": "Not Found"})),
    }
}

const TEXTS: &[&str] = &[
    "Hi! Is this still available?",
    "Where is my order? It was due yesterday.",
    "Can I change the delivery address?",
    "Do you open on Sundays?",
    "Thanks, that worked 🙏",
    "How much is shipping to Lisbon?",
    "I'd like to return an item",
    "Can someone call me back please?",
    "Is there a discount for 3 or more?",
    "Perfect, see you tomorrow",
];

/// Simulated customers writing in to every WORKING session, open-loop.
pub async fn customers(sim: Arc<SimState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let sessions: Vec<String> = sim
            .world()
            .sessions
            .values()
            .filter(|s| s.status == "WORKING")
            .map(|s| s.name.clone())
            .collect();
        for session in sessions {
            let (n, text) = {
                let mut rng = rand::rng();
                let n = rng.random_range(1..=sim.opts.chats.max(1));
                (n, TEXTS.choose(&mut rng).copied().unwrap_or("Hello"))
            };
            let m = Inbound {
                session: session.clone(),
                from: format!("4477000000{n:02}@c.us"),
                body: text.to_string(),
                participant: None,
                notify_name: Some(format!("Customer {n:02}")),
                id: None,
                media: None,
                events: None,
            };
            let (_, payload) = customer_message(&sim, m);
            sim.inbound(&session, payload, &["message".into(), "message.any".into()]);
        }
    }
}
