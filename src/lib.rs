//! tickhub: a WhatsApp team inbox and automation hub on top of WAHA.
//!
//! The folders follow the picture in the design: `waha` (what WAHA sends and what we
//! call on it), `store` (durable state behind one interface for SQLite and PostgreSQL),
//! `actors` (one per WhatsApp session, conversation and connected agent), `bus` (fan-out
//! of committed events), `http` (the API, webhooks and websockets), and `domain` (plain
//! types and rules with no I/O: the access policy, the websocket protocol, what a WhatsApp
//! event means). `app` wires them together and stops them.

pub mod actors;
pub mod app;
pub mod bus;
pub mod cluster;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod redact;
pub mod secrets;
pub mod store;
pub mod waha;

pub use app::RunningApp;
pub use config::Config;
