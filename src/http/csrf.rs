//! Another site's page must not act or listen as a member through the member's cookie.
//! A browser attaches the `tickhub_token` cookie (`SameSite=Strict` already keeps it off
//! most cross-site requests) but never a bearer header or a `?token=` it does not know, so
//! only requests authenticated by the cookie are checked:
//!
//! - a request that changes state (any method but GET, HEAD, OPTIONS) needs an `Origin`
//!   equal to the hub's public origin (scheme://host:port of `TICKHUB_PUBLIC_URL`) or to
//!   `http(s)://<Host>`, or the header `X-Tickhub-Request: 1`, which a cross-site form
//!   cannot send and cross-site script cannot send without a CORS preflight the hub never
//!   grants;
//! - the websocket upgrade needs such an `Origin` (browsers always send one there, and no
//!   page can add headers to it).

use actix_web::http::header::{HeaderMap, HOST, ORIGIN};
use actix_web::http::Method;

use super::error::ApiError;

/// The custom header a same-origin script sends with state-changing requests.
pub const REQUEST_HEADER: &str = "x-tickhub-request";

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVia {
    /// `Authorization: Bearer`.
    Header,
    /// `?token=` (the websocket).
    Query,
    /// The `tickhub_token` cookie, which a browser sends on its own.
    Cookie,
}

/// The origin (`scheme://host[:port]`, default ports left out as browsers do) of `url`.
pub fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether `origin` (an `Origin` header's value) is the hub's own: `public` (the public
/// origin, when configured) or `http(s)://<host>` (the `Host` the browser asked for).
fn same_origin(origin: &str, host: Option<&str>, public: Option<&str>) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    if origin.is_empty() || origin.eq_ignore_ascii_case("null") {
        return false;
    }
    if public.is_some_and(|p| origin.eq_ignore_ascii_case(p)) {
        return true;
    }
    match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(host) => ["http://", "https://"].iter().any(|scheme| {
            origin.len() == scheme.len() + host.len()
                && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
                && origin[scheme.len()..].eq_ignore_ascii_case(host)
        }),
        None => false,
    }
}

fn header(headers: &HeaderMap, name: impl actix_web::http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn origin_matches(headers: &HeaderMap, public: Option<&str>) -> bool {
    header(headers, ORIGIN).is_some_and(|o| same_origin(o, header(headers, HOST), public))
}

/// The check for an HTTP request (see the module's text).
pub fn check_request(
    method: &Method,
    via: TokenVia,
    headers: &HeaderMap,
    public_origin: Option<&str>,
) -> Result<(), ApiError> {
    if via != TokenVia::Cookie || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if header(headers, REQUEST_HEADER).is_some_and(|v| v.trim() == "1") {
        return Ok(());
    }
    if origin_matches(headers, public_origin) {
        return Ok(());
    }
    Err(ApiError::CrossOrigin(
        "a request authenticated by the cookie that changes something needs an Origin of this hub or the header X-Tickhub-Request: 1".into(),
    ))
}

/// The check for the websocket upgrade.
pub fn check_websocket(
    via: TokenVia,
    headers: &HeaderMap,
    public_origin: Option<&str>,
) -> Result<(), ApiError> {
    if via != TokenVia::Cookie || origin_matches(headers, public_origin) {
        return Ok(());
    }
    Err(ApiError::CrossOrigin(
        "a websocket authenticated by the cookie needs an Origin of this hub".into(),
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    const PUBLIC: Option<&str> = Some("https://hub.example.com");

    #[test]
    fn only_cookie_requests_that_change_state_are_checked() {
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "hub.example.com"),
        ]);
        for via in [TokenVia::Header, TokenVia::Query] {
            assert!(check_request(&Method::POST, via, &evil, PUBLIC).is_ok());
            assert!(check_websocket(via, &evil, PUBLIC).is_ok());
        }
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(
                check_request(&m, TokenVia::Cookie, &evil, PUBLIC).is_ok(),
                "{m}"
            );
        }
        for m in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            let e = check_request(&m, TokenVia::Cookie, &evil, PUBLIC).unwrap_err();
            assert_eq!(e.code(), "cross_origin_refused", "{m}");
        }
    }

    #[test]
    fn the_hubs_own_origin_or_the_custom_header_pass() {
        let ok = [
            headers(&[("origin", "https://hub.example.com")]),
            headers(&[("origin", "HTTPS://Hub.Example.com/")]),
            headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[
                ("origin", "https://10.0.0.5:8443"),
                ("host", "10.0.0.5:8443"),
            ]),
            headers(&[("x-tickhub-request", "1")]),
            headers(&[
                ("origin", "https://evil.example"),
                ("x-tickhub-request", "1"),
            ]),
        ];
        for h in &ok {
            assert!(
                check_request(&Method::POST, TokenVia::Cookie, h, PUBLIC).is_ok(),
                "{h:?}"
            );
        }
        let refused = [
            headers(&[]),
            headers(&[("host", "hub.example.com")]),
            headers(&[("origin", "null"), ("host", "hub.example.com")]),
            headers(&[("origin", "https://hub.example.com.evil.example")]),
            headers(&[
                ("origin", "http://hub.example.com:8080"),
                ("host", "hub.example.com"),
            ]),
            headers(&[
                ("origin", "http://127.0.0.1:8081"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[("x-tickhub-request", "0")]),
        ];
        for h in &refused {
            assert!(
                check_request(&Method::POST, TokenVia::Cookie, h, PUBLIC).is_err(),
                "{h:?}"
            );
        }
    }

    #[test]
    fn a_cookie_websocket_needs_a_matching_origin() {
        let host = ("host", "127.0.0.1:8080");
        assert!(check_websocket(
            TokenVia::Cookie,
            &headers(&[("origin", "http://127.0.0.1:8080"), host]),
            None
        )
        .is_ok());
        assert!(check_websocket(TokenVia::Cookie, &headers(&[host]), None).is_err());
        assert!(check_websocket(
            TokenVia::Cookie,
            &headers(&[("origin", "http://evil.example"), host]),
            None
        )
        .is_err());
        // The custom header is no way in for a websocket: only the browser sets Origin there.
        assert!(check_websocket(
            TokenVia::Cookie,
            &headers(&[
                ("origin", "http://evil.example"),
                ("x-tickhub-request", "1"),
                host
            ]),
            None
        )
        .is_err());
    }

    #[test]
    fn origin_of_leaves_out_default_ports() {
        let u = url::Url::parse("https://hub.example.com:443/app/").unwrap();
        assert_eq!(origin_of(&u), "https://hub.example.com");
        let u = url::Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(origin_of(&u), "http://127.0.0.1:8080");
    }
}
