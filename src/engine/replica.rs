//! Keeping a replica up to date: the records another instance committed,
//! applied to this engine as if they had been loaded at start-up.
//!
//! Why: with several bot instances on one Redis store, every instance keeps
//! a whole engine in memory and they decide in turns (see
//! `src/store/redis/shared.rs`). Before deciding, an instance applies what
//! the others committed since its last turn. The records are the ones the
//! store already keeps, so the replica needs no second format and a record
//! means here exactly what it means to [`Engine::restore_with`]: a pair is a
//! pair, a queue entry keeps its ticket (and the ticket counter stays ahead
//! of it), a ban goes on the clock.
//!
//! What is not replicated (it is in no record): flood windows, a pending
//! /link request, an open age question in /settings, a captcha in
//! progress, a relaxed search's wider wishes (the instance where the search
//! started relaxes it), the announcement of a ban's end (made by the
//! instance that imposed the ban), and a broadcast's progress (a broadcast
//! runs on the instance where it started; the others only learn that it
//! finished). docs/scaling.md lists what that means for users.

use super::deadlines::When;
use super::{matching, Engine, Presence, Record};
use crate::domain::{Ticket, Timestamp, UserId};
use std::sync::atomic::Ordering;

impl Engine {
    /// Applies records committed by another instance, in commit order.
    pub fn apply_replicated(&self, records: &[Record]) {
        for record in records {
            self.replay(record);
        }
    }

    fn replay(&self, record: &Record) {
        match record {
            Record::Seen { user, at } => self.note_activity(*user, *at),
            Record::Pair { a, b, since } => self.replay_pair(*a, *b, *since),
            Record::Unpair { a, b } => self.replay_unpair(*a, *b),
            Record::Enqueue {
                ticket,
                user,
                since,
            } => self.replay_enqueue(*ticket, *user, *since),
            Record::Dequeue { ticket, user } => self.replay_dequeue(*ticket, *user),
            Record::LastPartner {
                user,
                partner,
                ended_at,
            } => self.remember_partner(*user, *partner, *ended_at),
            Record::ForgetLastPartner { user } => {
                self.last_partner.remove(user);
            }
            Record::Album {
                user,
                group,
                parts,
                since,
            } => self.restore_album(*user, group.clone(), parts.clone(), *since),
            Record::AlbumDone { user } => {
                self.albums.remove(user);
            }
            Record::Maintenance { on } => self.maintenance.store(*on, Ordering::SeqCst),
            Record::Report(report) => self.restore_sanctions(&[], std::slice::from_ref(report)),
            Record::Ban { user, ban } => self.replicate_ban(*user, ban),
            Record::Unban { user } => self.replicate_unban(*user),
            Record::Profile { user, profile } => self.replay_profile(*user, profile),
            Record::FiledReport { id, report } => self.replicate_filed(*id, report),
            Record::ReportStatus { id, status } => self.replicate_status(*id, *status),
            Record::Broadcast(broadcast) if broadcast.finished => {
                self.restore_broadcast(None);
            }
            Record::Broadcast(_)
            | Record::Count { .. }
            | Record::Link { .. }
            | Record::PruneLinks { .. } => {}
        }
    }

    fn replay_pair(&self, a: UserId, b: UserId, since: Timestamp) {
        for user in [a, b] {
            self.leave_queue(user);
        }
        self.presence.insert(a, Presence::Chatting(b));
        self.presence.insert(b, Presence::Chatting(a));
        self.open_chat(a, b, When::At(since));
    }

    fn replay_unpair(&self, a: UserId, b: UserId) {
        for (user, partner) in [(a, b), (b, a)] {
            if self.presence_of(user) == Presence::Chatting(partner) {
                self.presence.remove(&user);
                self.chats.remove(&user);
            }
        }
        self.forget_shares(a, b);
    }

    fn replay_enqueue(&self, ticket: Ticket, user: UserId, since: Timestamp) {
        self.leave_queue(user);
        let class = self.profiles.get(&user).map(|p| matching::class_of(&p));
        let class = class.unwrap_or_default();
        self.buckets.restore(ticket, user, class);
        self.presence.insert(user, Presence::Searching(ticket));
        self.watch_search(user, ticket, When::At(since));
        // Not on the relax clock: relaxing is in no record, so only the
        // instance where the search started relaxes it (and says so once).
    }

    fn replay_dequeue(&self, ticket: Ticket, user: UserId) {
        self.buckets.remove(ticket, user);
        if self.presence_of(user) == Presence::Searching(ticket) {
            self.presence.remove(&user);
        }
    }

    /// Takes `user` out of the queue if they wait in it.
    fn leave_queue(&self, user: UserId) {
        if let Presence::Searching(ticket) = self.presence_of(user) {
            self.replay_dequeue(ticket, user);
        }
    }

    fn replay_profile(&self, user: UserId, profile: &super::Profile) {
        self.profiles.insert(user, profile.clone());
        // A waiter whose wishes changed waits in the bucket they now
        // belong in, with the same ticket.
        self.rebucket(user);
    }
}

#[cfg(test)]
#[path = "replica_tests.rs"]
mod tests;
