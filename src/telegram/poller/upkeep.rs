//! The loop's upkeep between batches: the once-a-second housekeeping tick
//! (timeouts, broadcasts, link pruning), deferred bookkeeping that falls due
//! on its own, and the graceful stop. Kept apart from `poller.rs`, which is
//! the path every update takes.

use super::Poller;
use crate::domain::Timestamp;
use crate::engine::{Event, Outcome, Record};
use crate::store::LINK_TTL_SECS;
use std::time::Duration;

/// How long shutdown waits for sends in flight.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(7);
/// How often expired message links are removed from the store, and in how
/// many slices a store that must look at every link does it
/// (`Record::PruneLinks`): every 10 s, 1/360 of the links at a time, so
/// the whole table once an hour, as when it was pruned hourly in one go.
const LINK_PRUNE_EVERY_SECS: u64 = 10;
const LINK_PRUNE_SLICES: u32 = 360;

impl Poller {
    /// Lets the engine end idle chats and long searches, and flushes
    /// pending outbox removals.
    pub(super) async fn housekeeping(&mut self) -> anyhow::Result<()> {
        // Decided after the batches ahead, on what they left.
        self.land_all().await;
        self.heartbeat().await;
        if self.sync(&[]).await.is_err() {
            return Ok(());
        }
        let now = Timestamp::now();
        let (searching, chats) = self.engine.counts();
        self.metrics.set_presence(searching, chats);
        let mut outcome = self.broadcast_step(now).await;
        outcome.extend(self.engine.handle(&Event::Tick, now));
        if now.0 >= self.next_link_prune.0 {
            self.next_link_prune = Timestamp(now.0 + LINK_PRUNE_EVERY_SECS);
            let before = Timestamp(now.0.saturating_sub(LINK_TTL_SECS));
            outcome.record(Record::PruneLinks {
                before,
                slices: LINK_PRUNE_SLICES,
            });
        }
        if outcome.records.is_empty() && outcome.sends.is_empty() {
            self.end_turn().await;
            return Ok(());
        }
        let settled = self.settle(outcome.clone(), None, Vec::new()).await;
        self.end_turn().await;
        if let Err(tried) = settled {
            self.degrade(vec![(None, outcome)], &tried).await;
        }
        Ok(())
    }

    /// Hands the running broadcast its next users, if it is ready for them.
    pub(super) async fn broadcast_step(&self, now: Timestamp) -> Outcome {
        let Some((after, limit)) = self.engine.broadcast_wants() else {
            return Outcome::default();
        };
        match self.store.clone().users_after(after, limit).await {
            Ok(users) => {
                let last = users.len() < limit;
                self.engine
                    .handle(&Event::BroadcastUsers { users, last }, now)
            }
            Err(error) => {
                tracing::warn!(%error, "the user list could not be read; the broadcast waits");
                Outcome::default()
            }
        }
    }

    /// Commits the deferred bookkeeping that is due on its own. A failure
    /// keeps it deferred for another try.
    pub(super) async fn flush_deferred(&mut self) {
        if self.deferred.has_due(tokio::time::Instant::now()) {
            let _ = self.settle(Outcome::default(), None, Vec::new()).await;
        }
    }

    /// Graceful stop: let sends in flight finish, then commit their results.
    pub(super) async fn finish(mut self) -> anyhow::Result<()> {
        let pending = self.dispatcher.pending();
        tracing::info!(pending, "stopping: finishing sends in flight");
        let drained = self.dispatcher.drain(SHUTDOWN_DRAIN).await;
        while let Ok(done) = self.finished.try_recv() {
            self.on_done(done).await?;
        }
        self.deferred.expedite(tokio::time::Instant::now());
        self.flush_deferred().await;
        if !drained {
            tracing::warn!(
                left = self.dispatcher.pending(),
                "sends left in the outbox for the next start"
            );
        }
        tracing::info!("stopped; state is committed");
        Ok(())
    }
}
