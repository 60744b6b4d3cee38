//! Bookkeeping of finished sends, carried by the next commit.
//!
//! Every performed send leaves two things to write: its outbox entry to
//! remove, and for a relay the link between the original and its copy.
//! Neither changes anybody's chat, and nobody waits for them, so giving each
//! a transaction of its own (an fsync per send) doubled the commits under
//! load. They wait here instead and ride along with the next commit the
//! loop makes anyway; if nothing else commits, they get one of their own
//! [`FLUSH_DELAY`] after the first of them arrived. The delay counts from the
//! first entry, so a steady stream of finished sends can't postpone it.
//!
//! What this costs: a crash within that delay replays the sends whose
//! removal was still waiting (a crash could always repeat a send in flight;
//! the window is now ~10 ms longer), and a lookup of a link still waiting
//! here must flush first (the loop does that before it reads links).

use crate::engine::Record;
use std::time::Duration;
use tokio::time::Instant;

/// How long finished sends' bookkeeping waits for another commit to ride.
pub const FLUSH_DELAY: Duration = Duration::from_millis(10);

/// Outbox removals and link records not yet committed.
#[derive(Debug, Default)]
pub struct Deferred {
    acks: Vec<u64>,
    links: Vec<Record>,
    due: Option<Instant>,
}

impl Deferred {
    /// Remembers a finished send (`seq` 0 is a send with no outbox entry)
    /// and the links it made; arms the flush deadline if it isn't armed.
    pub fn note(&mut self, seq: u64, links: impl IntoIterator<Item = Record>, now: Instant) {
        if seq != 0 {
            self.acks.push(seq);
        }
        self.links.extend(links);
        if self.due.is_none() && !self.is_empty() {
            self.due = Some(now + FLUSH_DELAY);
        }
    }

    /// When the waiting bookkeeping must be committed on its own, if any
    /// waits.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    pub fn is_empty(&self) -> bool {
        self.acks.is_empty() && self.links.is_empty()
    }

    /// Whether link records wait here (a link lookup must flush first).
    pub fn has_links(&self) -> bool {
        !self.links.is_empty()
    }

    /// Hands everything over to a commit and disarms the deadline.
    pub fn take(&mut self) -> (Vec<u64>, Vec<Record>) {
        self.due = None;
        (
            std::mem::take(&mut self.acks),
            std::mem::take(&mut self.links),
        )
    }

    /// Puts back what a failed commit carried, ahead of anything newer, to
    /// be tried again at `retry_at` (later than the usual delay: a disk
    /// that just failed is not asked again every few milliseconds).
    pub fn restore(&mut self, acks: Vec<u64>, links: Vec<Record>, retry_at: Instant) {
        let newer_acks = std::mem::replace(&mut self.acks, acks);
        self.acks.extend(newer_acks);
        let newer_links = std::mem::replace(&mut self.links, links);
        self.links.extend(newer_links);
        if !self.is_empty() {
            self.due = Some(retry_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MessageId, Timestamp, UserId};
    use crate::engine::effect::Counterpart;

    fn link(message: i32) -> Record {
        let side = |chat, message| Counterpart {
            chat: UserId(chat),
            message: MessageId(message),
        };
        Record::Link {
            original: side(1, message),
            copy: side(2, message + 100),
            at: Timestamp(1),
        }
    }

    #[test]
    fn the_first_finished_send_sets_the_deadline_and_later_ones_dont_move_it() {
        let start = Instant::now();
        let mut deferred = Deferred::default();
        assert_eq!(deferred.due(), None);
        deferred.note(0, [], start);
        assert_eq!(deferred.due(), None, "nothing to write, nothing to flush");
        deferred.note(7, [link(1)], start);
        assert_eq!(deferred.due(), Some(start + FLUSH_DELAY));
        deferred.note(8, [link(2)], start + Duration::from_millis(9));
        assert_eq!(deferred.due(), Some(start + FLUSH_DELAY), "not postponed");
        assert!(deferred.has_links());

        let (acks, links) = deferred.take();
        assert_eq!(acks, vec![7, 8]);
        assert_eq!(links, vec![link(1), link(2)]);
        assert_eq!(deferred.due(), None);
        assert!(deferred.is_empty());
    }

    #[test]
    fn a_failed_commit_puts_its_entries_back_first_and_rearms() {
        let start = Instant::now();
        let mut deferred = Deferred::default();
        deferred.note(1, [link(1)], start);
        let (acks, links) = deferred.take();
        deferred.note(2, [], start + Duration::from_millis(3));
        let retry_at = start + Duration::from_secs(1);
        deferred.restore(acks, links, retry_at);
        assert_eq!(deferred.due(), Some(retry_at));
        let (acks, links) = deferred.take();
        assert_eq!(acks, vec![1, 2], "the older removal stays first");
        assert_eq!(links, vec![link(1)]);

        deferred.restore(Vec::new(), Vec::new(), retry_at);
        assert_eq!(deferred.due(), None, "nothing put back, nothing to retry");
    }
}
