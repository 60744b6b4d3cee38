//! The waiting queue: first-in, first-out, split into lock shards.
//!
//! Every searcher gets a [`Ticket`] from one atomic counter, so "oldest" is
//! well defined across shards. A searcher lives in the shard its id hashes
//! to; each shard is a ticket-ordered deque behind its own mutex, and
//! publishes its head ticket in an atomic so finding the oldest waiter reads
//! a few atomics instead of taking every lock.
//!
//! The queue on its own does not decide who is matched: it only answers
//! "who is probably oldest". The engine validates that answer under the
//! users' locks, so a stale hint costs a retry, never a wrong pair.

use crate::domain::{Ticket, UserId};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many shards the queue is split into.
const SHARDS: usize = 8;
/// The head value of an empty shard.
const EMPTY: u64 = u64::MAX;

struct Shard {
    entries: Mutex<VecDeque<(Ticket, UserId)>>,
    head: AtomicU64,
}

impl Shard {
    fn publish_head(&self, entries: &VecDeque<(Ticket, UserId)>) {
        let head = entries.front().map_or(EMPTY, |(ticket, _)| ticket.0);
        self.head.store(head, Ordering::SeqCst);
    }
}

pub struct WaitQueue {
    shards: Box<[Shard]>,
    next_ticket: AtomicU64,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    pub fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| Shard {
                entries: Mutex::new(VecDeque::new()),
                head: AtomicU64::new(EMPTY),
            })
            .collect();
        WaitQueue {
            shards,
            next_ticket: AtomicU64::new(1),
        }
    }

    fn shard_of(&self, user: UserId) -> &Shard {
        &self.shards[super::spread(user) % self.shards.len()]
    }

    /// Appends `user` and returns their ticket. The ticket is drawn while the
    /// shard is locked, so each shard stays sorted by ticket and a waiter
    /// that took a smaller ticket is visible to anyone who took a larger one.
    pub fn push(&self, user: UserId) -> Ticket {
        self.push_counted(user, &self.next_ticket)
    }

    /// [`push`](Self::push) with the ticket drawn from `counter`, so several
    /// queues (the matching buckets) share one order.
    pub fn push_counted(&self, user: UserId, counter: &AtomicU64) -> Ticket {
        let shard = self.shard_of(user);
        let mut entries = shard.entries.lock();
        let ticket = Ticket(counter.fetch_add(1, Ordering::SeqCst));
        entries.push_back((ticket, user));
        shard.publish_head(&entries);
        ticket
    }

    /// Re-inserts a waiter restored from the store, keeping its ticket.
    pub fn restore(&self, ticket: Ticket, user: UserId) {
        let shard = self.shard_of(user);
        let mut entries = shard.entries.lock();
        let at = entries.partition_point(|(t, _)| *t < ticket);
        entries.insert(at, (ticket, user));
        shard.publish_head(&entries);
        self.next_ticket.fetch_max(ticket.0 + 1, Ordering::SeqCst);
    }

    /// Removes `user`'s entry with `ticket`. Returns whether it was there.
    pub fn remove(&self, ticket: Ticket, user: UserId) -> bool {
        let shard = self.shard_of(user);
        let mut entries = shard.entries.lock();
        let Ok(at) = entries.binary_search_by_key(&ticket, |(t, _)| *t) else {
            return false;
        };
        if entries[at].1 != user {
            return false;
        }
        entries.remove(at);
        shard.publish_head(&entries);
        true
    }

    /// The oldest waiter other than `me`, as a hint to validate.
    pub fn oldest_except(&self, me: UserId) -> Option<(Ticket, UserId)> {
        self.oldest_where(|user| user != me)
    }

    /// The oldest waiter `wanted` accepts, as a hint to validate. Each
    /// shard is read from its head, so a refused waiter costs one step.
    pub fn oldest_where(&self, wanted: impl Fn(UserId) -> bool) -> Option<(Ticket, UserId)> {
        if let Some(found) = self.oldest_head_if(&wanted) {
            return Some(found);
        }
        let mut best: Option<(Ticket, UserId)> = None;
        for shard in self.shards.iter() {
            let head = shard.head.load(Ordering::SeqCst);
            if head == EMPTY || best.is_some_and(|(t, _)| t.0 < head) {
                continue;
            }
            let entries = shard.entries.lock();
            let candidate = entries.iter().find(|(_, user)| wanted(*user)).copied();
            if let Some((ticket, user)) = candidate {
                if best.is_none_or(|(t, _)| ticket < t) {
                    best = Some((ticket, user));
                }
            }
        }
        best
    }

    /// The common case of [`oldest_where`](Self::oldest_where), with one
    /// lock instead of one per shard: the shard with the smallest head, if
    /// its head is still that and `wanted` accepts it. That entry is older
    /// than every other shard's head, so it is the oldest wanted waiter.
    /// `None` sends the caller to the full look.
    fn oldest_head_if(&self, wanted: impl Fn(UserId) -> bool) -> Option<(Ticket, UserId)> {
        let (mut oldest, mut at) = (EMPTY, 0);
        for (i, shard) in self.shards.iter().enumerate() {
            let head = shard.head.load(Ordering::SeqCst);
            if head < oldest {
                (oldest, at) = (head, i);
            }
        }
        if oldest == EMPTY {
            return None;
        }
        let entries = self.shards[at].entries.lock();
        let &(ticket, user) = entries.front()?;
        (ticket.0 == oldest && wanted(user)).then_some((ticket, user))
    }

    /// How many users are waiting.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.entries.lock().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every waiter, oldest first. For tests, checks and snapshots.
    pub fn entries(&self) -> Vec<(Ticket, UserId)> {
        let mut all: Vec<_> = self
            .shards
            .iter()
            .flat_map(|s| s.entries.lock().iter().copied().collect::<Vec<_>>())
            .collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_is_first_in_across_shards() {
        let queue = WaitQueue::new();
        let tickets: Vec<_> = (1..=20).map(|id| (queue.push(UserId(id)), id)).collect();
        for (ticket, id) in tickets {
            assert_eq!(queue.oldest_except(UserId(-1)), Some((ticket, UserId(id))));
            assert!(queue.remove(ticket, UserId(id)));
        }
        assert!(queue.is_empty());
    }

    #[test]
    fn oldest_except_skips_me_even_when_i_am_first() {
        let queue = WaitQueue::new();
        let mine = queue.push(UserId(1));
        assert_eq!(queue.oldest_except(UserId(1)), None);
        let theirs = queue.push(UserId(2));
        assert_eq!(queue.oldest_except(UserId(1)), Some((theirs, UserId(2))));
        assert_eq!(queue.oldest_except(UserId(2)), Some((mine, UserId(1))));
    }

    #[test]
    fn remove_needs_the_right_ticket_and_user() {
        let queue = WaitQueue::new();
        let ticket = queue.push(UserId(7));
        assert!(!queue.remove(Ticket(ticket.0 + 1), UserId(7)));
        assert!(!queue.remove(ticket, UserId(8)));
        assert!(queue.remove(ticket, UserId(7)));
        assert!(!queue.remove(ticket, UserId(7)));
    }

    #[test]
    fn restored_tickets_keep_order_and_new_ones_come_after() {
        let queue = WaitQueue::new();
        queue.restore(Ticket(50), UserId(2));
        queue.restore(Ticket(10), UserId(1));
        let next = queue.push(UserId(3));
        assert!(next > Ticket(50));
        let order: Vec<_> = queue.entries().into_iter().map(|(_, u)| u.0).collect();
        assert_eq!(order, vec![1, 2, 3]);
    }
}
