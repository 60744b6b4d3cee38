//! Timeouts: chats nobody writes in and searches that find no one end on
//! their own, when the shell's periodic [`Event::Tick`](super::Event::Tick)
//! says what time it is.
//!
//! Each side of a chat has a [`ChatClock`]: the chat's serial and when that
//! side last showed life (the pairing, or a relayed message). A relay moves
//! only the sender's clock, under the sender's lock alone; the chat's
//! activity is the later of the two. Deadlines sit in [`Deadlines`], one
//! entry per live chat or search; a tick pops the entries that are due and
//! checks each one under the users' locks before acting, so a message, a
//! /stop or a match that got there first always wins. The work per tick is
//! proportional to what is due, not to the number of users.
//!
//! After a restore the store has no record of the last message, so restored
//! chats and searches are counted from the first tick's `now`: the bot was
//! away, and nobody should be timed out for the downtime.

use super::deadlines::{Due, When};
use super::{Engine, Presence, REPORT_WINDOW_SECS};
use crate::domain::{Ticket, Timestamp, UserId};
use crate::engine::effect::{Outcome, Record};
use crate::i18n::Text;

/// One side of a live chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ChatClock {
    /// Tells this chat from an earlier one between the same two users.
    pub(super) serial: u64,
    /// When this side was paired or last had a message relayed.
    pub(super) active: Timestamp,
    /// When the chat started (`Timestamp(0)` if restored: an old chat).
    pub(super) since: Timestamp,
}

fn after(start: Timestamp, secs: u64) -> Timestamp {
    Timestamp(start.0.saturating_add(secs))
}

impl Engine {
    /// Starts the clocks of the chat `a`–`b`, made at `since` (`Unset` when
    /// restored). The caller holds both users' stripes.
    pub(super) fn open_chat(&self, a: UserId, b: UserId, since: When) {
        let serial = self
            .next_chat
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let active = match since {
            When::At(at) => at,
            When::Unset => Timestamp(0),
        };
        let clock = ChatClock {
            serial,
            active,
            since: active,
        };
        self.chats.insert(a, clock);
        self.chats.insert(b, clock);
        if let Some(idle) = self.config.idle_secs() {
            let when = match since {
                When::At(at) => When::At(after(at, idle)),
                When::Unset => When::Unset,
            };
            self.deadlines.push(when, Due::Chat { serial, a, b });
        }
    }

    /// `user` had a message relayed at `now`. The caller holds their stripe.
    pub(super) fn note_activity(&self, user: UserId, now: Timestamp) {
        if let Some(mut clock) = self.chats.get_mut(&user) {
            clock.active = clock.active.max(now);
        }
    }

    /// Puts `user`'s new search on the clock. The caller holds their stripe.
    pub(super) fn watch_search(&self, user: UserId, ticket: Ticket, since: When) {
        if let Some(limit) = self.config.search_secs() {
            let when = match since {
                When::At(at) => When::At(after(at, limit)),
                When::Unset => When::Unset,
            };
            self.deadlines.push(when, Due::Search { ticket, user });
        }
    }

    /// Ends what is due at `now`.
    pub(super) fn tick(&self, now: Timestamp, out: &mut Outcome) {
        for (when, due) in self.deadlines.take_due(now) {
            match due {
                Due::Chat { serial, a, b } => self.expire_chat(serial, a, b, when, now, out),
                Due::Search { ticket, user } => self.expire_search(ticket, user, when, now, out),
                Due::Forget { user, .. } => self.forget_partner(user, now, out),
                Due::Album { user } => self.album_due(user, now, out),
                Due::BanEnds { user, until } => self.announce_ban_end(user, until, now, out),
                Due::Share { user, serial } => self.expire_share(user, serial, out),
                Due::Relax { ticket, user } => self.relax_due(ticket, user, when, now, out),
            }
        }
        self.limiter.sweep(now);
        self.sweep_reports(now);
        self.broadcast_tick(now, out);
    }

    /// Ends the chat if it is still the same chat and nobody wrote in it for
    /// the idle timeout; otherwise puts it back at its real deadline.
    fn expire_chat(
        &self,
        serial: u64,
        a: UserId,
        b: UserId,
        when: When,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let Some(idle) = self.config.idle_secs() else {
            return;
        };
        let _held = self.locks.two(a, b);
        if self.presence_of(a) != Presence::Chatting(b) {
            return;
        }
        let Some(mut active) = self.chat_activity(serial, a, b) else {
            return;
        };
        if when == When::Unset {
            // Restored: start counting now.
            self.note_activity(a, now);
            self.note_activity(b, now);
            active = active.max(now);
        }
        let deadline = after(active, idle);
        if deadline > now {
            return self
                .deadlines
                .push(When::At(deadline), Due::Chat { serial, a, b });
        }
        self.close_pair(a, b, now, out);
        out.tell(a, Text::ChatIdleEnded);
        out.tell(b, Text::ChatIdleEnded);
    }

    /// The later of the two sides' activity, if `serial` is still their chat.
    fn chat_activity(&self, serial: u64, a: UserId, b: UserId) -> Option<Timestamp> {
        // Copy out: holding one DashMap guard while taking another may deadlock.
        let clock_a = self.chats.get(&a).map(|c| *c)?;
        let clock_b = self.chats.get(&b).map(|c| *c)?;
        let same = clock_a.serial == serial && clock_b.serial == serial;
        same.then(|| clock_a.active.max(clock_b.active))
    }

    /// Remembers `user`'s last partner until the report window closes.
    ///
    /// One report-window deadline per remembered user is enough: if an
    /// earlier chat is still remembered, its deadline is still on the heap
    /// (it leaves only by falling due, and [`forget_partner`] then re-arms
    /// it for the chat that replaced it), and it comes no later than this
    /// one's. So a user who chats often costs one heap entry, not one per
    /// chat.
    ///
    /// [`forget_partner`]: Self::forget_partner
    pub(super) fn remember_partner(&self, user: UserId, partner: UserId, ended_at: Timestamp) {
        let earlier = self.last_partner.insert(user, (partner, ended_at));
        if earlier.is_none() {
            self.arm_forget(user, partner, ended_at);
        }
    }

    fn arm_forget(&self, user: UserId, partner: UserId, ended_at: Timestamp) {
        let until = When::At(after(ended_at, REPORT_WINDOW_SECS));
        let due = Due::Forget {
            user,
            partner,
            ended_at,
        };
        self.deadlines.push(until, due);
    }

    /// A report-window deadline fell due: forgets `user`'s last partner if
    /// that chat is past the window at `now`, else puts the deadline back
    /// at the end of the window of the chat that replaced it.
    fn forget_partner(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let _held = self.locks.one(user);
        let past =
            |&(_, ended_at): &(UserId, Timestamp)| after(ended_at, REPORT_WINDOW_SECS) <= now;
        if self
            .last_partner
            .remove_if(&user, |_, last| past(last))
            .is_some()
        {
            return out.record(Record::ForgetLastPartner { user });
        }
        if let Some((partner, ended_at)) = self.last_partner.get(&user).map(|last| *last) {
            self.arm_forget(user, partner, ended_at);
        }
    }

    /// Ends the search if `user` is still waiting with `ticket`.
    fn expire_search(
        &self,
        ticket: Ticket,
        user: UserId,
        when: When,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let _held = self.locks.one(user);
        if self.presence_of(user) != Presence::Searching(ticket) {
            return;
        }
        if when == When::Unset {
            // Restored: start counting now.
            return self.watch_search(user, ticket, When::At(now));
        }
        self.unqueue(user, ticket, out);
        out.tell(user, Text::SearchTimedOut);
    }

    /// Every chatting user has a clock shared with their partner, nobody else
    /// has one, and every live chat and search is on the deadline heaps.
    pub(super) fn check_timeouts(&self) -> Result<(), String> {
        let on_heap: std::collections::HashSet<Due> =
            self.deadlines.entries().into_iter().collect();
        for entry in self.presence.iter() {
            let (user, presence) = (*entry.key(), *entry.value());
            match presence {
                Presence::Chatting(partner) => {
                    let mine = self.chats.get(&user).map(|c| c.serial);
                    let theirs = self.chats.get(&partner).map(|c| c.serial);
                    let Some(serial) = mine.filter(|_| mine == theirs) else {
                        return Err("a chat has no shared clock".into());
                    };
                    let watched = on_heap.contains(&Due::Chat {
                        serial,
                        a: user,
                        b: partner,
                    }) || on_heap.contains(&Due::Chat {
                        serial,
                        a: partner,
                        b: user,
                    });
                    if self.config.idle_secs().is_some() && !watched {
                        return Err("a chat has no idle deadline".into());
                    }
                }
                Presence::Searching(ticket) => {
                    let watched = on_heap.contains(&Due::Search { ticket, user });
                    if self.config.search_secs().is_some() && !watched {
                        return Err(format!("search {ticket:?} has no deadline"));
                    }
                }
                Presence::Idle => {}
            }
        }
        for clock in self.chats.iter() {
            if !matches!(self.presence_of(*clock.key()), Presence::Chatting(_)) {
                return Err("a user out of any chat still has a chat clock".into());
            }
        }
        Ok(())
    }
}
