//! Everything about WAHA: the webhook payloads it sends us and what they mean to the
//! inbox (`events`), HMAC signatures, the REST client we call it with, the media files it
//! keeps (`media`), and a simulator that speaks the same API for tests and demos.

pub mod client;
pub mod events;
pub mod hmac;
pub mod media;
pub mod sim;
pub mod version;
pub mod webhook;
