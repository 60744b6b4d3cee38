//! From a decision to its sends: the batch that commits an outcome, the
//! commit, and what follows it. Kept apart from `poller.rs`, the path an
//! update takes through the engine; `ahead` uses the same two halves
//! ([`Poller::prepare`], [`Poller::conclude`]) with the commit in between
//! not awaited.

use super::{job, Poller, HOUSEKEEPING_EVERY};
use crate::domain::{Timestamp, UserId};
use crate::engine::{Outbound, Outcome, Record};
use crate::store::{Batch, StoreError};
use crate::telegram::dispatch::Job;
use crate::telegram::source::Applied;
use std::sync::Arc;

impl Poller {
    /// Commits an outcome (with `last_update_id` and the deferred
    /// bookkeeping of finished sends), then dispatches its sends. On failure
    /// nothing is sent, the bookkeeping stays deferred, and the outbox
    /// numbers the batch tried to add are returned. Batches committing
    /// ahead (`ahead`) land first, so that their sends go out before this
    /// one's. (Callers that decide with the engine let them land before
    /// deciding; this covers the flushes of deferred bookkeeping.)
    pub(super) async fn settle(
        &mut self,
        outcome: Outcome,
        last_update_id: Option<i64>,
        update_ids: Vec<i64>,
    ) -> Result<(), Vec<u64>> {
        self.land_all().await;
        let (batch, committing) = self.prepare(outcome, last_update_id, update_ids);
        let result = self.commits.commit(batch).await;
        self.conclude(committing, result)
    }

    /// The batch that commits an outcome, and what its landing needs: the
    /// sends get their outbox numbers, the deferred bookkeeping is taken.
    pub(super) fn prepare(
        &mut self,
        mut outcome: Outcome,
        last_update_id: Option<i64>,
        update_ids: Vec<i64>,
    ) -> (Batch, Committing) {
        self.seen.filter(&mut outcome.records, Timestamp::now());
        let jobs: Vec<Job> = outcome
            .sends
            .into_iter()
            .map(|send| {
                self.next_seq += 1;
                job(&self.engine, self.next_seq - 1, send)
            })
            .collect();
        let (acked, links) = self.deferred.take(tokio::time::Instant::now());
        let counted: Vec<Record> = outcome
            .records
            .iter()
            .filter(|r| matches!(r, Record::Count { .. }))
            .cloned()
            .collect();
        let link_count = links.len();
        let mut records = links;
        records.extend(outcome.records);
        let batch = Batch {
            records,
            last_update_id,
            outbox_add: jobs.iter().map(|job| (job.seq, job.send.clone())).collect(),
            outbox_done: acked,
            update_ids,
        };
        // Kept to put back if the commit fails (rare, so cloned then).
        let committing = Committing {
            done_back: batch.outbox_done.clone(),
            links_back: batch.records[..link_count].to_vec(),
            jobs,
            counted,
            started: std::time::Instant::now(),
        };
        (batch, committing)
    }

    /// After a commit: dispatches its sends, or (failed) puts the
    /// bookkeeping back and returns the outbox numbers it tried to add.
    pub(super) fn conclude(
        &mut self,
        committing: Committing,
        result: Result<(), Arc<StoreError>>,
    ) -> Result<(), Vec<u64>> {
        let Committing {
            jobs,
            counted,
            started,
            done_back,
            links_back,
        } = committing;
        match result {
            Ok(()) => {
                self.metrics.committed(&counted, started.elapsed());
                let sends: Vec<Outbound> = jobs.iter().map(|job| job.send.clone()).collect();
                self.metrics.relaying(&sends);
                self.dispatcher.enqueue(jobs);
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "commit failed");
                let retry_at = tokio::time::Instant::now() + HOUSEKEEPING_EVERY;
                self.deferred.restore(done_back, links_back, retry_at);
                let tried: Vec<u64> = jobs.iter().map(|job| job.seq).collect();
                self.unsure.extend(&tried);
                Err(tried)
            }
        }
    }
}

/// How a batch went through the engine.
pub(super) enum Decided {
    /// Nothing to commit: already applied, or refused.
    Settled(Applied),
    /// Decided, to be committed.
    ToCommit(Decision),
}

/// What the engine decided for a batch's new updates.
pub(super) struct Decision {
    /// The last applied update id before the batch.
    pub(super) previous: Option<i64>,
    pub(super) last: Option<i64>,
    pub(super) ids: Vec<i64>,
    /// Each event's user and outcome, for [`Poller::degrade`].
    pub(super) outcomes: Vec<(Option<UserId>, Outcome)>,
}

impl Decision {
    /// The batch's outcomes as one.
    pub(super) fn merged(&self) -> Outcome {
        let mut outcome = Outcome::default();
        self.outcomes
            .iter()
            .for_each(|(_, o)| outcome.extend(o.clone()));
        outcome
    }
}

/// A commit on its way: what its landing needs.
pub(super) struct Committing {
    pub(super) jobs: Vec<Job>,
    /// Its counter records, for the metrics.
    pub(super) counted: Vec<Record>,
    pub(super) started: std::time::Instant,
    /// Finished sends' outbox removals and links it took from `deferred`,
    /// to put back if it fails.
    pub(super) done_back: Vec<u64>,
    pub(super) links_back: Vec<Record>,
}
