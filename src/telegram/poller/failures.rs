//! The loop after a failed commit (a full disk, Redis down or a commit
//! another instance's turn made stale): the engine is rebuilt from what is
//! durable, and users are told, or Telegram is asked to deliver again.
//! Kept apart from the loop's main path, which it only interrupts.

use super::{job, Poller};
use crate::domain::UserId;
use crate::engine::{Event, Outbound, Outcome, Record};
use crate::i18n::Text;
use crate::telegram::dispatch::Job;
use crate::telegram::source::Applied;

impl Poller {
    /// After a failed commit the engine is ahead of the store: rebuild it
    /// from what is durable, tell the users whose action was lost, and still
    /// deliver what changed no state (plain relays).
    ///
    /// A commit reported as failed may have landed (Redis applied it, the
    /// reply was lost). If the reload finds its sends in the outbox, the
    /// batch is durable as a whole and its sends are on their way: nobody
    /// is told anything went wrong.
    pub(super) async fn degrade(
        &mut self,
        outcomes: Vec<(Option<UserId>, Outcome)>,
        tried: &[u64],
    ) {
        self.stale = true;
        let landed = self.reload().await.unwrap_or_default();
        if landed.iter().any(|seq| tried.contains(seq)) {
            return;
        }
        let mut jobs = Vec::new();
        for (user, outcome) in outcomes {
            if outcome.records.iter().all(is_bookkeeping) {
                let engine = &self.engine;
                jobs.extend(outcome.sends.into_iter().map(|send| job(engine, 0, send)));
            } else if let Some(user) = user {
                let send = Outbound::Tell {
                    user,
                    text: Text::TemporarilyUnavailable,
                };
                jobs.push(job(&self.engine, 0, send));
            }
        }
        self.dispatcher.enqueue(jobs);
    }

    /// Rebuilds a stale engine from the store. Returns `None` while the
    /// store can't be read; otherwise the outbox numbers of sends whose
    /// commit was reported as failed but had landed, now being sent.
    pub(super) async fn reload(&mut self) -> Option<Vec<u64>> {
        if !self.stale {
            return Some(Vec::new());
        }
        match self.store.clone().load().await {
            Ok(snapshot) => {
                self.engine = self.engine.rebuilt_from(&snapshot);
                self.stale = false;
                let unsure = std::mem::take(&mut self.unsure);
                let landed: Vec<Job> = snapshot
                    .outbox
                    .into_iter()
                    .filter(|(seq, _)| unsure.contains(seq))
                    .map(|(seq, send)| job(&self.engine, seq, send))
                    .collect();
                let seqs = landed.iter().map(|job| job.seq).collect();
                if !landed.is_empty() {
                    tracing::warn!(
                        sends = landed.len(),
                        "a commit reported as failed had landed; sending its messages"
                    );
                    self.dispatcher.enqueue(landed);
                }
                tracing::info!("state reloaded from the store; serving again");
                Some(seqs)
            }
            Err(error) => {
                tracing::error!(%error, "the store can't be read; refusing state changes until it can");
                None
            }
        }
    }

    /// After a failed commit of updates Telegram will deliver again: reloads
    /// the engine, and unless the commit landed all the same (Redis applied
    /// it, the reply was lost: the store says the updates are applied),
    /// forgets the updates, so the retry is applied as new.
    pub(super) async fn unless_durable(
        &mut self,
        previous: Option<i64>,
        last: Option<i64>,
        ids: Vec<i64>,
    ) -> Applied {
        self.stale = true;
        if self.reload().await.is_some() && self.landed(last, ids).await {
            return Applied::Durable;
        }
        self.last_applied = previous;
        Applied::NotDurable
    }

    /// Answers every user of `events` "temporarily unavailable", once each.
    pub(super) fn refuse(&self, events: &[Event]) {
        let mut users: Vec<UserId> = events.iter().filter_map(Event::user).collect();
        users.sort_by_key(|u| u.0);
        users.dedup();
        let jobs = users.into_iter().map(|user| {
            let send = Outbound::Tell {
                user,
                text: Text::TemporarilyUnavailable,
            };
            job(&self.engine, 0, send)
        });
        self.dispatcher.enqueue(jobs);
    }
}

/// Records that only keep books (counters, last seen): losing them to a
/// failed commit changes nobody's chat.
fn is_bookkeeping(record: &Record) -> bool {
    matches!(record, Record::Seen { .. } | Record::Count { .. })
}
