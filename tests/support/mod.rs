//! Shared helpers for the integration tests; each test file does `mod support;`.
//!
//! Why: every end-to-end test needs a Telegram to talk to, and the real one is
//! off limits (no network, no real users). `FakeBotApi` is a stateful stand-in
//! served on 127.0.0.1, and `SimUser`/`SimChat` play the people on the other end.
//! Not every test uses every helper, hence the `allow`.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod fake_bot_api;
mod fake_methods;
mod fake_server;
mod fake_state;
pub mod inbox;
mod sim_kinds;
pub mod sim_user;

pub use app::{spawn_app, spawn_app_with, TestApp};
pub use fake_bot_api::{Delivery, FakeBotApi, Fault, RecordedRequest};
pub use inbox::Inbox;
pub use sim_kinds::SimKind;
pub use sim_user::{SimChat, SimUser};
