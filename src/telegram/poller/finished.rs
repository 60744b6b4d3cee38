//! What comes back from the dispatcher: finished sends, whose outbox
//! removals and links wait for the next commit and whose failures become
//! engine events at once, and the link lookups that may wait a moment for
//! them. Kept apart from `poller.rs`, which is the path every update takes;
//! see its module docs for why links and removals are deferred.

use super::{Poller, LINK_GRACE};
use crate::domain::Timestamp;
use crate::engine::{Event, Outbound, Outcome, Record};
use crate::i18n::Text;
use crate::telegram::dispatch::Done;
use crate::telegram::outbound::Feedback;
use std::time::Duration;

impl Poller {
    /// Fills in, for replies, edits, reactions and /delete, the other side
    /// of the message they point at. A store that can't answer leaves them
    /// unlinked (a reply then goes out as a plain copy).
    ///
    /// A copy's link is recorded when copyMessage answers, but Telegram
    /// shows the copy to the partner before that answer reaches the bot, so
    /// a quick reply or reaction can arrive first. When a lookup misses
    /// while sends are in flight, the loop takes in finished sends for a
    /// moment and looks again.
    pub(super) async fn resolve_links(&mut self, events: &mut [Event]) -> anyhow::Result<()> {
        if !events.iter().any(|e| e.link_key().is_some()) {
            return Ok(());
        }
        self.take_finished(Duration::ZERO).await?;
        self.look_up(events).await;
        let missed = |events: &[Event]| {
            events
                .iter()
                .any(|e| e.link_key().is_some() && !e.has_link())
        };
        if missed(events) && !self.ahead.is_empty() {
            // The copy may be in a batch still committing ahead (its send
            // leaves once that lands), or the link in one (it is in the
            // store once that lands).
            self.land_all().await;
            self.look_up(events).await;
        }
        if missed(events) && self.dispatcher.pending() > 0 {
            self.take_finished(LINK_GRACE).await?;
            self.look_up(events).await;
        }
        Ok(())
    }

    /// Links still waiting to be written answer first; the store the rest.
    async fn look_up(&self, events: &mut [Event]) {
        for event in events.iter_mut() {
            if let Some(found) = event.link_key().and_then(|key| self.deferred.link(&key)) {
                event.set_link(Some(found));
            }
        }
        let unlinked = |e: &&mut Event| e.link_key().is_some() && !e.has_link();
        let keys: Vec<_> = events
            .iter_mut()
            .filter(unlinked)
            .filter_map(|e| e.link_key())
            .collect();
        if keys.is_empty() {
            return;
        }
        let found = match self.store.clone().linked(keys).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "message links could not be read");
                return;
            }
        };
        let mut found = found.into_iter();
        for event in events.iter_mut().filter(unlinked) {
            event.set_link(found.next().flatten());
        }
    }

    /// Handles the sends that finish within `wait` (none: only those done).
    pub(super) async fn take_finished(&mut self, wait: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let done = match self.finished.try_recv() {
                Ok(done) => done,
                Err(_) if wait.is_zero() => return Ok(()),
                Err(_) => match tokio::time::timeout_at(deadline, self.finished.recv()).await {
                    Ok(Some(done)) => done,
                    _ => return Ok(()),
                },
            };
            self.on_done(done).await?;
            if wait.is_zero() || self.dispatcher.pending() == 0 {
                return Ok(());
            }
        }
    }

    /// Sends finished: defer their outbox removals and links to the next
    /// commit, and let the engine react at once to any that failed for good.
    pub(super) async fn on_done(&mut self, first: Done) -> anyhow::Result<()> {
        self.reload().await;
        let mut outcome = Outcome::default();
        let mut next = Some(first);
        let (at, now) = (Timestamp::now(), tokio::time::Instant::now());
        let mut replayed = false;
        let mut feedbacks = Vec::new();
        while let Some(done) = next {
            replayed |= done.seq != 0 && done.seq < self.replayed_below;
            feedbacks.extend(done.feedback);
            let links =
                done.links
                    .into_iter()
                    .map(|(original, copy)| Record::Link { original, copy, at });
            self.deferred.note(done.seq, links, now);
            next = self.finished.try_recv().ok();
        }
        if !feedbacks.is_empty() {
            // Decided after the batches ahead, on what they left.
            self.land_all().await;
            // Decided on the latest state; if the turn can't be had, the
            // fenced commit refuses a stale decision.
            let _ = self.sync(&[]).await;
            for feedback in feedbacks {
                outcome.extend(self.feedback(feedback));
            }
        }
        if outcome.records.is_empty() && outcome.sends.is_empty() {
            self.end_turn().await;
            if replayed {
                self.flush_deferred().await;
            }
            return Ok(()); // the bookkeeping rides with the next commit
        }
        let settled = self.settle(outcome.clone(), None, Vec::new()).await;
        self.end_turn().await;
        if let Err(tried) = settled {
            self.degrade(vec![(None, outcome)], &tried).await;
        }
        Ok(())
    }

    fn feedback(&self, feedback: Feedback) -> Outcome {
        match feedback {
            Feedback::Unreachable(user) => self
                .engine
                .handle(&Event::Unreachable { user }, Timestamp::now()),
            Feedback::DeliveryFailed(user) => Outcome {
                records: Vec::new(),
                sends: vec![Outbound::Tell {
                    user,
                    text: Text::DeliveryFailed,
                }],
            },
            Feedback::Broadcast(to, result) => self
                .engine
                .handle(&Event::BroadcastResult { to, result }, Timestamp::now()),
            Feedback::BroadcastShown(message) => self
                .engine
                .handle(&Event::BroadcastShown { message }, Timestamp::now()),
        }
    }
}
