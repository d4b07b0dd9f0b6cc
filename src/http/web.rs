//! The browser app, embedded in the binary.

use actix_web::HttpResponse;

const INDEX: &str = include_str!("../../web/index.html");

pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(INDEX)
}
