//! The update loop, owned end to end.
//!
//! teloxide's stock polling confirms a batch to Telegram before its handlers
//! finish, so a crash loses those updates. Here one loop does, in order:
//!
//! 1. getUpdates from the confirmed offset;
//! 2. turn each new update into an event and run it through the engine
//!    (updates already applied, by id, are skipped: Telegram redelivers
//!    after a crash);
//! 3. commit the batch's records, its last update id and its sends (the
//!    outbox) in one transaction;
//! 4. perform the sends, feed failures (403, 400) back to the engine, and
//!    clear the outbox;
//! 5. only then ask for the next batch, which confirms this one.
//!
//! A crash between 3 and 4 replays the outbox at start-up, so nobody misses
//! a "partner found" or a relayed message.

use super::inbound;
use super::outbound::{Courier, Failure, Feedback};
use crate::domain::Timestamp;
use crate::engine::{Engine, Event, Outbound, Outcome};
use crate::i18n::Text;
use crate::store::{Backend, Batch};
use crate::telemetry::Pseudonymizer;
use anyhow::{bail, Context};
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, BotCommand, Update};
use teloxide::Bot;

/// How many rounds of feedback (a failed send causing more sends) one batch
/// may cause before the rest is left to the logs.
const MAX_FEEDBACK_ROUNDS: usize = 3;
const RETRY_PAUSE: Duration = Duration::from_secs(2);

pub struct Poller {
    bot: Bot,
    engine: Engine,
    store: Arc<dyn Backend>,
    courier: Courier,
    bot_username: String,
    last_applied: Option<i64>,
    poll_timeout: Duration,
}

impl Poller {
    /// Connects to the Bot API, registers the command menu and restores the
    /// engine from the store, replaying any sends a crash interrupted.
    pub async fn start(
        bot: Bot,
        store: Arc<dyn Backend>,
        names: Pseudonymizer,
        poll_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let me = call_with_patience(|| bot.get_me())
            .await
            .context("getMe failed")?;
        let bot_username = me.username.clone().unwrap_or_default();
        call_with_patience(|| bot.delete_webhook())
            .await
            .context("deleteWebhook failed")?;
        let commands: Vec<_> = crate::i18n::COMMANDS
            .iter()
            .map(|(name, about)| BotCommand::new(*name, *about))
            .collect();
        call_with_patience(|| bot.set_my_commands(commands.clone()))
            .await
            .context("setMyCommands failed")?;

        let snapshot = store.clone().load().await?;
        let engine = Engine::restore(&snapshot);
        if let Err(problem) = engine.check_invariants() {
            tracing::error!(%problem, "restored state is inconsistent");
        }
        let (searching, chatting) = engine.counts();
        tracing::info!(searching, chatting, "state restored");
        let mut poller = Poller {
            courier: Courier::new(bot.clone(), names),
            bot,
            engine,
            store,
            bot_username,
            last_applied: snapshot.last_update_id,
            poll_timeout,
        };
        if !snapshot.outbox.is_empty() {
            tracing::info!(
                sends = snapshot.outbox.len(),
                "replaying sends interrupted by the last stop"
            );
            poller.deliver(snapshot.outbox).await?;
        }
        Ok(poller)
    }

    /// Polls until `shutdown` completes. A batch in progress is finished
    /// and committed before returning.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        tracing::info!(bot = %self.bot_username, "polling for updates");
        loop {
            let offset = self.last_applied.map_or(0, |id| id + 1);
            let request = self
                .bot
                .get_updates()
                .offset(offset as i32)
                .timeout(self.poll_timeout.as_secs() as u32)
                .allowed_updates(allowed_updates());
            let updates = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                result = request.into_future() => result,
            };
            match updates {
                Ok(updates) => self.apply(updates).await?,
                Err(error) => self.pause_after(error).await?,
            }
        }
        tracing::info!("stopped polling; state is committed");
        Ok(())
    }

    async fn pause_after(&self, error: teloxide::RequestError) -> anyhow::Result<()> {
        match super::outbound::classify(&error) {
            Failure::Fatal => bail!(
                "Telegram rejected BOT_TOKEN (401 Unauthorized); check the token from @BotFather"
            ),
            Failure::RetryAfter(wait) => tokio::time::sleep(wait).await,
            _ => {
                tracing::warn!(error = %redact(&error), "getUpdates failed; retrying");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
        Ok(())
    }

    /// Applies one batch of updates: engine, commit, sends.
    async fn apply(&mut self, updates: Vec<Update>) -> anyhow::Result<()> {
        let now = Timestamp::now();
        let mut outcome = Outcome::default();
        let mut last = self.last_applied;
        let mut users = Vec::new();
        for update in &updates {
            let id = i64::from(update.id.0);
            if last.is_some_and(|applied| id <= applied) {
                continue; // delivered again after a crash: already applied
            }
            last = Some(id);
            if let Some(event) = inbound::classify(update, &self.bot_username) {
                users.extend(event.user());
                outcome.extend(self.engine.handle(&event, now));
            }
        }
        if last == self.last_applied {
            return Ok(());
        }
        let committed = self
            .commit(outcome.records, last, outcome.sends.clone())
            .await;
        self.last_applied = last;
        match committed {
            Ok(()) => self.deliver(outcome.sends).await,
            Err(()) => {
                self.recover().await?;
                let sorry = users
                    .into_iter()
                    .map(|user| Outbound::Tell {
                        user,
                        text: Text::TemporarilyUnavailable,
                    })
                    .collect();
                self.courier.deliver(sorry).await;
                Ok(())
            }
        }
    }

    /// Commits records, the last applied update id and the outbox.
    async fn commit(
        &self,
        records: Vec<crate::engine::Record>,
        last_update_id: Option<i64>,
        outbox: Vec<Outbound>,
    ) -> Result<(), ()> {
        let batch = Batch {
            records,
            last_update_id,
            outbox: Some(outbox),
        };
        self.store.clone().commit(batch).await.map_err(|error| {
            tracing::error!(%error, "commit failed; users are told to try again");
        })
    }

    /// After a failed commit the engine is ahead of the store: rebuild it
    /// from what is durable.
    async fn recover(&mut self) -> anyhow::Result<()> {
        let snapshot = self
            .store
            .clone()
            .load()
            .await
            .context("the store can't be read after a failed commit")?;
        self.engine = Engine::restore(&snapshot);
        Ok(())
    }

    /// Performs committed sends, then lets the engine react to failures,
    /// then clears the outbox.
    async fn deliver(&mut self, mut sends: Vec<Outbound>) -> anyhow::Result<()> {
        for _ in 0..MAX_FEEDBACK_ROUNDS {
            let feedback = self.courier.deliver(sends).await;
            if feedback.is_empty() {
                break;
            }
            let now = Timestamp::now();
            let mut outcome = Outcome::default();
            for item in feedback {
                match item {
                    Feedback::Unreachable(user) => {
                        outcome.extend(self.engine.handle(&Event::Unreachable { user }, now))
                    }
                    Feedback::DeliveryFailed(user) => outcome.sends.push(Outbound::Tell {
                        user,
                        text: Text::DeliveryFailed,
                    }),
                }
            }
            if self
                .commit(outcome.records, None, outcome.sends.clone())
                .await
                .is_err()
            {
                return self.recover().await;
            }
            sends = outcome.sends;
        }
        if self.commit(Vec::new(), None, Vec::new()).await.is_err() {
            self.recover().await?;
        }
        Ok(())
    }
}

fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::ChannelPost,
        AllowedUpdate::MyChatMember,
        AllowedUpdate::CallbackQuery,
    ]
}

/// Calls the Bot API at start-up, retrying network trouble but not a bad
/// token.
async fn call_with_patience<F, R>(mut call: impl FnMut() -> F) -> anyhow::Result<R>
where
    F: std::future::IntoFuture<Output = Result<R, teloxide::RequestError>>,
{
    let mut attempts = 0;
    loop {
        match call().into_future().await {
            Ok(value) => return Ok(value),
            Err(error) => match super::outbound::classify(&error) {
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

/// An error's text with the token scrubbed from any URL it quotes.
pub fn redact(error: &teloxide::RequestError) -> String {
    crate::telemetry::scrub_token(&error.to_string())
}
