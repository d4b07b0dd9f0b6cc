//! `GET /ws`: the agents' websocket (contract §3). This handler decides the handshake
//! (auth, Origin, `since`) like any request; a 101 carries the agent it accepted to the
//! upgrade (`http::upgrade`), which hands the connection to it.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::{authenticate, check_websocket_origin, credentials_from, peer_ip};
use super::csrf::TokenVia;
use super::error::{ApiError, ErrorBody};
use crate::actors::agent::AgentActor;
use crate::actors::Hub;
use crate::domain::audit::Origin;

#[derive(Deserialize)]
pub struct WsQuery {
    token: Option<String>,
    since: Option<String>,
}

#[utoipa::path(get, path = "/ws", tag = "realtime",
    params(("token" = Option<String>, Query, description = "bearer token (or the tickhub_token cookie)"),
           ("since" = Option<i64>, Query, minimum = 0, description = "replay every event after this seq first"),
           ("Upgrade" = String, Header, pattern = "[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]", description = "`websocket`"),
           ("Connection" = String, Header, pattern = "^[Uu][Pp][Gg][Rr][Aa][Dd][Ee]$", description = "`Upgrade`"),
           ("Sec-WebSocket-Version" = String, Header, pattern = "^(13|8|7)$"),
           ("Sec-WebSocket-Key" = String, Header)),
    responses((status = 101, description = "websocket: JSON text frames {type, seq, data}"),
        (status = 400, body = ErrorBody, description = "not a websocket handshake, or a bad `since`"),
        (status = 401, body = ErrorBody, description = "no valid token"),
        (status = 403, body = ErrorBody, description = "authenticated by the cookie without an Origin of this hub"),
        (status = 503, body = ErrorBody, description = "the database is away; try again")))]
pub async fn connect(
    hub: web::Data<Arc<Hub>>,
    req: HttpRequest,
    q: web::Query<WsQuery>,
) -> Result<HttpResponse, ApiError> {
    let credentials = match q.token.clone() {
        Some(t) => Some((t, TokenVia::Query)),
        None => credentials_from(&req),
    };
    // Another site's page can open a websocket that carries the member's cookie: only
    // the hub's own pages may listen that way.
    if let Some((_, via)) = &credentials {
        check_websocket_origin(&hub, &req, *via)?;
    }
    let auth = authenticate(&hub, credentials, Origin::websocket(peer_ip(&req))).await?;
    if auth.api_key.is_some() {
        // Integrations get events through outbound webhooks (docs/integrations.md).
        return Err(ApiError::Forbidden(
            "API keys cannot open the agents' websocket; subscribe to outbound webhooks".into(),
        ));
    }
    let since = match q.since.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::BadRequest(format!("since must be a seq number, got {s:?}"))
        })?),
    };
    let handshake = actix_http::ws::handshake(req.head())
        .map_err(|e| ApiError::BadRequest(format!("not a websocket handshake: {e}")))?
        .finish();
    let mut res = HttpResponse::from(handshake.map_into_boxed_body());
    let actor = AgentActor::new(hub.get_ref().clone(), auth.user, auth.viewer, since);
    res.extensions_mut().insert(Accepted(actor));
    Ok(res)
}

/// The agent a 101 answer accepted, for the upgrade to run on the connection.
pub struct Accepted(pub AgentActor);
