//! Shared helpers for the integration tests; each test file does `mod support;`.
//!
//! The fake Bot API and the simulated users live in the library
//! (`randchat::testing`, behind the `testing` feature) so the load generator
//! can use them too; what is only for tests — starting the real binary
//! (`app`) and reading a user's messages in order (`inbox`) — lives here.
//! Not every test uses every helper, hence the `allow`.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod inbox;
pub mod lean;
pub mod webhook;

pub use app::{spawn_app, spawn_app_with, TestApp};
pub use inbox::{chatting, report_with_reason, Inbox};
pub use randchat::testing::{
    Delivery, FakeBotApi, Fault, RecordedRequest, SimChat, SimKind, SimUser,
};
