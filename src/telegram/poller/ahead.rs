//! Deciding the next batch while the last one commits.
//!
//! Under a backlog the fetcher hands batches over back to back, and the
//! loop used to wait for each batch's commit (about half of its round)
//! before it ran the next through the engine. With the fetcher, a batch
//! is already safe in the inbox before its commit, so the loop now hands
//! the commit to the writer and goes on to the next batch at once; the
//! batches' commits then land in order, and share transactions when they
//! queue up.
//!
//! What a user sees does not change: a batch's sends still go out only
//! once its commit has landed, in batch order, and before the sends of
//! anything the loop commits later (housekeeping, a dashboard action, the
//! reaction to a failed send): those first let every batch ahead land.
//! A batch's inbox slot is freed when its commit lands, so a crash before
//! that applies it again at the next start.
//!
//! A failed commit fails every batch decided after it: they were decided
//! on top of it. The writer refuses them ([`GroupCommit::submit`]), the
//! loop lets them all land, rebuilds the engine from the store and answers
//! their users as after any failed commit ([`Poller::degrade`]): as if
//! they had been one batch.
//!
//! [`GroupCommit::submit`]: crate::store::group_commit::GroupCommit::submit

use super::fetcher::Fetched;
use super::{Committing, Decided, Poller};
use crate::domain::UserId;
use crate::engine::Outcome;
use crate::store::group_commit::Landing;
use crate::store::StoreError;
use crate::telegram::source::Applied;
use std::collections::VecDeque;
use std::sync::Arc;

/// A batch whose commit is on its way.
pub(super) struct Ahead {
    landing: Landing,
    committing: Committing,
    /// Each event's user and outcome, for [`Poller::degrade`].
    outcomes: Vec<(Option<UserId>, Outcome)>,
    fetched: Fetched,
}

/// The batches committing ahead, oldest first.
pub(super) type Queue = VecDeque<Ahead>;

/// The oldest batch ahead once its commit has landed; never, with none.
pub(super) async fn next_landed(queue: &mut Queue) -> (Ahead, Result<(), Arc<StoreError>>) {
    let Some(oldest) = queue.front_mut() else {
        return std::future::pending().await;
    };
    let result = (&mut oldest.landing).await;
    match queue.pop_front() {
        Some(oldest) => (oldest, result),
        None => std::future::pending().await,
    }
}

impl Poller {
    /// Applies a batch from the fetcher: through the engine, and its
    /// commit handed to the writer without waiting for it. A stale engine
    /// (a commit failed, the store could not be read back) is not used
    /// ahead, nor is the AI moderator: then every batch ahead lands first,
    /// and this one is applied as without the fetcher. (A batch the inbox
    /// could not keep comes here too; the fetcher polls again only once
    /// it has landed.)
    pub(super) async fn apply_ahead(&mut self, fetched: Fetched) -> anyhow::Result<()> {
        // Batches whose commits have landed send now, not after this one
        // is decided.
        self.land_ready().await;
        // With the AI moderator, deciding a batch waits for its verdicts
        // (up to seconds): the batches ahead would send only after that.
        if self.stale || self.screener.moderates() {
            self.land_all().await;
            let applied = self.apply(&fetched.updates).await?;
            fetched.applied(applied).await;
            return Ok(());
        }
        let decision = match self.decide(&fetched.updates).await? {
            Decided::Settled(applied) => {
                fetched.applied(applied).await;
                return Ok(());
            }
            Decided::ToCommit(decision) => decision,
        };
        let outcome = decision.merged();
        let (batch, committing) = self.prepare(outcome, decision.last, decision.ids);
        let landing = self.commits.submit(batch);
        self.end_turn().await;
        self.ahead.push_back(Ahead {
            landing,
            committing,
            outcomes: decision.outcomes,
            fetched,
        });
        Ok(())
    }

    /// A batch ahead has landed: its sends go out and its slot is freed.
    /// If it failed, so do the batches after it (see the module docs): they
    /// all land, then their users are answered as after a failed commit.
    pub(super) async fn on_landed(&mut self, ahead: Ahead, result: Result<(), Arc<StoreError>>) {
        if result.is_ok() {
            return self.dispatch_landed(ahead).await;
        }
        let mut landed = vec![(ahead, result)];
        while let Some(mut later) = self.ahead.pop_front() {
            let result = (&mut later.landing).await;
            landed.push((later, result));
        }
        let mut outcomes = Vec::new();
        let mut tried = Vec::new();
        let mut failed = Vec::new();
        for (ahead, result) in landed {
            if result.is_ok() {
                self.dispatch_landed(ahead).await;
                continue;
            }
            if let Err(seqs) = self.conclude(ahead.committing, result) {
                tried.extend(seqs);
            }
            outcomes.extend(ahead.outcomes);
            failed.push(ahead.fetched);
        }
        self.degrade(outcomes, &tried).await;
        for fetched in failed {
            fetched.applied(Applied::NotDurable).await;
        }
    }

    /// Dispatches a committed batch's sends and frees its slot.
    async fn dispatch_landed(&mut self, ahead: Ahead) {
        // A commit that landed concludes without error.
        let _ = self.conclude(ahead.committing, Ok(()));
        ahead.fetched.applied(Applied::Durable).await;
    }

    /// Handles the batches ahead whose commits have landed already, in
    /// order, without waiting for the others.
    pub(super) async fn land_ready(&mut self) {
        while let Some(oldest) = self.ahead.front_mut() {
            let Some(result) = oldest.landing.landed() else {
                return;
            };
            let Some(oldest) = self.ahead.pop_front() else {
                return;
            };
            self.on_landed(oldest, result).await;
        }
    }

    /// Lets every batch ahead land, in order: before anything else is
    /// decided or sent, and before the loop stops.
    pub(super) async fn land_all(&mut self) {
        while let Some(mut oldest) = self.ahead.pop_front() {
            let result = (&mut oldest.landing).await;
            self.on_landed(oldest, result).await;
        }
    }
}
