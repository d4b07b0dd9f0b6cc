//! `/api/team-members`: the team (contract §3a). Admins and managers only; what each may
//! do to whom is the access policy's (`domain::access`), applied by the hub.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthUser;
use super::body::{present, Checked};
use super::error::{
    ApiError, AuthErrors, ErrorBody, ForbiddenError, JsonBodyErrors, NotFoundError,
    UnprocessableError,
};
use super::pagination::{page, Page, PageQuery};
use crate::actors::{Hub, MemberInput, MemberPatch};
use crate::domain::hours::WeeklyHours;
use crate::domain::Role;
use crate::store::members::Member;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeQuery {
    /// `presence` adds each member's presence.
    #[param(pattern = "^(presence)?$")]
    pub include: Option<String>,
}

impl IncludeQuery {
    fn presence(&self) -> Result<bool, ApiError> {
        match self.include.as_deref() {
            None | Some("") => Ok(false),
            Some("presence") => Ok(true),
            Some(other) => Err(ApiError::BadRequest(format!(
                "include: only \"presence\", got {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMember {
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001f]+@[^@\s.\u0000-\u001f][^@\s\u0000-\u001f]*\.[^@\s.\u0000-\u001f]+$"
    )]
    pub email: String,
    #[schema(
        max_length = 200,
        pattern = r"^\s*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$"
    )]
    pub name: String,
    pub role: Role,
    /// At least 10 characters mixing two of letters, digits and other characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// WhatsApp session names the member works in.
    #[serde(default)]
    pub sessions: Vec<String>,
    /// Most open conversations at once; absent or null: no limit.
    #[schema(minimum = 0, maximum = 10000)]
    pub capacity: Option<i64>,
    pub working_hours: Option<WeeklyHours>,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchMember {
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001f]+@[^@\s.\u0000-\u001f][^@\s\u0000-\u001f]*\.[^@\s.\u0000-\u001f]+$"
    )]
    pub email: Option<String>,
    #[schema(
        max_length = 200,
        pattern = r"^\s*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$"
    )]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// Replaces the sessions (a manager's change keeps those they do not work in).
    pub sessions: Option<Vec<String>>,
    /// null: no limit.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    pub capacity: Option<Option<i64>>,
    /// null: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<WeeklyHours>)]
    pub working_hours: Option<Option<WeeklyHours>>,
    pub skills: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPassword {
    /// At least 10 characters mixing two of letters, digits and other characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

#[utoipa::path(get, path = "/api/team-members", tag = "team", security(("bearer" = [])),
    params(IncludeQuery, PageQuery),
    responses((status = 200, body = inline(Page<Member>), description = "by id"),
        (status = 400, body = ErrorBody, description = "a query parameter out of its range or pattern"),
        ForbiddenError, AuthErrors))]
pub async fn list(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    q: web::Query<IncludeQuery>,
    p: web::Query<PageQuery>,
) -> Result<web::Json<Page<Member>>, ApiError> {
    let limit = p.limit()?;
    let items = hub
        .members(&auth.viewer, p.id_cursor()?, limit, q.presence()?)
        .await?;
    Ok(web::Json(page(items, limit, |m| m.id.to_string())))
}

#[utoipa::path(post, path = "/api/team-members", tag = "team", security(("bearer" = [])),
    request_body = CreateMember,
    responses((status = 201, body = Member), (status = 409, body = ErrorBody, description = "the email is taken"),
        ForbiddenError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn create(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    body: Checked<CreateMember>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let m = hub
        .create_member(
            &auth.viewer,
            MemberInput {
                email: b.email,
                name: b.name,
                role: b.role,
                password: b.password,
                sessions: b.sessions,
                capacity: b.capacity,
                working_hours: b.working_hours,
                skills: b.skills,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(m))
}

#[utoipa::path(get, path = "/api/team-members/{id}", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path), IncludeQuery),
    responses((status = 200, body = Member), (status = 400, body = ErrorBody, description = "a bad `include`"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn get(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<IncludeQuery>,
) -> Result<web::Json<Member>, ApiError> {
    Ok(web::Json(
        hub.member(&auth.viewer, *id, q.presence()?).await?,
    ))
}

#[utoipa::path(patch, path = "/api/team-members/{id}", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatchMember,
    responses((status = 200, body = Member), (status = 409, body = ErrorBody, description = "the email is taken, or a member's own role"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn update(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<PatchMember>,
) -> Result<web::Json<Member>, ApiError> {
    let b = body.0;
    let patch = MemberPatch {
        email: b.email,
        name: b.name,
        role: b.role,
        sessions: b.sessions,
        capacity: b.capacity,
        working_hours: b.working_hours,
        skills: b.skills,
    };
    Ok(web::Json(
        hub.update_member(&auth.viewer, *id, patch).await?,
    ))
}

#[utoipa::path(post, path = "/api/team-members/{id}/deactivate", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Member, description = "deactivated: tokens revoked, sockets closed, open conversations back in the queue"),
        (status = 409, body = ErrorBody, description = "oneself, or the last active admin"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn deactivate(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Member>, ApiError> {
    Ok(web::Json(
        hub.set_member_active(&auth.viewer, *id, false).await?,
    ))
}

#[utoipa::path(post, path = "/api/team-members/{id}/activate", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Member), ForbiddenError, NotFoundError, AuthErrors))]
pub async fn activate(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Member>, ApiError> {
    Ok(web::Json(
        hub.set_member_active(&auth.viewer, *id, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/team-members/{id}/password", tag = "team", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewPassword,
    responses((status = 204, description = "set; every token of the member is revoked"),
        (status = 409, body = ErrorBody, description = "one's own password (POST /api/auth/password)"),
        ForbiddenError, NotFoundError, UnprocessableError, JsonBodyErrors, AuthErrors))]
pub async fn reset_password(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Checked<NewPassword>,
) -> Result<HttpResponse, ApiError> {
    hub.reset_password(&auth.viewer, *id, body.0.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
