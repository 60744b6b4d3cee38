//! randchat: an anonymous random-chat Telegram bot.
pub mod config;
pub mod domain;
pub mod engine;
pub mod i18n;
pub mod store;
