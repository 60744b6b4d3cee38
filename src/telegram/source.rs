//! Where updates come from: long polling or a webhook.
//!
//! The update loop ([`super::poller`]) is the same for both: classify,
//! resolve links, run the engine, commit, dispatch. Only two things differ,
//! and they live here:
//!
//! - **Asking.** Long polling calls getUpdates with the offset after the
//!   last applied update; a webhook waits for the next update(s) Telegram
//!   POSTed to [`super::webhook`].
//! - **Acknowledging.** A long poll confirms a batch implicitly, by asking
//!   for the next offset after it was committed (or, with the embedded
//!   store, kept in the inbox: see `poller::fetcher`). A webhook update is
//!   confirmed by its HTTP 200, so each [`Arrival`] carries the replies that
//!   the loop sends once the batch's commit has returned ([`Applied`]).
//!
//! A failed commit is also handled differently: Telegram re-sends a webhook
//! update that did not get a 2xx, so the loop answers 5xx, rebuilds the
//! engine from what is durable and sends nothing; the retry is applied as
//! if it were new. A long poll cannot ask for a retry, so there the loop
//! tells users "temporarily unavailable" (see `Poller::degrade`).

use super::direct::{read_updates, Direct};
use super::incoming::Incoming;
use super::poller::call_with_patience;
use super::webhook::WebhookFeed;
use anyhow::Context;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use teloxide::payloads::SetWebhookSetters;
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, Update};
use teloxide::{Bot, RequestError};
use tokio::sync::oneshot;

/// Whether a batch's effects are durable, as the loop tells a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Committed (or already applied before): answer 200.
    Durable,
    /// The commit failed (or the store could not be read). A webhook
    /// answers 5xx, nothing was sent, and Telegram delivers the update
    /// again; with long polling the users were answered instead, and the
    /// inbox forgets the batch.
    NotDurable,
}

/// A batch of updates, and who is waiting to hear that it is durable.
#[derive(Default)]
pub struct Arrival {
    pub updates: Vec<Incoming>,
    acks: Vec<oneshot::Sender<Applied>>,
}

impl Arrival {
    pub fn polled(updates: Vec<Incoming>) -> Self {
        Arrival {
            updates,
            acks: Vec::new(),
        }
    }

    /// One webhook update and its HTTP handler's reply channel.
    pub fn pushed(&mut self, update: Update, ack: oneshot::Sender<Applied>) {
        self.updates.push(Incoming::from(update));
        self.acks.push(ack);
    }

    /// Answers every waiting webhook request.
    pub fn acknowledge(self, applied: Applied) {
        for ack in self.acks {
            // The request may be gone (Telegram timed out); it will retry.
            let _ = ack.send(applied);
        }
    }
}

pub type NextArrival = Pin<Box<dyn Future<Output = Result<Arrival, RequestError>> + Send>>;

/// How the loop gets its updates.
pub enum UpdateSource {
    /// getUpdates with this long-poll timeout.
    LongPolling { timeout: Duration },
    /// Updates POSTed to the webhook server.
    Webhook(WebhookFeed),
}

impl UpdateSource {
    /// The next batch. `offset` is the update id after the last applied one.
    /// Long polling calls getUpdates through [`Direct`] (parsing plain
    /// texts leanly, see [`super::lean`]).
    pub fn next(&self, direct: &Direct, offset: i64) -> NextArrival {
        match self {
            UpdateSource::LongPolling { timeout } => {
                let (direct, timeout) = (direct.clone(), *timeout);
                Box::pin(async move {
                    let allowed = allowed_updates();
                    let answer = direct.get_updates_answer(offset, timeout, &allowed).await?;
                    Ok(Arrival::polled(read_updates(&answer)?))
                })
            }
            UpdateSource::Webhook(feed) => {
                let next = feed.next();
                Box::pin(async move { Ok(next.await) })
            }
        }
    }

    /// Tells Telegram how updates are to come: long polling removes any
    /// webhook (Telegram refuses getUpdates while one is set); webhook mode
    /// sets ours, one connection at a time so updates arrive in order (see
    /// [`super::webhook`]).
    pub async fn register(&self, bot: &Bot) -> anyhow::Result<()> {
        match self {
            UpdateSource::LongPolling { .. } => call_with_patience(|| bot.delete_webhook())
                .await
                .map(|_| ())
                .context("deleteWebhook failed"),
            UpdateSource::Webhook(feed) => call_with_patience(|| {
                bot.set_webhook(feed.url.clone())
                    .secret_token(feed.secret.expose().to_owned())
                    .allowed_updates(allowed_updates())
                    .max_connections(1)
            })
            .await
            .map(|_| ())
            .context("setWebhook failed"),
        }
    }

    /// The long-poll timeout; `None` for a webhook.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self {
            UpdateSource::LongPolling { timeout } => Some(*timeout),
            UpdateSource::Webhook(_) => None,
        }
    }

    /// Whether an update whose commit failed is delivered again.
    pub fn redelivers_failures(&self) -> bool {
        matches!(self, UpdateSource::Webhook(_))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            UpdateSource::LongPolling { .. } => "polling for updates",
            UpdateSource::Webhook(_) => "receiving updates by webhook",
        }
    }
}

/// The update types the bot handles, for getUpdates and setWebhook alike.
pub fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::ChannelPost,
        AllowedUpdate::MyChatMember,
        AllowedUpdate::MessageReaction,
        AllowedUpdate::CallbackQuery,
    ]
}
