//! Login with argon2-hashed passwords (rate-limited, through the bounded hashing pool);
//! bearer tokens (or the `tickhub_token` cookie, or `?token=` on the websocket) identify
//! the member on every other call. A request authenticated by the cookie is also checked
//! against cross-site use (`csrf`). See docs/security.md.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::Checked;
use super::csrf::{self, TokenVia};
use super::error::{ApiError, AuthErrors, ErrorBody, JsonBodyErrors, UnprocessableError};
use super::login_limit::LoginLimiter;
use super::validate::no_nul;
use crate::actors::Hub;
use crate::domain::access::api_keys as api_key_policy;
use crate::domain::audit::Origin;
use crate::domain::Viewer;
use crate::store::users::{self, User};
use crate::store::{api_keys, tokens};

/// The cookie the web app is authenticated by.
pub const COOKIE: &str = "tickhub_token";

/// Creates a token for `user` (lasting `TICKHUB_TOKEN_TTL_HOURS`) and stores its hash,
/// with the login's audit entry.
pub async fn issue_token(hub: &Hub, user: &User, origin: Origin) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("thk_{}", hex::encode(bytes));
    let ttl_ms = i64::try_from(hub.config().token_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = hub.now_ms().saturating_add(ttl_ms);
    hub.record_login(user, token.clone(), expires_at, origin)
        .await?;

    Ok(token)
}

/// The login cookie: only over https when the hub is public over https, never readable by
/// script, never sent by another site, gone when the token is.
fn session_cookie(hub: &Hub, token: String) -> Cookie<'static> {
    let ttl = i64::try_from(hub.config().token_ttl.as_secs()).unwrap_or(i64::MAX);
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(public_is_https(hub))
        .max_age(time::Duration::seconds(ttl))
        .finish()
}

/// The same cookie, expired: the browser drops it.
fn removal_cookie(hub: &Hub) -> Cookie<'static> {
    let mut c = session_cookie(hub, String::new());
    c.make_removal();
    c
}

fn public_is_https(hub: &Hub) -> bool {
    hub.config()
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https")
}

fn public_origin(hub: &Hub) -> Option<String> {
    hub.config().public_url.as_ref().map(csrf::origin_of)
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(pattern = r"^[^\u0000]*$")]
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "also sets the `tickhub_token` cookie (HttpOnly, SameSite=Strict, Max-Age = the token's lifetime, Secure when the hub is public over https)"),
        (status = 401, body = ErrorBody, description = "wrong email or password, or a deactivated account"),
        (status = 429, body = ErrorBody, description = "too many attempts for this account or from this address",
            headers(("Retry-After" = u64, description = "whole seconds to wait"))),
        (status = 503, body = ErrorBody, description = "the database is away, or too many password checks at once; try again",
            headers(("Retry-After" = u64, description = "whole seconds to wait (password checks)"))),
        JsonBodyErrors))]
pub async fn login(
    hub: web::Data<Arc<Hub>>,
    limiter: web::Data<LoginLimiter>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let origin = Origin::http(peer_ip(&req));
    let body = body.into_inner();
    no_nul("email", &body.email)?;
    limiter.check_login(&body.email, req.peer_addr().map(|a| a.ip()))?;
    let found = users::for_login(hub.db(), &body.email).await?;
    // An unknown email is checked against a hash made at start, so that timing does not
    // tell which emails exist.
    let hash = found.as_ref().map(|f| f.password_hash.clone());
    let ok = crate::credentials::verify_async(body.password, hash).await?;
    let user = match (ok, found) {
        (true, Some(f)) if f.active => f.user,
        (ok, found) => {
            let member = found.as_ref().map(|f| f.user.id);
            hub.record_login_failed(&body.email, member, origin).await?;
            return Err(ApiError::Unauthorized(if ok {
                // Said only to whoever knows the password.
                "this account is deactivated; ask an admin".into()
            } else {
                "wrong email or password".into()
            }));
        }
    };
    let token = issue_token(&hub, &user, origin).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&hub, token.clone()))
        .json(LoginResponse { token, user }))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the token is revoked, the cookie cleared and the member's sockets closed (others reconnect with their own tokens)"), AuthErrors))]
pub async fn logout(hub: web::Data<Arc<Hub>>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    hub.record_logout(&auth.viewer, auth.token).await?;
    // A socket opened with this token would otherwise listen on after it is revoked.
    hub.bus()
        .disconnect_user(auth.user.id, "logged out: reconnect with a valid token");
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(&hub))
        .finish())
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), AuthErrors))]
pub async fn me(auth: AuthUser) -> web::Json<User> {
    web::Json(auth.user)
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 10 characters mixing two of letters, digits and other characters; not
    /// the email, not a common password.
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePassword,
    responses((status = 204, description = "changed; every other token of the member is revoked (this one keeps working)"),
        (status = 403, body = ErrorBody, description = "`current_password` is wrong"),
        (status = 429, body = ErrorBody, description = "too many attempts for this account",
            headers(("Retry-After" = u64, description = "whole seconds to wait"))),
        UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn change_password(
    hub: web::Data<Arc<Hub>>,
    limiter: web::Data<LoginLimiter>,
    auth: AuthUser,
    body: Checked<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    // Proving the current password spends the account's login budget.
    limiter.check_account(&auth.user.email)?;
    hub.change_own_password(
        &auth.viewer,
        &auth.token,
        b.current_password,
        b.new_password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The authenticated member of a request, and who they are to the access policy.
pub struct AuthUser {
    pub user: User,
    pub token: String,
    pub viewer: Viewer,
    /// How the request proved it (the cookie is checked against cross-site use).
    pub via: TokenVia,
    /// Set when the request came with an API key rather than a member's login: the key's
    /// id and scopes (the access policy bounds the member's role by them).
    pub api_key: Option<(i64, Vec<crate::domain::access::api_keys::Scope>)>,
}

/// The client's address as this hub saw it (no forwarding header is trusted).
pub fn peer_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// The request's token and how it came: the `Authorization: Bearer` header first, then
/// an API key's `X-Api-Key`, then the cookie.
pub fn credentials_from(req: &HttpRequest) -> Option<(String, TokenVia)> {
    if let Some(h) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
        {
            return Some((t.trim().to_string(), TokenVia::Header));
        }
    }
    if let Some(k) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some((k.trim().to_string(), TokenVia::Header));
    }
    req.cookie(COOKIE)
        .map(|c| (c.value().to_string(), TokenVia::Cookie))
}

pub fn token_from(req: &HttpRequest) -> Option<String> {
    credentials_from(req).map(|(t, _)| t)
}

pub async fn authenticate(
    hub: &Hub,
    credentials: Option<(String, TokenVia)>,
    origin: Origin,
) -> Result<AuthUser, ApiError> {
    let (token, via) =
        credentials.ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    if token.contains('\0') {
        return Err(ApiError::Unauthorized("invalid or expired token".into()));
    }
    if token.starts_with(API_KEY_PREFIX) {
        return match api_keys::by_key(hub.db(), &token, hub.now_ms()).await? {
            Some((id, user, scopes)) => Ok(AuthUser {
                viewer: hub.viewer(&user, origin).await?,
                user,
                token,
                via,
                api_key: Some((id, scopes)),
            }),
            None => Err(ApiError::Unauthorized(
                "invalid, expired or revoked API key".into(),
            )),
        };
    }
    match tokens::by_token(hub.db(), &token, hub.now_ms()).await? {
        Some(user) => Ok(AuthUser {
            viewer: hub.viewer(&user, origin).await?,
            user,
            token,
            via,
            api_key: None,
        }),
        None => Err(ApiError::Unauthorized("invalid or expired token".into())),
    }
}

/// How API keys begin (login tokens are `thk_` and hex only).
pub const API_KEY_PREFIX: &str = "thk_api_";

/// An API key reaches only what its scopes cover (`domain::access::api_keys`).
fn check_scopes(auth: &AuthUser, method: &str, route: &str) -> Result<(), ApiError> {
    match &auth.api_key {
        None => Ok(()),
        Some((_, scopes)) => api_key_policy::may_call(scopes, method, route)
            .map_err(|_| ApiError::Forbidden(api_key_policy::lacks(method, route))),
    }
}

/// Checks a websocket upgrade's credentials against cross-site use (before the upgrade).
pub fn check_websocket_origin(hub: &Hub, req: &HttpRequest, via: TokenVia) -> Result<(), ApiError> {
    csrf::check_websocket(via, req.headers(), public_origin(hub).as_deref())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let hub = req.app_data::<web::Data<Arc<Hub>>>().cloned();
        let credentials = credentials_from(req);
        let origin = Origin::http(peer_ip(req));
        // Decided here, from the request's headers, before anything is looked up.
        let cross_site = match (&hub, &credentials) {
            (Some(hub), Some((_, via))) => csrf::check_request(
                req.method(),
                *via,
                req.headers(),
                public_origin(hub).as_deref(),
            ),
            _ => Ok(()),
        };
        let method = req.method().to_string();
        let route = req
            .match_pattern()
            .unwrap_or_else(|| req.path().to_string());
        Box::pin(async move {
            let hub = hub.ok_or_else(|| ApiError::Internal("hub missing from app data".into()))?;
            cross_site?;
            let auth = authenticate(&hub, credentials, origin).await?;
            check_scopes(&auth, &method, &route)?;
            Ok(auth)
        })
    }
}
