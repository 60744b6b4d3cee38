//! The loop's side of several instances on one store: taking a turn before
//! the engine decides, keeping the replica up to date, telling new updates
//! from redelivered ones, and adopting a dead instance's outbox.
//!
//! Every place where the engine decides (a batch of updates, a send's
//! feedback, the housekeeping tick, a dashboard action) first calls
//! [`Poller::sync`]: the store's `begin` makes this instance the one
//! deciding and hands back what the others committed meanwhile, which the
//! engine applies ([`crate::engine::Engine::apply_replicated`]); the
//! decision's commit ends the turn, or [`Poller::end_turn`] does when there
//! was nothing to commit. With the embedded store (one process) `begin` and
//! `end` do nothing and cost nothing. See `src/store/redis/shared.rs`.
//!
//! Which updates are new: a store shared by instances behind a load
//! balancer says, when the turn begins, which of a batch's update ids any
//! instance applied already (a webhook update retried on another instance,
//! whose ids are not in order); the embedded store goes by the last applied
//! id, as long polling and a single webhook deliver in order.
//!
//! The turn is taken after the batch is screened (the AI moderator may take
//! seconds) and its links are looked up, so other instances never wait for
//! those.

use super::{inbound, job, Poller};
use crate::domain::Timestamp;
use crate::engine::Event;
use crate::telegram::inbound::Written;
use crate::telegram::source::Applied;
use teloxide::types::Update;

/// The part of a batch not applied before.
pub(super) struct Fresh {
    /// Their update ids.
    pub ids: Vec<i64>,
    /// The highest update id of the batch or applied before.
    pub last: Option<i64>,
    /// Their events, with what was written, for the screener.
    pub events: Vec<(Event, Option<Written>)>,
    /// The update id of each event.
    origins: Vec<i64>,
}

impl Fresh {
    /// `events` (the screened [`Fresh::events`], in order) without those
    /// of updates another instance turned out to have applied; those
    /// updates leave [`Fresh::ids`] too.
    pub fn without(&mut self, events: Vec<Event>, applied: Option<&[i64]>) -> Vec<Event> {
        let Some(applied) = applied.filter(|a| !a.is_empty()) else {
            return events;
        };
        self.ids.retain(|id| !applied.contains(id));
        events
            .into_iter()
            .zip(&self.origins)
            .filter(|(_, id)| !applied.contains(id))
            .map(|(event, _)| event)
            .collect()
    }
}

impl Poller {
    /// Takes this instance's turn and brings the engine up to date (or
    /// reloads a stale one). Returns which of `updates` are already applied,
    /// if the store keeps track; `Err` if the store can't be read or the
    /// turn can't be had: nothing may be decided then.
    pub(super) async fn sync(&mut self, updates: &[i64]) -> Result<Option<Vec<i64>>, ()> {
        if self.reload().await.is_none() {
            return Err(());
        }
        let begun = match self.store.clone().begin(updates.to_vec()).await {
            Ok(begun) => begun,
            Err(error) => {
                tracing::warn!(%error, "could not take this instance's turn to decide");
                return Err(());
            }
        };
        if begun.reload {
            tracing::info!("the change log no longer reaches back far enough; reloading");
            self.stale = true;
            if self.reload().await.is_none() {
                self.end_turn().await;
                return Err(());
            }
        } else if !begun.changes.is_empty() {
            self.engine.apply_replicated(&begun.changes);
        }
        Ok(begun.applied)
    }

    /// Ends a turn that no commit ended (a no-op when none is open).
    pub(super) async fn end_turn(&self) {
        if let Err(error) = self.store.clone().end().await {
            // The lease runs out by itself within a couple of seconds.
            tracing::warn!(%error, "could not end this instance's turn");
        }
    }

    /// Renews this instance's sign of life, and sends what a dead
    /// instance's outbox held.
    pub(super) async fn heartbeat(&mut self) {
        let adopted = match self.store.clone().heartbeat(self.next_seq).await {
            Ok(adopted) => adopted,
            Err(error) => {
                tracing::warn!(%error, "could not renew this instance's sign of life");
                return;
            }
        };
        if adopted.is_empty() {
            return;
        }
        tracing::warn!(
            sends = adopted.len(),
            "adopted the unsent messages of an instance that stopped"
        );
        let last = adopted.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
        self.next_seq = self.next_seq.max(last + 1);
        // They may have gone out once already: their removal is committed
        // at once, as for sends replayed at start-up.
        self.replayed_below = self.next_seq;
        let jobs = adopted
            .into_iter()
            .map(|(seq, send)| job(&self.engine, seq, send));
        self.dispatcher.enqueue(jobs.collect::<Vec<_>>());
    }

    /// The updates of `updates` not applied before, as far as this
    /// process knows: above the last applied id, or, when the store keeps
    /// track of applied updates, all of them (the store says which are
    /// applied once this instance has its turn; see [`Fresh::without`]).
    pub(super) fn fresh(&self, updates: &[Update], now: Timestamp) -> Fresh {
        let by_store = self.store.tracks_updates();
        let mut fresh = Fresh {
            ids: Vec::new(),
            last: self.last_applied,
            events: Vec::new(),
            origins: Vec::new(),
        };
        for update in updates {
            let id = i64::from(update.id.0);
            let seen = !by_store && self.last_applied.is_some_and(|last| id <= last);
            fresh.last = fresh.last.max(Some(id));
            if seen {
                continue; // delivered again: already applied
            }
            fresh.ids.push(id);
            if let teloxide::types::UpdateKind::Message(message) = &update.kind {
                let lag = now.0.saturating_sub(message.date.timestamp().max(0) as u64);
                self.metrics.update_applied(lag);
            }
            let hint = inbound::spoken_language(update);
            fresh.events.extend(hint.map(|event| (event, None)));
            if let Some(event) = inbound::classify(update, &self.bot_username) {
                fresh.events.push((event, inbound::written(update)));
            }
            let added = fresh.events.len() - fresh.origins.len();
            fresh.origins.extend(std::iter::repeat_n(id, added));
        }
        fresh
    }

    /// A batch that can't be decided now (the store is unreadable, or
    /// another instance kept its turn too long). A webhook gets 5xx and
    /// Telegram delivers again; long polling can't ask for that, so the
    /// users of its new updates are told the bot is temporarily
    /// unavailable, as before.
    pub(super) fn unavailable(&mut self, updates: &[Update], now: Timestamp) -> Applied {
        if !self.source.redelivers_failures() {
            let fresh = self.fresh(updates, now);
            if fresh.ids.is_empty() {
                return Applied::Durable;
            }
            self.last_applied = fresh.last;
            let events: Vec<Event> = fresh.events.into_iter().map(|(event, _)| event).collect();
            self.refuse(&events);
        }
        Applied::NotDurable
    }

    /// After a failed commit and a successful reload: whether the commit
    /// landed all the same (Redis applied it, the reply was lost).
    pub(super) async fn landed(&self, last: Option<i64>, ids: Vec<i64>) -> bool {
        let wanted = ids.len();
        match self.store.clone().applied_updates(ids).await {
            Ok(Some(applied)) => applied.len() == wanted,
            Ok(None) => {
                let stored = self.store.clone().load().await.ok();
                stored.is_some_and(|s| s.last_update_id >= last)
            }
            Err(_) => false,
        }
    }
}
