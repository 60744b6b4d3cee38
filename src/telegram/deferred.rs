//! Bookkeeping of finished sends, carried by later commits.
//!
//! Every performed send leaves two things to write: its outbox entry to
//! remove, and for a relay the links between the original and its copy.
//! Neither changes anybody's chat, and nobody waits for them, so they wait
//! here and ride along with commits the loop makes anyway.
//!
//! - **Outbox removals** ride with the next commit; if nothing else
//!   commits, they get one of their own [`FLUSH_DELAY`] after the first of
//!   them arrived (the delay counts from the first entry, so a steady
//!   stream of finished sends can't postpone it).
//! - **Links** wait longer, up to [`LINK_FLUSH_DELAY`] (or until
//!   [`MAX_WAITING_LINKS`] wait), and are then written all at once. Why:
//!   a link is keyed by its chat, so under load each link lands in a
//!   different B-tree leaf, and a commit copies and writes every leaf it
//!   touches. Written with every round of the update loop, the links of
//!   ~90 relays dirtied ~180 leaves per commit and were a third of the
//!   bot's CPU (profile: redb leaf rebuilds, pwrite and fdatasync). Written
//!   once a second, a leaf that many links land in is copied and written
//!   once. Meanwhile the waiting links answer lookups from memory
//!   ([`Deferred::link`]), so a reply to a message relayed a moment ago is
//!   threaded as before, without forcing a commit.
//!
//! On a store shared by several instances (Redis) links don't wait: a
//! reply may reach another instance, which can only find a link in the
//! store, and there a link is a hash field, not a B-tree leaf to copy. They
//! go with the removals ([`Deferred::sharing_links`]).
//!
//! What this costs: a crash loses the links of the last second at most (a
//! reply to one of those messages then goes out as a plain copy, as a
//! reply to a message older than the links' 48 hours does), and a crash
//! within [`FLUSH_DELAY`] replays the sends whose removal was still
//! waiting (a crash could always repeat a send in flight).

use crate::engine::effect::Counterpart;
use crate::engine::event::Linked;
use crate::engine::Record;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long finished sends' outbox removals wait for another commit.
pub const FLUSH_DELAY: Duration = Duration::from_millis(10);
/// How long finished relays' links wait in memory before they are written.
pub const LINK_FLUSH_DELAY: Duration = Duration::from_secs(1);
/// The most links waiting at once; beyond this they are written with the
/// next commit (a memory bound: ~100 bytes per link).
pub const MAX_WAITING_LINKS: usize = 65_536;

/// Outbox removals and link records not yet committed.
#[derive(Debug)]
pub struct Deferred {
    /// How long links wait: [`LINK_FLUSH_DELAY`], or [`FLUSH_DELAY`] when
    /// other instances must see them soon.
    link_delay: Duration,
    acks: Vec<u64>,
    acks_due: Option<Instant>,
    links: Vec<Record>,
    /// The waiting links by the message on either side.
    by_message: HashMap<Counterpart, Linked>,
    links_due: Option<Instant>,
}

impl Default for Deferred {
    fn default() -> Self {
        Deferred {
            link_delay: LINK_FLUSH_DELAY,
            acks: Vec::new(),
            acks_due: None,
            links: Vec::new(),
            by_message: HashMap::new(),
            links_due: None,
        }
    }
}

impl Deferred {
    /// For a store other instances read links from: links wait no longer
    /// than removals.
    pub fn sharing_links() -> Self {
        Deferred {
            link_delay: FLUSH_DELAY,
            ..Deferred::default()
        }
    }

    /// Remembers a finished send (`seq` 0 is a send with no outbox entry)
    /// and the links it made; arms the flush deadlines that aren't armed.
    pub fn note(&mut self, seq: u64, links: impl IntoIterator<Item = Record>, now: Instant) {
        if seq != 0 {
            self.acks.push(seq);
            self.acks_due.get_or_insert(now + FLUSH_DELAY);
        }
        for link in links {
            self.remember(link);
        }
        if !self.links.is_empty() {
            self.links_due.get_or_insert(now + self.link_delay);
        }
    }

    fn remember(&mut self, link: Record) {
        if let Record::Link { original, copy, .. } = link {
            let (from_original, from_copy) = (
                Linked {
                    other: copy,
                    original: true,
                },
                Linked {
                    other: original,
                    original: false,
                },
            );
            self.by_message.insert(original, from_original);
            self.by_message.insert(copy, from_copy);
        }
        self.links.push(link);
    }

    /// When the waiting bookkeeping must be committed on its own, if any
    /// waits.
    pub fn due(&self) -> Option<Instant> {
        match (self.acks_due, self.links_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a commit at `now` would carry anything from here.
    pub fn has_due(&self, now: Instant) -> bool {
        !self.acks.is_empty() || self.links_are_due(now)
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.acks.is_empty() && self.links.is_empty()
    }

    /// The other side of `message`, if its link is waiting here.
    pub fn link(&self, message: &Counterpart) -> Option<Linked> {
        self.by_message.get(message).copied()
    }

    fn links_are_due(&self, now: Instant) -> bool {
        self.links.len() >= MAX_WAITING_LINKS || self.links_due.is_some_and(|due| due <= now)
    }

    /// Hands a commit at `now` the outbox removals, and the links if they
    /// are due, and disarms what it took.
    pub fn take(&mut self, now: Instant) -> (Vec<u64>, Vec<Record>) {
        let links = if self.links_are_due(now) {
            self.take_links()
        } else {
            Vec::new()
        };
        self.acks_due = None;
        (std::mem::take(&mut self.acks), links)
    }

    /// Makes the waiting links due at `now` (at shutdown).
    pub fn expedite(&mut self, now: Instant) {
        if !self.links.is_empty() {
            self.links_due = Some(now);
        }
    }

    fn take_links(&mut self) -> Vec<Record> {
        self.links_due = None;
        self.by_message.clear();
        std::mem::take(&mut self.links)
    }

    /// Puts back what a failed commit carried, ahead of anything newer, to
    /// be tried again at `retry_at` (later than the usual delay: a disk
    /// that just failed is not asked again every few milliseconds).
    pub fn restore(&mut self, acks: Vec<u64>, links: Vec<Record>, retry_at: Instant) {
        if !acks.is_empty() {
            let newer_acks = std::mem::replace(&mut self.acks, acks);
            self.acks.extend(newer_acks);
            self.acks_due = Some(retry_at);
        }
        if !links.is_empty() {
            let newer_links = std::mem::take(&mut self.links);
            self.by_message.clear();
            for link in links.into_iter().chain(newer_links) {
                self.remember(link);
            }
            self.links_due = Some(retry_at);
        }
    }
}

#[cfg(test)]
#[path = "deferred_tests.rs"]
mod tests;
