//! When chats and searches fall due, as min-heaps split into lock shards.
//!
//! A tick must find the few chats and searches whose time is up without
//! looking at everyone, so each one gets an entry keyed by the earliest
//! moment it could expire. Entries are never updated or removed in place:
//! a message only moves a chat's clock, and whoever pops the entry checks
//! the real state under the users' locks, pushing it again if the deadline
//! moved and dropping it if the chat or search is gone. Each live chat and
//! search has exactly one entry (only its creator and the tick that popped
//! it push), and a dead one's entry leaves the heap at its old deadline, so
//! the heaps hold at most what started within one timeout.
//!
//! Lock order: a user's stripe, then a heap shard. A tick pops with no
//! stripe held and acts afterwards.

use crate::domain::{Ticket, Timestamp, UserId};
use parking_lot::Mutex;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How many shards the heaps are split into.
const SHARDS: usize = 8;

/// When an entry falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum When {
    /// Restored from the store: its clock starts at the first tick's time.
    /// Sorts before every real time, so the first tick sees all of them.
    Unset,
    At(Timestamp),
}

/// What falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Due {
    /// The chat `serial` between `a` and `b` may have gone quiet.
    Chat { serial: u64, a: UserId, b: UserId },
    /// `user`'s search with `ticket` may have run out of time.
    Search { ticket: Ticket, user: UserId },
    /// `user`'s chat with `partner`, ended at `ended_at`, may be past the
    /// window in which it can still be reported.
    Forget {
        user: UserId,
        partner: UserId,
        ended_at: Timestamp,
    },
    /// `user`'s album may be complete.
    Album { user: UserId },
    /// `user`'s /link request in chat `serial` may have gone unanswered.
    Share { user: UserId, serial: u64 },
}

impl Due {
    /// The user whose shard holds the entry.
    fn owner(&self) -> UserId {
        match *self {
            Due::Chat { a, .. } => a,
            Due::Search { user, .. }
            | Due::Forget { user, .. }
            | Due::Album { user }
            | Due::Share { user, .. } => user,
        }
    }
}

type Heap = BinaryHeap<Reverse<(When, Due)>>;

pub(super) struct Deadlines {
    shards: Box<[Mutex<Heap>]>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            shards: (0..SHARDS).map(|_| Mutex::new(Heap::new())).collect(),
        }
    }
}

impl Deadlines {
    pub(super) fn push(&self, when: When, due: Due) {
        let shard = super::spread(due.owner()) % self.shards.len();
        self.shards[shard].lock().push(Reverse((when, due)));
    }

    /// Takes every entry due at `now` (and every unset one), soonest first
    /// within each shard.
    pub(super) fn take_due(&self, now: Timestamp) -> Vec<(When, Due)> {
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            let mut heap = shard.lock();
            while let Some(Reverse((when, _))) = heap.peek() {
                if *when > When::At(now) {
                    break;
                }
                let Some(Reverse(entry)) = heap.pop() else {
                    break;
                };
                due.push(entry);
            }
        }
        due
    }

    /// Every entry, for invariant checks.
    pub(super) fn entries(&self) -> Vec<Due> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            all.extend(shard.lock().iter().map(|Reverse((_, due))| *due));
        }
        all
    }

    /// How many entries are held, live or stale.
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(ticket: u64) -> Due {
        Due::Search {
            ticket: Ticket(ticket),
            user: UserId(ticket as i64),
        }
    }

    #[test]
    fn takes_unset_and_due_entries_only() {
        let deadlines = Deadlines::default();
        deadlines.push(When::At(Timestamp(30)), search(1));
        deadlines.push(When::At(Timestamp(10)), search(2));
        deadlines.push(When::Unset, search(3));
        deadlines.push(When::At(Timestamp(20)), search(4));
        let mut due = deadlines.take_due(Timestamp(20));
        due.sort();
        assert_eq!(
            due,
            vec![
                (When::Unset, search(3)),
                (When::At(Timestamp(10)), search(2)),
                (When::At(Timestamp(20)), search(4)),
            ]
        );
        assert_eq!(deadlines.entries(), vec![search(1)]);
        assert!(deadlines.take_due(Timestamp(29)).is_empty());
        assert_eq!(deadlines.len(), 1);
    }
}
