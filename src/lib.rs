//! randchat: an anonymous random-chat Telegram bot.
//!
//! The shape of the house: `engine` is a pure state machine (events in,
//! records and sends out); `store` makes records durable; `telegram` is the
//! shell that talks to the Bot API and owns the update loop; `app` wires
//! them together; `config` and `telemetry` serve them all.

pub mod app;
pub mod config;
pub mod domain;
pub mod engine;
pub mod i18n;
pub mod store;
pub mod telegram;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
