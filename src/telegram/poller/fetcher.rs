//! With an inbox, polling runs ahead of applying.
//!
//! A task of its own calls getUpdates, keeps the answer in a free inbox
//! slot ([`crate::telegram::inbox`]), hands the batch to the loop and polls
//! again at once: that next poll confirms the batch to Telegram, and the
//! batch is on disk. It does so while Telegram has a backlog, that is
//! after a full answer (100 updates): then a round's length is what
//! bounds throughput. With fewer updates waiting (the usual case: Telegram
//! lets a bot send about 30 messages a second) an answer is handed over
//! unkept and polling waits until the loop has applied it, as without an
//! inbox: no `fdatasync` is added to a message's way, and no CPU. The loop applies batches in order, as before (engine,
//! commit, dispatch), and frees each one's slot once it is applied. So one
//! batch's round trip to Telegram, parse and inbox write overlap the engine
//! and commit of the batch before it, and both cores have work. With every
//! slot in use (the loop is [`SLOTS`] batches behind) polling waits.
//!
//! If an answer could not be kept (a full or failing disk), polling waits
//! in the same way: the batch is confirmed only after its commit.

use super::startup::pause_after;
use super::Poller;
use crate::store::Backend;
use crate::telegram::direct::{read_updates, Direct};
use crate::telegram::inbox::{Inbox, Kept, Slot, SLOTS};
use crate::telegram::incoming::Incoming;
use crate::telegram::source::allowed_updates;
use crate::telegram::source::Applied;
use crate::telegram::source::UpdateSource;
use anyhow::Context;
use bytes::Bytes;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// getUpdates' default limit: an answer this long leaves more waiting.
const FULL_ANSWER: usize = 100;

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
        for kept in std::mem::take(&mut self.kept_before) {
            // An answer that is not a batch (an error the poll got) was
            // never applied, nor confirmed.
            let Ok(updates) = read_updates(&kept.answer) else {
                continue;
            };
            let unapplied = unapplied(&updates, self.last_applied);
            if unapplied > 0 {
                tracing::info!(
                    unapplied,
                    "applying updates kept in the inbox before a stop"
                );
                let applied = self.apply(&updates).await?;
                if let Some(inbox) = &self.inbox {
                    settle_slot(inbox.slot(kept.slot), applied).await;
                }
            }
        }
        Ok(())
    }

    /// At a stop: applies the batches the fetcher handed over and the loop
    /// had not taken yet. The fetcher's next poll may have confirmed them
    /// already, and the next start may not read the inbox (webhook mode,
    /// Redis).
    pub(super) async fn apply_handed_over(
        &mut self,
        fetcher: Option<Fetcher>,
    ) -> anyhow::Result<()> {
        let Some(mut fetcher) = fetcher else {
            return Ok(());
        };
        for fetched in fetcher.stop().await {
            let applied = self.apply(&fetched.updates).await?;
            fetched.applied(applied).await;
        }
        Ok(())
    }
}

/// How many of `updates` come after the last applied update.
fn unapplied(updates: &[Incoming], last_applied: Option<i64>) -> usize {
    let newer = |update: &&Incoming| last_applied.is_none_or(|last| update.id() > last);
    updates.iter().filter(newer).count()
}

/// Starts blocking inbox I/O on the blocking pool at once (not when first
/// awaited, so that it runs beside whatever the caller does meanwhile); a
/// failure, or the task's end without an answer, as text for the log.
fn on_blocking_pool(
    work: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> impl std::future::Future<Output = Result<(), String>> {
    let task = tokio::task::spawn_blocking(work);
    async move {
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// After a batch from the inbox is applied: if its commit failed (its users
/// were told, its relays went out), the slot forgets it, so the next start
/// doesn't apply it again.
async fn settle_slot(slot: Slot, applied: Applied) {
    if applied == Applied::Durable {
        return;
    }
    if let Err(error) = on_blocking_pool(move || slot.forget()).await {
        tracing::error!(%error, "could not clear an inbox slot; its batch may be applied again at the next start");
    }
}

/// The inbox in `dir`, and the batches it kept before the last stop; none
/// without a directory, or for a store or source that has no inbox.
pub(in crate::telegram::poller) fn open_inbox(
    dir: Option<&Path>,
    store: &dyn Backend,
    source: &UpdateSource,
    last_applied: Option<i64>,
) -> anyhow::Result<(Option<Inbox>, Vec<Kept>)> {
    let Some(dir) = dir else {
        return Ok((None, Vec::new()));
    };
    if store.commits_in_place() && source.poll_timeout().is_some() {
        let (inbox, kept) = Inbox::open(dir)
            .with_context(|| format!("cannot open the inbox in {}", dir.display()))?;
        return Ok((Some(inbox), kept));
    }
    let left: usize = Inbox::peek(dir)
        .iter()
        .filter_map(|kept| read_updates(&kept.answer).ok())
        .map(|updates| unapplied(&updates, last_applied))
        .sum();
    if left > 0 {
        tracing::warn!(
            updates = left,
            dir = %dir.display(),
            "the inbox holds updates a crash left unapplied; this mode does not read it: \
             start once with the embedded store and long polling to apply them"
        );
    }
    Ok((None, Vec::new()))
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
    Slot {
        index: usize,
        slot: Slot,
        free: mpsc::UnboundedSender<usize>,
    },
    /// Polling, which waits for a batch the inbox could not keep.
    Polling(oneshot::Sender<()>),
}

impl Fetched {
    /// Tells the fetcher the batch is applied: committed, or (`NotDurable`)
    /// answered after a failed commit, in which case its slot forgets it
    /// first.
    pub async fn applied(self, applied: Applied) {
        // The fetcher may have stopped; then nothing waits.
        let _ = match self.release {
            Release::Slot { index, slot, free } => {
                settle_slot(slot, applied).await;
                free.send(index).map_err(drop)
            }
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

    /// Stops polling, and returns the batches handed over and not taken.
    async fn stop(&mut self) -> Vec<Fetched> {
        self.task.abort();
        // Once the task has ended, nothing more can arrive.
        let _ = (&mut self.task).await;
        let mut left = Vec::new();
        while let Ok(Ok(fetched)) = self.batches.try_recv() {
            left.push(fetched);
        }
        left
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
        // Whether the last answer was full, so that more updates are
        // likely waiting: only then is an answer kept and the next poll
        // sent at once.
        let mut backlog = false;
        while let Some(index) = freed.recv().await {
            let polled = self
                .direct
                .get_updates_answer(self.offset, self.timeout, &allowed)
                .await;
            let kept = match polled {
                Ok(answer) => self.read(index, answer, backlog).await,
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
            backlog = updates.len() >= FULL_ANSWER;
            let Some(last) = updates.iter().map(Incoming::id).max() else {
                let _ = free.send(index); // nothing new: the slot is free again
                continue;
            };
            if kept {
                self.offset = last + 1;
                let release = Release::Slot {
                    index,
                    slot: self.inbox.slot(index),
                    free: free.clone(),
                };
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

    /// Parses `answer` and, if asked to, writes it into slot `index` at
    /// the same time (the two take about as long): the updates, and
    /// whether they are on disk.
    async fn read(
        &self,
        index: usize,
        answer: Bytes,
        keep: bool,
    ) -> Result<(Vec<Incoming>, bool), teloxide::RequestError> {
        if !keep {
            return Ok((read_updates(&answer)?, false));
        }
        let slot = self.inbox.slot(index);
        let writing = answer.clone();
        let keeping = on_blocking_pool(move || slot.keep(&writing));
        let updates = read_updates(&answer);
        // Awaited whatever the parse gave: the slot is not used again while
        // a write to it may still be going on.
        let kept = match keeping.await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "could not keep a batch in the inbox; it is applied before the next poll");
                false
            }
        };
        Ok((updates?, kept))
    }

    async fn hand_over(&self, updates: Vec<Incoming>, release: Release) -> Result<(), ()> {
        let batch = Fetched { updates, release };
        self.batches.send(Ok(batch)).await.map_err(drop)
    }
}

#[cfg(test)]
impl Fetched {
    /// Whether the batch is in the inbox.
    pub fn kept(&self) -> bool {
        matches!(self.release, Release::Slot { .. })
    }
}

#[cfg(test)]
#[path = "fetcher_tests.rs"]
mod tests;
