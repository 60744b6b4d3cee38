//! With an inbox, polling runs ahead of applying.
//!
//! A task of its own calls getUpdates, keeps the answer in a free inbox
//! slot ([`crate::telegram::inbox`]), hands the batch to the loop and polls
//! again at once: that next poll confirms the batch to Telegram, and the
//! batch is on disk. The loop applies batches in order, as before (engine,
//! commit, dispatch), and frees each one's slot once it is applied. So one
//! batch's round trip to Telegram, parse and inbox write overlap the engine
//! and commit of the batch before it, and both cores have work. With every
//! slot in use (the loop is [`SLOTS`] batches behind) polling waits.
//!
//! If an answer could not be kept (a full or failing disk), polling waits
//! until the loop has applied that batch and goes on from there: the batch
//! is confirmed only after its commit, as it would be without an inbox.

use super::startup::pause_after;
use super::Poller;
use crate::store::Backend;
use crate::telegram::direct::{read_updates, Direct};
use crate::telegram::inbox::{Inbox, SLOTS};
use crate::telegram::incoming::Incoming;
use crate::telegram::source::allowed_updates;
use crate::telegram::source::UpdateSource;
use anyhow::Context;
use bytes::Bytes;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

impl Poller {
    /// Polling ahead of the loop, if there is an inbox to keep batches in.
    pub(super) fn fetcher(&mut self) -> Option<Fetcher> {
        let inbox = self.inbox.take()?;
        let timeout = self.source.poll_timeout()?;
        let offset = self.last_applied.map_or(0, |id| id + 1);
        Some(Fetcher::start(self.direct.clone(), timeout, inbox, offset))
    }

    /// Applies the batches the inbox kept before the last stop whose
    /// updates were not applied then, as if Telegram delivered them again.
    pub(super) async fn apply_kept_before(&mut self) -> anyhow::Result<()> {
        for answer in std::mem::take(&mut self.kept_before) {
            // An answer that is not a batch (an error the poll got) was
            // never applied, nor confirmed.
            let Ok(updates) = read_updates(&answer) else {
                continue;
            };
            let newer = |update: &Incoming| self.last_applied.is_none_or(|last| update.id() > last);
            let unapplied = updates.iter().filter(|update| newer(update)).count();
            if unapplied > 0 {
                tracing::info!(
                    unapplied,
                    "applying updates kept in the inbox before a stop"
                );
                self.apply(&updates).await?;
            }
        }
        Ok(())
    }
}

/// The inbox in `dir`, and the batches it kept before the last stop; none
/// without a directory, or for a store or source that has no inbox.
pub(in crate::telegram::poller) fn open_inbox(
    dir: Option<&Path>,
    store: &dyn Backend,
    source: &UpdateSource,
) -> anyhow::Result<(Option<Inbox>, Vec<Bytes>)> {
    match dir {
        Some(dir) if store.commits_in_place() && source.poll_timeout().is_some() => {
            let (inbox, kept) = Inbox::open(dir).context("cannot open the inbox")?;
            Ok((Some(inbox), kept))
        }
        _ => Ok((None, Vec::new())),
    }
}

/// The next batch from the fetcher; never, without one.
pub(in crate::telegram::poller) async fn next_fetched(
    fetcher: &mut Option<Fetcher>,
) -> anyhow::Result<Fetched> {
    match fetcher {
        Some(fetcher) => fetcher.next().await,
        None => std::future::pending().await,
    }
}

/// A batch for the loop to apply.
pub(in crate::telegram::poller) struct Fetched {
    pub updates: Vec<Incoming>,
    release: Release,
}

/// What applying a batch sets free.
enum Release {
    /// Its inbox slot, for a later batch.
    Slot(usize, mpsc::UnboundedSender<usize>),
    /// Polling, which waits for a batch the inbox could not keep.
    Polling(oneshot::Sender<()>),
}

impl Fetched {
    /// Tells the fetcher the batch is applied (committed, or answered
    /// "temporarily unavailable" after a failed commit).
    pub fn applied(self) {
        // The fetcher may have stopped; then nothing waits.
        let _ = match self.release {
            Release::Slot(index, free) => free.send(index).map_err(drop),
            Release::Polling(waiting) => waiting.send(()),
        };
    }
}

/// The polling task; stopped when dropped.
pub(in crate::telegram::poller) struct Fetcher {
    batches: mpsc::Receiver<anyhow::Result<Fetched>>,
    task: JoinHandle<()>,
}

impl Fetcher {
    /// Starts polling from `offset` (the update id after the last applied).
    pub fn start(direct: Direct, timeout: Duration, inbox: Inbox, offset: i64) -> Self {
        let (batches, receiver) = mpsc::channel(SLOTS);
        let polling = Polling {
            direct,
            timeout,
            inbox,
            offset,
            batches,
        };
        Fetcher {
            batches: receiver,
            task: tokio::spawn(polling.run()),
        }
    }

    /// The next batch, in order; an error if Telegram refused the token.
    pub async fn next(&mut self) -> anyhow::Result<Fetched> {
        match self.batches.recv().await {
            Some(batch) => batch,
            None => anyhow::bail!("the polling task stopped"),
        }
    }
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The polling task's state.
struct Polling {
    direct: Direct,
    timeout: Duration,
    inbox: Inbox,
    /// The update id after the last batch kept (or applied).
    offset: i64,
    batches: mpsc::Sender<anyhow::Result<Fetched>>,
}

impl Polling {
    async fn run(mut self) {
        let (free, mut freed) = mpsc::unbounded_channel();
        for index in 0..SLOTS {
            let _ = free.send(index);
        }
        let allowed = allowed_updates();
        while let Some(index) = freed.recv().await {
            let polled = self
                .direct
                .get_updates_answer(self.offset, self.timeout, &allowed)
                .await;
            let kept = match polled {
                Ok(answer) => self.keep(index, answer).await,
                Err(error) => Err(error),
            };
            let (updates, kept) = match kept {
                Ok(kept) => kept,
                Err(error) => {
                    let _ = free.send(index);
                    match pause_after(error).await {
                        Ok(()) => continue,
                        Err(fatal) => return drop(self.batches.send(Err(fatal)).await),
                    }
                }
            };
            let Some(last) = updates.iter().map(Incoming::id).max() else {
                let _ = free.send(index); // nothing new: the slot is free again
                continue;
            };
            if kept {
                self.offset = last + 1;
                let release = Release::Slot(index, free.clone());
                if self.hand_over(updates, release).await.is_err() {
                    return;
                }
            } else {
                let _ = free.send(index);
                let (applied, waiting) = oneshot::channel();
                if self
                    .hand_over(updates, Release::Polling(applied))
                    .await
                    .is_err()
                    || waiting.await.is_err()
                {
                    return; // the loop stopped before applying it
                }
                self.offset = last + 1;
            }
        }
    }

    /// Writes `answer` into slot `index` while it is parsed (the two take
    /// about as long); the updates, and whether they are on disk.
    async fn keep(
        &self,
        index: usize,
        answer: Bytes,
    ) -> Result<(Vec<Incoming>, bool), teloxide::RequestError> {
        let slot = self.inbox.slot(index);
        let writing = answer.clone();
        let keeping = tokio::task::spawn_blocking(move || slot.keep(&writing));
        let updates = read_updates(&answer);
        // Awaited whatever the parse gave: the slot is not used again while
        // a write to it may still be going on.
        let written = keeping.await;
        let kept = match written {
            Ok(Ok(())) => true,
            Ok(Err(error)) => warn_unkept(&error),
            Err(error) => warn_unkept(&error),
        };
        Ok((updates?, kept))
    }

    async fn hand_over(&self, updates: Vec<Incoming>, release: Release) -> Result<(), ()> {
        let batch = Fetched { updates, release };
        self.batches.send(Ok(batch)).await.map_err(drop)
    }
}

fn warn_unkept(error: &dyn std::fmt::Display) -> bool {
    tracing::warn!(%error, "could not keep a batch in the inbox; it is applied before the next poll");
    false
}
