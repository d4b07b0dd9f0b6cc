//! The browser app (`web/`), built by build.rs and embedded in the binary: hashed assets
//! cached for good, `index.html` for every path the app routes itself, gzip when the
//! browser takes it.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

pub struct Asset {
    pub path: &'static str,
    pub mime: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The paths the app routes in the browser (the first segment); a reload there gets the app.
pub const APP_ROUTES: &[&str] = &[
    "/login",
    "/inbox",
    "/board",
    "/sessions",
    "/team",
    "/bots",
    "/contacts",
    "/campaigns",
    "/reports",
];

/// Scripts, styles and connections from this origin only; nothing may frame the app.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn serve(req: &HttpRequest, a: &'static Asset, cache: &'static str) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(a.mime)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if a.mime.starts_with("text/html") {
        res.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    match a.gzip {
        Some(gz) if accepts_gzip(req) => res
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gz),
        _ => res.body(a.body),
    }
}

/// `/`, and each path the app routes itself: the app's page, never cached.
pub async fn index(req: HttpRequest) -> HttpResponse {
    match asset("/index.html") {
        Some(a) => serve(&req, a, "no-cache"),
        None => HttpResponse::InternalServerError().finish(),
    }
}

/// `/assets/…`: named by their content's hash, so a browser keeps them for good.
pub async fn static_asset(req: HttpRequest) -> HttpResponse {
    match asset(req.path()) {
        Some(a) => serve(&req, a, "public, max-age=31536000, immutable"),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(accept_encoding: &str) -> HttpRequest {
        actix_web::test::TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, accept_encoding))
            .to_http_request()
    }

    #[test]
    fn gzip_is_sent_only_to_browsers_that_take_it() {
        assert!(accepts_gzip(&request("gzip, deflate, br")));
        assert!(accepts_gzip(&request("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&request("gzip;q=0")));
        assert!(!accepts_gzip(&request("gzip; q=0.0, br")));
        assert!(!accepts_gzip(&request("br, identity")));
    }

    #[test]
    fn the_built_app_is_embedded_with_its_assets() {
        let index = asset("/index.html").expect("index.html embedded");
        let html = std::str::from_utf8(index.body).expect("utf-8");
        let script = html
            .split("src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("index.html loads a script");
        assert!(script.starts_with("/assets/"), "{script}");
        let js = asset(script).expect("its script is embedded");
        assert!(js.mime.starts_with("text/javascript"));
        assert!(js.gzip.is_some_and(|g| g.len() < js.body.len()));
    }
}
