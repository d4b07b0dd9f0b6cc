//! WAHA's REST API, as far as the hub uses it: paths, bodies and status codes as WAHA's
//! (NestJS) server answers them, as the release played does.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ids;
use super::state::{AfterSend, Sent, Session, SimState, ME};
use super::webhooks::chrono_ms;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ping", web::get().to(ping)).service(
        web::scope("/api")
            .wrap(actix_web::middleware::from_fn(api_key))
            .wrap(actix_web::middleware::from_fn(restarting))
            .route("/version", web::get().to(version))
            .route("/server/version", web::get().to(version))
            .route("/sessions", web::get().to(list_sessions))
            .route("/sessions", web::post().to(create_session))
            .route("/sessions/{name}", web::get().to(get_session))
            .route("/sessions/{name}", web::put().to(update_session))
            .route("/sessions/{name}", web::delete().to(delete_session))
            .route("/sessions/{name}/me", web::get().to(me))
            .route("/sessions/{name}/{action}", web::post().to(session_action))
            .route("/sendText", web::post().to(send))
            .route("/sendImage", web::post().to(send))
            .route("/sendFile", web::post().to(send))
            .route("/sendSeen", web::post().to(seen))
            .route("/startTyping", web::post().to(typing))
            .route("/stopTyping", web::post().to(typing))
            .route("/files/{name}", web::get().to(file))
            .route("/{session}/auth/qr", web::get().to(qr))
            .route("/{session}/new-message-id", web::get().to(new_message_id))
            .route("/{session}/chats", web::get().to(chats))
            .route(
                "/{session}/chats/{chat}/messages",
                web::get().to(chat_messages),
            )
            .route(
                "/{session}/chats/{chat}/messages/{id}",
                web::get().to(chat_message),
            ),
    );
}

/// While a simulated restart is under way WAHA's API answers 503, like a reverse proxy in
/// front of a WAHA that is not up yet. (Not a refused connection: the control API on the
/// same port stays up, so that a test can drive and watch the simulator meanwhile.)
async fn restarting(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let down = req
        .app_data::<web::Data<SimState>>()
        .is_some_and(|s| s.is_down());
    if down {
        return Ok(req.into_response(unavailable()).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({
        "statusCode": 503, "message": "WAHA is restarting", "error": "Service Unavailable",
    }))
}

async fn ping(sim: web::Data<SimState>) -> HttpResponse {
    if sim.is_down() {
        return unavailable();
    }
    HttpResponse::Ok().json(json!({"message": "pong"}))
}

/// `WAHAEnvironment` of the release played.
async fn version(sim: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(sim.environment())
}

async fn api_key(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let expected = req
        .app_data::<web::Data<SimState>>()
        .and_then(|s| s.opts.api_key.clone());
    if let Some(key) = expected {
        let given = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
        if given != Some(key.as_str()) {
            let resp = HttpResponse::Unauthorized()
                .json(json!({"message": "Unauthorized", "statusCode": 401}));
            return Ok(req.into_response(resp).map_into_right_body());
        }
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// NestJS's 400 body for a request it cannot read.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let body = json!({"statusCode": 400, "message": [err.to_string()], "error": "Bad Request"});
    actix_web::error::InternalError::from_response(err, HttpResponse::BadRequest().json(body))
        .into()
}

fn not_found(message: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({"statusCode": 404, "message": message, "error": "Not Found"}))
}

fn session_not_found() -> HttpResponse {
    not_found("Session not found")
}

/// WAHA's 422 when a session is not in the status a call needs.
fn wrong_status(session: &str, status: &str, expected: &str) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": session, "status": status, "expected": [expected],
    }))
}

#[derive(Deserialize)]
struct ListQuery {
    all: Option<bool>,
}

async fn list_sessions(sim: web::Data<SimState>, q: web::Query<ListQuery>) -> HttpResponse {
    sim.session_lists
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let w = sim.world();
    let mut list: Vec<&Session> = w
        .sessions
        .values()
        .filter(|s| q.all.unwrap_or(false) || s.status != "STOPPED")
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let engine = sim.engine();
    HttpResponse::Ok().json(list.iter().map(|s| s.info(&engine)).collect::<Vec<_>>())
}

#[derive(Deserialize)]
struct CreateSession {
    name: Option<String>,
    start: Option<bool>,
    #[serde(default)]
    config: Value,
}

async fn create_session(sim: web::Data<SimState>, body: web::Json<CreateSession>) -> HttpResponse {
    let body = body.into_inner();
    let name = body
        .name
        .unwrap_or_else(|| format!("session_{}", ids::raw_message_id().to_lowercase()));
    {
        let mut w = sim.world();
        if w.sessions.contains_key(&name) {
            return HttpResponse::UnprocessableEntity().json(json!({
                "statusCode": 422,
                "message": format!("Session '{name}' already exists. Use PUT to update it."),
                "error": "Unprocessable Entity",
            }));
        }
        w.sessions.insert(
            name.clone(),
            Session {
                name: name.clone(),
                status: "STOPPED".into(),
                statuses: vec![],
                config: body.config,
                generation: 0,
            },
        );
    }
    if body.start.unwrap_or(true) {
        sim.clone().into_inner().boot(&name);
    }
    let info = info(&sim, &name);
    HttpResponse::Created().json(info)
}

fn info(sim: &SimState, name: &str) -> Option<Value> {
    let engine = sim.engine();
    sim.world().sessions.get(name).map(|s| s.info(&engine))
}

async fn get_session(sim: web::Data<SimState>, name: web::Path<String>) -> HttpResponse {
    match info(&sim, &name) {
        Some(info) => HttpResponse::Ok().json(info),
        None => session_not_found(),
    }
}

#[derive(Deserialize)]
struct UpdateSession {
    #[serde(default)]
    config: Value,
}

/// WAHA replaces the config and restarts a running session to apply it.
async fn update_session(
    sim: web::Data<SimState>,
    name: web::Path<String>,
    body: web::Json<UpdateSession>,
) -> HttpResponse {
    let running = {
        let mut w = sim.world();
        let Some(s) = w.sessions.get_mut(name.as_str()) else {
            return session_not_found();
        };
        s.config = body.into_inner().config;
        s.status != "STOPPED"
    };
    if running {
        sim.clone().into_inner().boot(&name);
    }
    let info = info(&sim, &name);
    HttpResponse::Ok().json(info)
}

async fn delete_session(sim: web::Data<SimState>, name: web::Path<String>) -> HttpResponse {
    sim.world().sessions.remove(name.as_str());
    HttpResponse::Ok().finish()
}

async fn me(sim: web::Data<SimState>, name: web::Path<String>) -> HttpResponse {
    match sim.world().sessions.get(name.as_str()) {
        Some(s) if s.status == "WORKING" => {
            HttpResponse::Ok().json(json!({"id": ME, "pushName": "Sim Business"}))
        }
        Some(_) => HttpResponse::Ok().json(Value::Null),
        None => session_not_found(),
    }
}

async fn session_action(
    sim: web::Data<SimState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (name, action) = path.into_inner();
    let status = match sim.world().sessions.get(&name) {
        Some(s) => s.status.clone(),
        None => return session_not_found(),
    };
    let sim_arc: Arc<SimState> = sim.clone().into_inner();
    match action.as_str() {
        // Idempotent like WAHA's: starting a started session changes nothing.
        "start" if status == "STOPPED" || status == "FAILED" => sim_arc.boot(&name),
        "start" => {}
        "stop" => {
            if status != "STOPPED" {
                sim.set_status(&name, "STOPPED");
            }
        }
        "restart" | "logout" => sim_arc.boot(&name),
        _ => return not_found(&format!("Cannot POST /api/sessions/{name}/{action}")),
    }
    let info = info(&sim, &name);
    HttpResponse::Created().json(info)
}

fn status_of(sim: &SimState, session: &str) -> Option<String> {
    sim.world().sessions.get(session).map(|s| s.status.clone())
}

#[derive(Deserialize)]
struct QrQuery {
    format: Option<String>,
}

async fn qr(
    sim: web::Data<SimState>,
    session: web::Path<String>,
    q: web::Query<QrQuery>,
    req: HttpRequest,
) -> HttpResponse {
    match status_of(&sim, &session) {
        None => return session_not_found(),
        Some(s) if s != "SCAN_QR_CODE" => return wrong_status(&session, &s, "SCAN_QR_CODE"),
        _ => {}
    }
    let value = format!("2@{}", ids::raw_message_id());
    if q.format.as_deref() == Some("raw") {
        return HttpResponse::Ok().json(json!({"value": value}));
    }
    let png = super::png::qr_like(&value, 29, 8);
    let wants_json = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        use base64::Engine;
        HttpResponse::Ok().json(json!({"mimetype": "image/png", "data": base64::engine::general_purpose::STANDARD.encode(png)}))
    } else {
        HttpResponse::Ok().content_type("image/png").body(png)
    }
}

async fn new_message_id(
    sim: web::Data<SimState>,
    session: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    if !sim.version().message_ids() {
        // NestJS's answer for a route the release does not have.
        return HttpResponse::NotFound().json(json!({
            "message": format!("Cannot GET {}", req.path()), "error": "Not Found", "statusCode": 404,
        }));
    }
    if status_of(&sim, &session).is_none() {
        return session_not_found();
    }
    HttpResponse::Ok().json(json!({"id": ids::raw_message_id()}))
}

fn chat_id(raw: &str) -> String {
    if raw.contains('@') {
        raw.to_string()
    } else {
        format!("{raw}@c.us")
    }
}

#[derive(Deserialize)]
struct SendRequest {
    session: Option<String>,
    #[serde(rename = "chatId")]
    chat_id: String,
    text: Option<String>,
    caption: Option<String>,
    file: Option<Value>,
    id: Option<String>,
}

async fn send(
    sim: web::Data<SimState>,
    req: HttpRequest,
    body: web::Json<SendRequest>,
) -> HttpResponse {
    let body = body.into_inner();
    let session = body.session.clone().unwrap_or_else(|| "default".into());
    match status_of(&sim, &session) {
        None => return session_not_found(),
        Some(s) if s != "WORKING" => return wrong_status(&session, &s, "WORKING"),
        _ => {}
    }
    {
        let mut w = sim.world();
        if w.faults.send_fail > 0 {
            w.faults.send_fail -= 1;
            let status = StatusCode::from_u16(w.faults.send_fail_status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return server_error(&sim, &req, status);
        }
    }
    let chat = chat_id(&body.chat_id);
    let raw = body
        .id
        .clone()
        .filter(|_| sim.version().message_ids())
        .unwrap_or_else(ids::raw_message_id);
    let id = format!("true_{chat}_{raw}");
    let text = body
        .text
        .clone()
        .or(body.caption.clone())
        .unwrap_or_default();
    let now = chrono_ms();
    let media = body.file.as_ref().map(|f| json!({"url": f.get("url"), "mimetype": f.get("mimetype"), "filename": f.get("filename"), "error": null}));
    let message = json!({
        "id": id, "timestamp": now / 1000, "from": ME, "fromMe": true, "source": "api", "to": chat,
        "participant": null, "body": text, "hasMedia": media.is_some(), "media": media, "ack": 0,
        "ackName": "PENDING", "replyTo": null, "_data": {},
    });
    sim.remember(&session, message.clone());
    let after = {
        let mut w = sim.world();
        w.sent.push(Sent {
            session: session.clone(),
            chat_id: chat.clone(),
            text,
            id: id.clone(),
            at_ms: now,
            file: body.file.clone(),
        });
        w.faults.after_send()
    };
    let state: Arc<SimState> = sim.clone().into_inner();
    let answer = json!({"id": id, "_data": {}});
    actix_rt::spawn(async move {
        state.emit(&session, "message.any", message);
        let delay = Duration::from_millis(state.opts.ack_delay_ms);
        for (ack, name) in [(1, "SERVER"), (2, "DEVICE"), (3, "READ")] {
            tokio::time::sleep(delay).await;
            state.emit(&session, "message.ack", json!({
                "id": id, "from": ME, "to": chat, "participant": null, "fromMe": true, "ack": ack, "ackName": name,
            }));
        }
    });
    match after {
        AfterSend::Answer => {}
        AfterSend::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return server_error(&sim, &req, status);
        }
        AfterSend::Hang(hold) => tokio::time::sleep(hold).await,
    }
    HttpResponse::Created().json(answer)
}

/// WAHA's (NestJS's) body for an error in a handler.
fn server_error(sim: &SimState, req: &HttpRequest, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "statusCode": status.as_u16(),
        "timestamp": chrono_ms(),
        "exception": {"message": "simulated failure", "name": "Error"},
        "request": {"path": req.path(), "method": "POST"},
        "version": sim.environment(),
    }))
}

#[derive(Deserialize)]
struct ChatRequest {
    session: Option<String>,
}

async fn seen(sim: web::Data<SimState>, body: web::Json<ChatRequest>) -> HttpResponse {
    let session = body.session.clone().unwrap_or_else(|| "default".into());
    match status_of(&sim, &session) {
        None => session_not_found(),
        Some(s) if s != "WORKING" => wrong_status(&session, &s, "WORKING"),
        _ => HttpResponse::Created().finish(),
    }
}

async fn typing(sim: web::Data<SimState>, body: web::Json<ChatRequest>) -> HttpResponse {
    let session = body.session.clone().unwrap_or_else(|| "default".into());
    match status_of(&sim, &session) {
        None => session_not_found(),
        Some(s) if s != "WORKING" => wrong_status(&session, &s, "WORKING"),
        _ => HttpResponse::Created().json(json!({"result": true})),
    }
}

/// Media the simulator "received": a small picture for images, a text file otherwise.
async fn file(name: web::Path<String>) -> HttpResponse {
    if name.ends_with(".png") || name.ends_with(".jpg") {
        HttpResponse::Ok()
            .content_type("image/png")
            .body(super::png::qr_like(&name, 21, 4))
    } else if name.contains('.') {
        HttpResponse::Ok()
            .content_type("text/plain")
            .body(format!("simulated file {name}\n"))
    } else {
        HttpResponse::NotFound().json(json!({"error": {"code": 404, "key": "FILE_NOT_FOUND", "message": "File not found", "details": "File not found or no longer available"}}))
    }
}

#[derive(Deserialize)]
struct Paging {
    limit: Option<usize>,
    offset: Option<usize>,
}

fn chat_of(m: &Value) -> String {
    let from_me = m["fromMe"].as_bool().unwrap_or(false);
    let pick = if from_me {
        m["to"].as_str().or(m["from"].as_str())
    } else {
        m["from"].as_str()
    };
    pick.unwrap_or_default().to_string()
}

async fn chats(
    sim: web::Data<SimState>,
    session: web::Path<String>,
    q: web::Query<Paging>,
) -> HttpResponse {
    let w = sim.world();
    if !w.sessions.contains_key(session.as_str()) {
        return session_not_found();
    }
    let mut latest: std::collections::BTreeMap<String, i64> = Default::default();
    for m in w.messages.get(session.as_str()).into_iter().flatten() {
        let ts = m["timestamp"].as_i64().unwrap_or(0);
        let e = latest.entry(chat_of(m)).or_insert(ts);
        *e = (*e).max(ts);
    }
    let mut list: Vec<_> = latest.into_iter().collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.1));
    let out: Vec<Value> = list
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(q.limit.unwrap_or(100))
        .map(|(id, ts)| json!({"id": id, "name": null, "conversationTimestamp": ts}))
        .collect();
    HttpResponse::Ok().json(out)
}

async fn chat_messages(
    sim: web::Data<SimState>,
    path: web::Path<(String, String)>,
    q: web::Query<Paging>,
) -> HttpResponse {
    let (session, chat) = path.into_inner();
    let w = sim.world();
    if !w.sessions.contains_key(&session) {
        return session_not_found();
    }
    let chat = chat_id(&chat);
    let out: Vec<Value> = w
        .messages
        .get(&session)
        .into_iter()
        .flatten()
        .rev()
        .filter(|m| chat_of(m) == chat)
        .skip(q.offset.unwrap_or(0))
        .take(q.limit.unwrap_or(10))
        .cloned()
        .collect();
    HttpResponse::Ok().json(out)
}

async fn chat_message(
    sim: web::Data<SimState>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (session, chat, id) = path.into_inner();
    let w = sim.world();
    if !w.sessions.contains_key(&session) {
        return session_not_found();
    }
    let chat = chat_id(&chat);
    let raw = crate::domain::chat::raw_message_id(&id).to_string();
    let found = w.messages.get(&session).into_iter().flatten().find(|m| {
        let mid = m["id"].as_str().unwrap_or_default();
        chat_of(m) == chat && (mid == id || crate::domain::chat::raw_message_id(mid) == raw)
    });
    match found {
        Some(m) => HttpResponse::Ok().json(m),
        None => not_found("Message not found"),
    }
}
