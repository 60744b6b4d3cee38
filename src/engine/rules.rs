//! The rules: what each command and message does in each state.
//!
//! Every (state, input) combination has a deliberate answer; the table in
//! `command` reads as the product's specification. Starting a search and
//! sending while chatting are also subject to flood control ([`super::limits`]).

use super::deadlines::When;
use super::{Engine, Presence, REPORT_WINDOW_SECS};
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counter, Outbound, Outcome, Record};
use crate::engine::event::Command;
use crate::engine::media::Media;
use crate::i18n::Text;

impl Engine {
    pub(super) fn command(
        &self,
        user: UserId,
        command: Command,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        match command {
            Command::Chat | Command::Next if self.refuse_banned(user, now, out) => {}
            Command::Chat | Command::Next
                if self.maintenance.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                out.tell(user, Text::Maintenance)
            }
            Command::Start => {
                out.tell(user, Text::Welcome);
                match self.presence_of(user) {
                    Presence::Idle => {}
                    Presence::Searching(_) => out.tell(user, Text::StatusSearching),
                    Presence::Chatting(_) => out.tell(user, Text::StatusChatting),
                }
            }
            Command::Help => out.tell(user, Text::Help),
            Command::Chat => match self.presence_of(user) {
                Presence::Idle if self.may_search(user, now, out) => {
                    self.search(user, now, Text::Searching, out)
                }
                Presence::Idle => {}
                Presence::Searching(_) => out.tell(user, Text::AlreadySearching),
                Presence::Chatting(_) => out.tell(user, Text::AlreadyChatting),
            },
            Command::Next => match self.presence_of(user) {
                Presence::Searching(_) => out.tell(user, Text::AlreadySearching),
                _ if !self.may_search(user, now, out) => {}
                Presence::Idle => self.search(user, now, Text::Searching, out),
                Presence::Chatting(_) => {
                    self.end_chat(user, now, out);
                    self.search(user, now, Text::SearchingAgain, out);
                }
            },
            Command::Stop => match self.presence_of(user) {
                Presence::Idle => out.tell(user, Text::NothingToStop),
                Presence::Searching(_) => self.leave_search(user, out),
                Presence::Chatting(_) => {
                    if self.end_chat(user, now, out) {
                        out.tell(user, Text::YouLeftChat);
                    } else {
                        self.tell_where(user, out);
                    }
                }
            },
            Command::Report => self.ask_report(user, now, out),
            Command::Delete => out.tell(user, Text::DeleteHowTo),
            Command::Unknown => out.tell(user, Text::UnknownCommand),
            Command::Admin(admin) => self.admin(user, admin, now, out),
            // Reached only without the shell's contact: asks, revealing at
            // most a profile link on agreement.
            Command::Link => self.share_request(user, &super::sharing::Contact::hidden(), now, out),
            Command::Media => self.show_media(user, out),
            Command::Language => self.show_languages(user, out),
        }
    }

    pub(super) fn message(
        &self,
        user: UserId,
        message: MessageId,
        relayable: bool,
        media: Option<Media>,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let _held = self.locks.one(user);
        match self.presence_of(user) {
            Presence::Chatting(_) if !self.may_send(user, now, out) => {}
            Presence::Chatting(_) if self.refuse_for_partner(user, media, out) => {}
            Presence::Chatting(partner) if relayable => {
                let relay = Outbound::Relay {
                    from: user,
                    to: partner,
                    message,
                };
                self.relay_counted(user, relay, now, out);
            }
            Presence::Chatting(_) => out.tell(user, Text::UnsupportedMessage),
            Presence::Searching(_) => out.tell(user, Text::StillSearching),
            Presence::Idle => out.tell(user, Text::NotInChat),
        }
    }

    /// Sends a relay that flood control has allowed: it counts as chat
    /// activity and as a relayed message. The caller holds `user`'s stripe.
    pub(super) fn relay_counted(
        &self,
        user: UserId,
        relay: Outbound,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        self.note_activity(user, now);
        out.record(Record::Count {
            counter: Counter::Relayed,
            delta: 1,
        });
        out.sends.push(relay);
    }

    /// Pairs an idle `user` with the oldest waiter, or queues them.
    fn search(&self, user: UserId, now: Timestamp, waiting_text: Text, out: &mut Outcome) {
        loop {
            if let Some((ticket, waiter)) = self.queue.oldest_except(user) {
                match self.try_pair(user, None, waiter, ticket, now, out) {
                    Attempt::Done => return,
                    Attempt::Stale => continue,
                }
            }
            let held = self.locks.one(user);
            if self.presence_of(user) != Presence::Idle {
                return self.tell_where(user, out);
            }
            let ticket = self.queue.push(user);
            self.presence.insert(user, Presence::Searching(ticket));
            self.watch_search(user, ticket, When::At(now));
            out.record(Record::Enqueue {
                ticket,
                user,
                since: now,
            });
            drop(held);
            return self.settle_after_enqueue(user, ticket, now, waiting_text, out);
        }
    }

    /// Someone may have queued at the same moment as `user`. Whoever queued
    /// later pairs with the older waiter, so two searchers never sit in the
    /// queue side by side.
    fn settle_after_enqueue(
        &self,
        user: UserId,
        mine: Ticket,
        now: Timestamp,
        waiting_text: Text,
        out: &mut Outcome,
    ) {
        loop {
            let older = self.queue.oldest_except(user).filter(|(t, _)| *t < mine);
            let Some((ticket, waiter)) = older else {
                return out.tell(user, waiting_text);
            };
            if let Attempt::Done = self.try_pair(user, Some(mine), waiter, ticket, now, out) {
                return;
            }
        }
    }

    /// Pairs `user` (idle, or searching with `mine`) with `waiter` if the
    /// waiter still holds `ticket`. Validates both under their locks.
    fn try_pair(
        &self,
        user: UserId,
        mine: Option<Ticket>,
        waiter: UserId,
        ticket: Ticket,
        now: Timestamp,
        out: &mut Outcome,
    ) -> Attempt {
        let _held = self.locks.two(user, waiter);
        let expected = mine.map_or(Presence::Idle, Presence::Searching);
        if self.presence_of(user) != expected {
            // Another thread acted for this user; it has told them.
            return Attempt::Done;
        }
        if self.presence_of(waiter) != Presence::Searching(ticket)
            || !self.queue.remove(ticket, waiter)
        {
            return Attempt::Stale;
        }
        out.record(Record::Dequeue {
            ticket,
            user: waiter,
        });
        if let Some(mine) = mine {
            self.queue.remove(mine, user);
            out.record(Record::Dequeue { ticket: mine, user });
        }
        self.presence.insert(waiter, Presence::Chatting(user));
        self.presence.insert(user, Presence::Chatting(waiter));
        self.open_chat(waiter, user, When::At(now));
        out.record(Record::Pair {
            a: waiter,
            b: user,
            since: now,
        });
        out.record(Record::Count {
            counter: Counter::Matches,
            delta: 1,
        });
        out.tell(waiter, Text::PartnerFound);
        out.tell(user, Text::PartnerFound);
        Attempt::Done
    }

    /// Ends `user`'s chat and tells the partner. Returns whether there was
    /// a chat to end.
    fn end_chat(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        loop {
            let Presence::Chatting(partner) = self.presence_of(user) else {
                return false;
            };
            let _held = self.locks.two(user, partner);
            if self.presence_of(user) != Presence::Chatting(partner) {
                continue;
            }
            self.close_pair(user, partner, now, out);
            out.tell(partner, Text::PartnerLeft);
            return true;
        }
    }

    /// Ends the chat `user`–`partner`, which the caller has checked under
    /// both users' locks, and records it. Telling them is the caller's part.
    pub(super) fn close_pair(
        &self,
        user: UserId,
        partner: UserId,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        self.presence.remove(&user);
        self.presence.remove(&partner);
        self.chats.remove(&user);
        self.chats.remove(&partner);
        self.forget_shares(user, partner);
        self.remember_partner(user, partner, now);
        self.remember_partner(partner, user, now);
        out.record(Record::Unpair {
            a: user,
            b: partner,
        });
        out.record(Record::LastPartner {
            user,
            partner,
            ended_at: now,
        });
        out.record(Record::LastPartner {
            user: partner,
            partner: user,
            ended_at: now,
        });
        out.record(Record::Count {
            counter: Counter::ChatsEnded,
            delta: 1,
        });
    }

    fn leave_search(&self, user: UserId, out: &mut Outcome) {
        if !self.dequeue(user, out) {
            return self.tell_where(user, out);
        }
        out.tell(user, Text::SearchStopped);
    }

    /// Takes a searching user out of the queue. Returns whether they were in it.
    fn dequeue(&self, user: UserId, out: &mut Outcome) -> bool {
        let _held = self.locks.one(user);
        let Presence::Searching(ticket) = self.presence_of(user) else {
            return false;
        };
        self.unqueue(user, ticket, out);
        true
    }

    /// Takes `user`, whom the caller has checked under their lock to be
    /// searching with `ticket`, out of the queue, and records it.
    pub(super) fn unqueue(&self, user: UserId, ticket: Ticket, out: &mut Outcome) {
        self.queue.remove(ticket, user);
        self.presence.remove(&user);
        out.record(Record::Dequeue { ticket, user });
    }

    /// A user Telegram won't deliver to leaves their chat or the queue; the
    /// partner is told, the unreachable user is told nothing.
    pub(super) fn drop_unreachable(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        if !self.end_chat(user, now, out) {
            self.dequeue(user, out);
        }
    }

    /// Whom `user` would report now: their partner, or their last one if
    /// that chat ended within [`REPORT_WINDOW_SECS`].
    pub(super) fn reportable_partner(&self, user: UserId, now: Timestamp) -> Option<UserId> {
        let _held = self.locks.one(user);
        match self.presence_of(user) {
            Presence::Chatting(partner) => Some(partner),
            _ => self
                .last_partner
                .get(&user)
                .map(|entry| *entry)
                .filter(|(_, ended_at)| now.0 <= ended_at.0.saturating_add(REPORT_WINDOW_SECS))
                .map(|(partner, _)| partner),
        }
    }

    /// Tells a user where they are, after a concurrent change beat them.
    fn tell_where(&self, user: UserId, out: &mut Outcome) {
        match self.presence_of(user) {
            Presence::Idle => out.tell(user, Text::NotInChat),
            Presence::Searching(_) => out.tell(user, Text::AlreadySearching),
            Presence::Chatting(_) => out.tell(user, Text::AlreadyChatting),
        }
    }
}

enum Attempt {
    /// Paired, or the user's own state changed under us: stop trying.
    Done,
    /// The waiter was gone: try the next one.
    Stale,
}
