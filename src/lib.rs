//! randchat: an anonymous random-chat Telegram bot.
//!
//! The shape of the house: `engine` is a pure state machine (events in,
//! records and sends out); `store` makes records durable; `telegram` is the
//! shell that talks to the Bot API and owns the update loop; `app` wires
//! them together; `config` and `telemetry` serve them all. `service` runs
//! the operator side of a live bot (`http` probes, the `control` socket),
//! and `cli` holds the operator commands (`check-config`, `stats`, …).
//! `submit` carries dashboard actions into the update loop.

pub mod app;
pub mod cli;
pub mod config;
pub mod control;
pub mod domain;
pub mod engine;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod service;
pub mod store;
pub mod submit;
pub mod telegram;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
