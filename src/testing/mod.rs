//! A fake Telegram Bot API and simulated users, for tests and load tests.
//!
//! Compiled only with the `testing` feature, which the crate's own tests and
//! benches turn on (through a dev-dependency on itself); a release build of
//! the bot never contains it. It lives in the library, not under `tests/`,
//! so that the integration tests and the load generator (`benches/loadgen.rs`)
//! share one fake.
//!
//! `FakeBotApi` is a stateful stand-in for Telegram served on 127.0.0.1: it
//! keeps the update queue, per-chat message ids and every message, records
//! every request, and can be told to misbehave (`FakeBotApi::start_lean`
//! starts a lean mode for load tests, see `fake_lean.rs`). `SimUser` and
//! `SimChat` play the people on the other end.
#![allow(missing_docs)]

pub mod fake_bot_api;
mod fake_extras;
mod fake_lean;
mod fake_methods;
mod fake_server;
mod fake_state;
mod fake_webhook;
pub mod redis_server;
mod sim_kinds;
pub mod sim_user;
pub mod store_fixtures;

pub use fake_bot_api::{Delivery, FakeBotApi, Fault, RecordedRequest};
pub use fake_lean::{LeanCounts, LeanUpdate, Track};
pub use redis_server::RedisServer;
pub use sim_kinds::SimKind;
pub use sim_user::{SimChat, SimUser};
