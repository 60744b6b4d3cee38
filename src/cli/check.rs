//! `randchat check-config`: is this configuration good enough to run?
//!
//! Validating the values (done by `config::load` before we get here) cannot
//! tell a revoked token or a firewalled Bot API from a working one, and those
//! are the usual reasons a fresh deployment does nothing. So after printing
//! the effective configuration, this asks Telegram `getMe` once, with a short
//! timeout, and says which of the three it is: accepted (and as which bot),
//! rejected, or unreachable. With the Redis store it also pings the
//! server.

use super::{failed, runtime, Outcome};
use crate::config::Config;
use crate::telemetry::scrub_token;
use std::time::Duration;
use teloxide::prelude::Requester;
use teloxide::{ApiError, Bot, RequestError};
use url::Url;

/// How long `getMe` may take, connecting included. A Bot API that answers
/// slower than this will not serve the bot well either.
const GET_ME_TIMEOUT: Duration = Duration::from_secs(5);

/// Prints the masked configuration, then (unless `offline`) checks the token
/// against `TELEGRAM_API_URL`.
pub fn check_config(config: &Config, offline: bool) -> Outcome {
    println!("configuration is valid\n{}", config.masked_summary());
    if offline {
        println!("Telegram: not contacted (--offline)");
        return Ok(());
    }
    let url = shown(&config.telegram_api_url);
    let me = runtime()?.block_on(get_me(config))?;
    println!("Telegram: BOT_TOKEN accepted at {url}; this bot is @{me}");
    check_redis(config)
}

/// With the Redis store: does the server answer? Reads nothing, writes
/// nothing.
fn check_redis(config: &Config) -> Outcome {
    let crate::config::StoreChoice::Redis { url, prefix } = &config.store else {
        return Ok(());
    };
    runtime()?
        .block_on(crate::store::RedisStore::ping(url))
        .map_err(|e| failed(e.to_string()))?;
    println!("Redis: reachable; keys under prefix {prefix}");
    Ok(())
}

/// The bot's @username (without the @), or why there is none.
async fn get_me(config: &Config) -> Result<String, super::Failure> {
    let url = shown(&config.telegram_api_url);
    let client = teloxide::net::default_reqwest_settings()
        .connect_timeout(GET_ME_TIMEOUT)
        .timeout(GET_ME_TIMEOUT)
        .build()
        .map_err(|e| failed(format!("cannot build the HTTP client: {e}")))?;
    let bot = Bot::with_client(config.bot_token.expose(), client)
        .set_api_url(config.telegram_api_url.clone());
    match bot.get_me().await {
        Ok(me) => Ok(me
            .username
            .clone()
            .unwrap_or_else(|| "(no username)".into())),
        Err(error) => Err(failed(explain(&error, &url))),
    }
}

/// One line saying what went wrong and what to do, token scrubbed.
fn explain(error: &RequestError, url: &str) -> String {
    let detail = scrub_token(&error.to_string());
    match error {
        RequestError::Api(ApiError::InvalidToken) => rejected(url),
        RequestError::Api(api) if api.to_string().starts_with("Unauthorized") => rejected(url),
        RequestError::Network(_) | RequestError::Io(_) => format!(
            "the Bot API at {url} is unreachable ({detail}); check the network, a proxy or firewall, and TELEGRAM_API_URL"
        ),
        RequestError::InvalidJson { .. } => format!(
            "{url} answered, but not like a Telegram Bot API server ({detail}); check TELEGRAM_API_URL"
        ),
        RequestError::RetryAfter(wait) => format!(
            "the Bot API at {url} is rate-limiting this token; try again in {} s",
            wait.duration().as_secs()
        ),
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => {
            format!("the Bot API at {url} refused getMe: {detail}")
        }
    }
}

fn rejected(url: &str) -> String {
    format!("Telegram rejected BOT_TOKEN (401 Unauthorized) at {url}; check the token from @BotFather (/token, or /revoke for a new one)")
}

/// The URL as shown to the operator: no password.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some(crate::config::MASK));
    }
    url.to_string()
}
