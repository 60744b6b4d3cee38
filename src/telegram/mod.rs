//! The only part of the house that knows teloxide.
//!
//! `inbound` turns updates into engine events, `outbound` turns engine sends
//! into Bot API calls and classifies their failures, and `poller` owns the
//! update loop that ties them to the store, fed by `source`: long polling,
//! or the `webhook` server.

mod calls;
mod deferred;
pub mod direct;
pub mod dispatch;
pub mod inbound;
pub mod inbox;
pub mod incoming;
mod keyboards;
pub mod lean;
mod menus;
pub mod outbound;
pub mod poller;
pub mod screen;
mod seen;
pub mod source;
pub mod throttle;
pub mod webhook;
mod wire;

use std::time::Duration;
use teloxide::Bot;

/// How long any Bot API call may take: the long-poll timeout plus 10 s, so
/// a getUpdates that waits out its whole timeout still completes.
pub fn call_timeout(poll_timeout: Duration) -> Duration {
    poll_timeout + Duration::from_secs(10)
}

/// A Bot API client whose HTTP timeout outlasts the long-poll timeout.
pub fn bot(token: &str, api_url: url::Url, poll_timeout: Duration) -> anyhow::Result<Bot> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(call_timeout(poll_timeout))
        .build()
        .map_err(|error| anyhow::anyhow!("cannot build the HTTP client: {error}"))?;
    Ok(Bot::with_client(token, client).set_api_url(api_url))
}
