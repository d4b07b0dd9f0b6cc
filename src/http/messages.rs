//! `/api/messages/{id}/…`: sending a failed message again, and a message's media.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use super::error::{ApiError, AuthErrors, ErrorBody, ForbiddenError, NotFoundError};
use crate::actors::hub::{MediaError, MessageMedia};
use crate::actors::Hub;
use crate::store::messages::Message;
use crate::waha::client::WahaError;

#[utoipa::path(post, path = "/api/messages/{id}/retry", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Message, description = "queued again: the same message, `pending` once more (`message.updated`), then sent through WAHA at the session's rate"),
        (status = 409, body = ErrorBody, description = "not an outbound message that failed (or already queued again)"),
        ForbiddenError, NotFoundError, AuthErrors))]
pub async fn retry(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<Message>, ApiError> {
    Ok(web::Json(hub.retry_message(&auth.viewer, *id).await?))
}

/// How long a browser may keep a file it fetched (privately: never a shared cache).
const CACHE_CONTROL: &str = "private, max-age=3600";

#[utoipa::path(get, path = "/api/messages/{id}/media", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "*/*", body = Vec<u8>,
            description = "the file, streamed from WAHA, with its `Content-Type`; images, audio and video inline, anything else as an attachment",
            headers(("Cache-Control" = String, description = "private, max-age=3600"))),
        (status = 404, body = ErrorBody, description = "no such message (or not yours to see), no media, a media URL that is not a file of the configured WAHA, or one WAHA no longer has"),
        (status = 502, body = ErrorBody, description = "WAHA did not answer, or answered with an error"),
        AuthErrors))]
pub async fn media(
    hub: web::Data<Arc<Hub>>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let MessageMedia {
        file,
        mimetype,
        filename,
    } = hub
        .message_media(&auth.viewer, *id)
        .await
        .map_err(|e| match e {
            MediaError::Hub(e) => ApiError::from(e),
            MediaError::Waha(e) => bad_gateway(e),
        })?;
    let content_type = file
        .content_type
        .clone()
        .or(mimetype)
        .filter(|t| is_media_type(t))
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut r = HttpResponse::Ok();
    r.insert_header((header::CONTENT_TYPE, content_type.as_str()))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((
            header::CONTENT_DISPOSITION,
            disposition(&content_type, filename.as_deref()),
        ))
        // The file is the customer's: a browser must not sniff it into a page, nor run it
        // as one on the hub's origin (an HTML or SVG file opened directly).
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ));
    if let Some(len) = file.content_length {
        r.no_chunking(len);
    }
    Ok(r.streaming(file.into_stream()))
}

/// `type/subtype` (with parameters) in visible ASCII: what may go in the header as it is.
fn is_media_type(t: &str) -> bool {
    let essence = t.split(';').next().unwrap_or("").trim();
    let parts_ok = essence
        .split_once('/')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'));
    t.len() <= 200 && parts_ok && t.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// WAHA's failure as a 502 (its own words go to the log, not to the client).
fn bad_gateway(e: WahaError) -> ApiError {
    tracing::warn!(error = %e, "fetching media from WAHA failed");
    let (code, message) = match &e {
        WahaError::Http { status, .. } => ("waha_error", format!("WAHA answered {status}")),
        WahaError::Transport(_) => ("waha_unreachable", "WAHA did not answer".to_string()),
        WahaError::Decode(_) => (
            "waha_bad_answer",
            "WAHA's answer could not be read".to_string(),
        ),
    };
    ApiError::BadGateway { code, message }
}

/// Images, audio and video show in the page; anything else is a download, so a file a
/// customer sent never renders as a document of the hub's origin.
fn disposition(content_type: &str, filename: Option<&str>) -> String {
    let inline = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| content_type.starts_with(p))
        && !content_type.starts_with("image/svg");
    let kind = if inline { "inline" } else { "attachment" };
    match filename.map(str::trim).filter(|f| !f.is_empty()) {
        None => kind.to_string(),
        Some(name) => {
            let ascii: String = name
                .chars()
                .take(100)
                .map(|c| {
                    if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{disposition, is_media_type};

    #[test]
    fn media_types_that_fit_a_header() {
        assert!(is_media_type("image/jpeg"));
        assert!(is_media_type("audio/ogg; codecs=opus"));
        for bad in [
            "",
            "jpeg",
            "image/",
            "text/html\r\nSet-Cookie: x=1",
            "a/b/c",
        ] {
            assert!(!is_media_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn only_pictures_and_sound_show_inline() {
        assert_eq!(disposition("image/png", None), "inline");
        assert_eq!(disposition("audio/ogg; codecs=opus", None), "inline");
        assert_eq!(disposition("image/svg+xml", None), "attachment");
        assert_eq!(disposition("text/html", None), "attachment");
        assert_eq!(
            disposition("application/pdf", Some("Fatura março \"2\".pdf")),
            "attachment; filename=\"Fatura mar_o _2_.pdf\"; filename*=UTF-8''Fatura%20mar%C3%A7o%20%222%22.pdf"
        );
    }
}
