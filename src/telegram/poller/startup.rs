//! Start-up calls to the Bot API and the loop's pause after a failed
//! getUpdates: network trouble is retried, a bad token stops the bot.

use super::super::outbound::{self, Failure};
use super::redact;
use crate::i18n::Lang;
use anyhow::{bail, Context};
use std::future::IntoFuture;
use std::time::Duration;
use teloxide::payloads::SetMyCommandsSetters;
use teloxide::prelude::Requester;
use teloxide::types::BotCommand;
use teloxide::{Bot, RequestError};

const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// The command menu: English by default, and one per language for clients
/// set to it.
pub(super) async fn register_commands(bot: &Bot) -> anyhow::Result<()> {
    let menu = |lang: Lang| -> Vec<BotCommand> {
        crate::i18n::commands(lang)
            .into_iter()
            .map(|(name, about)| BotCommand::new(name, about))
            .collect()
    };
    call_with_patience(|| bot.set_my_commands(menu(Lang::En)))
        .await
        .context("setMyCommands failed")?;
    for lang in Lang::ALL {
        call_with_patience(|| bot.set_my_commands(menu(lang)).language_code(lang.code()))
            .await
            .context("setMyCommands failed")?;
    }
    Ok(())
}

pub(super) async fn pause_after(error: RequestError) -> anyhow::Result<()> {
    match outbound::classify(&error) {
        Failure::Fatal => {
            bail!("Telegram rejected BOT_TOKEN (401 Unauthorized); check the token from @BotFather")
        }
        Failure::RetryAfter(wait) => tokio::time::sleep(wait).await,
        _ => {
            tracing::warn!(error = %redact(&error), "getUpdates failed; retrying");
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
    Ok(())
}

/// A seed for captcha challenges that differs from run to run.
pub(super) fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Calls the Bot API at start-up, retrying network trouble but not a bad
/// token.
pub(in crate::telegram) async fn call_with_patience<F, R>(
    mut call: impl FnMut() -> F,
) -> anyhow::Result<R>
where
    F: IntoFuture<Output = Result<R, RequestError>>,
{
    let mut attempts = 0;
    loop {
        match call().into_future().await {
            Ok(value) => return Ok(value),
            Err(error) => match outbound::classify(&error) {
                Failure::Fatal => bail!("Telegram rejected BOT_TOKEN (401 Unauthorized); check the token from @BotFather"),
                Failure::RetryAfter(wait) => tokio::time::sleep(wait).await,
                _ if attempts < 5 => {
                    attempts += 1;
                    tracing::warn!(error = %redact(&error), attempts, "Bot API call failed; retrying");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                _ => bail!("the Bot API is unreachable: {}", redact(&error)),
            },
        }
    }
}
