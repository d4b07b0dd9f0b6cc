//! Login with argon2-hashed passwords; bearer tokens (or the `tickhub_token` cookie, or
//! `?token=` on the websocket) identify the user on every other call.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, AuthErrors, ErrorBody, JsonBodyErrors};
use super::validate::no_nul;
use crate::actors::Hub;
use crate::domain::audit::Origin;
use crate::domain::Viewer;
use crate::store::users::{self, User};

const TOKEN_DAYS: i64 = 30;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    crate::credentials::hash(password).map_err(|e| ApiError::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    crate::credentials::verify(password, hash)
}

/// Creates a token for `user` and stores its hash, with the login's audit entry.
pub async fn issue_token(hub: &Hub, user: &User, origin: Origin) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("thk_{}", hex::encode(bytes));
    let expires_at = hub.now_ms() + TOKEN_DAYS * 86_400_000;
    hub.record_login(user, token.clone(), expires_at, origin)
        .await?;
    Ok(token)
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
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody, description = "wrong email or password"),
        (status = 503, body = ErrorBody, description = "the database is away; try again"), JsonBodyErrors))]
pub async fn login(
    hub: web::Data<Arc<Hub>>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let origin = Origin::http(peer_ip(&req));
    let body = body.into_inner();
    no_nul("email", &body.email)?;
    let found = users::credentials(hub.db(), &body.email).await?;
    // Verify against a fixed hash when the email is unknown, so timing does not tell
    // which emails exist.
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let password = body.password;
    let ok = web::block(move || {
        let hash = hash.unwrap_or_else(|| {
            DUMMY_HASH
                .get_or_init(|| hash_password("no user has this password").unwrap_or_default())
                .clone()
        });
        verify_password(&password, &hash)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        (_, user) => {
            hub.record_login_failed(&body.email, user.map(|u| u.id), origin)
                .await?;
            return Err(ApiError::Unauthorized("wrong email or password".into()));
        }
    };
    let token = issue_token(&hub, &user, origin).await?;
    Ok(HttpResponse::Ok()
        .cookie(
            actix_web::cookie::Cookie::build("tickhub_token", token.clone())
                .path("/")
                .http_only(true)
                .same_site(actix_web::cookie::SameSite::Strict)
                .finish(),
        )
        .json(LoginResponse { token, user }))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the token is revoked"), AuthErrors))]
pub async fn logout(hub: web::Data<Arc<Hub>>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    hub.record_logout(&auth.viewer, auth.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), AuthErrors))]
pub async fn me(auth: AuthUser) -> web::Json<User> {
    web::Json(auth.user)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The authenticated user of a request, and who they are to the access policy.
pub struct AuthUser {
    pub user: User,
    pub token: String,
    pub viewer: Viewer,
}

/// The client's address as this hub saw it (no forwarding header is trusted).
pub fn peer_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

pub fn token_from(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
        {
            return Some(t.trim().to_string());
        }
    }
    if let Some(c) = req.cookie("tickhub_token") {
        return Some(c.value().to_string());
    }
    None
}

pub async fn authenticate(
    hub: &Hub,
    token: Option<String>,
    origin: Origin,
) -> Result<AuthUser, ApiError> {
    let token = token.ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    if token.contains('\0') {
        return Err(ApiError::Unauthorized("invalid or expired token".into()));
    }
    match users::by_token(hub.db(), &token, hub.now_ms()).await? {
        Some(user) => Ok(AuthUser {
            viewer: hub.viewer(&user, origin).await?,
            user,
            token,
        }),
        None => Err(ApiError::Unauthorized("invalid or expired token".into())),
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let hub = req.app_data::<web::Data<Arc<Hub>>>().cloned();
        let token = token_from(req);
        let origin = Origin::http(peer_ip(req));
        Box::pin(async move {
            let hub = hub.ok_or_else(|| ApiError::Internal("hub missing from app data".into()))?;
            authenticate(&hub, token, origin).await
        })
    }
}
