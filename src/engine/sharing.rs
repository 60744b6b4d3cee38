//! Consent to share (/link): two partners exchange Telegram usernames only
//! if both agree.
//!
//! Anonymity is the product, so the rule is strict: /link asks the partner
//! (agree/decline buttons), and only an agreement from the partner to *this*
//! request, in *this* chat, reveals anything, to both at once. Each then
//! gets the other's @username, or a link to the other's profile
//! (`tg://user?id=…`) when they have none. A refusal, no answer within
//! [`EngineConfig::share_timeout`](super::EngineConfig) (enforced by the
//! tick, like the other timeouts), the chat ending, or a button pressed in a
//! later chat reveals nothing. Two partners who both send /link agree. A
//! declined asker can't ask again in the same chat, so /link can't be used
//! to pester.
//!
//! Usernames come from the updates themselves: the shell hands the engine
//! a user's [`Contact`] only with their /link or their "agree" press, which
//! is the moment they consent. The asker's contact is held in memory (never
//! recorded, never logged: its `Debug` hides it) until the request is
//! answered, expires or its chat ends; a revealed one lives only in the
//! outbox entry that delivers it. A pending request is therefore lost on a
//! restart, which reveals nothing: the partner's button then answers that
//! it no longer works.

use super::deadlines::{Due, When};
use super::{Engine, Presence};
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::{Outbound, Outcome};
use crate::i18n::Text;

/// How a user can be found on Telegram: their username, if they have one
/// (otherwise their id, which the engine already knows, makes a link).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Contact {
    username: Option<String>,
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a username, whatever logs an event.
        f.write_str("Contact(..)")
    }
}

impl Contact {
    /// No username given (or none to give).
    pub fn hidden() -> Self {
        Contact::default()
    }

    /// A contact from the `username` Telegram sent, if it is a well-formed
    /// username (5–32 letters, digits and underscores).
    pub fn from_username(username: Option<&str>) -> Self {
        let valid = |name: &&str| {
            (5..=32).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        Contact {
            username: username.filter(valid).map(str::to_owned),
        }
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
}

/// A /link waiting for the partner's answer, keyed by the asker.
pub(super) struct ShareRequest {
    asker: UserId,
    partner: UserId,
    /// The chat it was made in (see `ChatClock::serial`).
    serial: u64,
    contact: Contact,
}

impl Engine {
    /// /link from `user`, who gives `contact` by asking.
    pub(super) fn share_request(
        &self,
        user: UserId,
        contact: &Contact,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let Presence::Chatting(partner) = self.presence_of(user) else {
            return self.tell_not_chatting(user, out);
        };
        let _held = self.locks.two(user, partner);
        let Some(serial) = self.current_chat(user, partner) else {
            return self.tell_not_chatting(user, out);
        };
        if let Some(theirs) = self.take_share(partner, user, serial) {
            // The partner asked first: asking back is agreeing.
            return self.reveal(user, contact, partner, &theirs.contact, out);
        }
        let waiting = self.shares.get(&user).is_some_and(|r| r.serial == serial);
        if waiting {
            return out.tell(user, Text::ShareAlreadyAsked);
        }
        if self.declined.get(&user).is_some_and(|d| *d == serial) {
            return out.tell(user, Text::ShareNotAgain);
        }
        let request = ShareRequest {
            asker: user,
            partner,
            serial,
            contact: contact.clone(),
        };
        self.shares.insert(user, request);
        let due = Timestamp(now.0.saturating_add(self.config.share_secs()));
        self.deadlines
            .push(When::At(due), Due::Share { user, serial });
        out.sends.push(Outbound::AskShare { user: partner });
        out.tell(user, Text::ShareAsked);
    }

    /// `user` pressed agree or decline under their partner's request.
    pub(super) fn share_answer(
        &self,
        user: UserId,
        query_id: &str,
        agree: bool,
        contact: &Contact,
        out: &mut Outcome,
    ) {
        let answered = match self.presence_of(user) {
            Presence::Chatting(asker) => {
                let _held = self.locks.two(user, asker);
                let serial = self.current_chat(user, asker);
                serial.and_then(|serial| self.take_share(asker, user, serial))
            }
            _ => None,
        };
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: answered.is_none().then_some(Text::ButtonExpired),
        });
        let Some(request) = answered else {
            return;
        };
        let asker = request.asker;
        if agree {
            self.reveal(asker, &request.contact, user, contact, out);
        } else {
            self.declined.insert(asker, request.serial);
            out.tell(asker, Text::ShareDeclined);
            out.tell(user, Text::ShareDeclinedYou);
        }
    }

    /// A request's time is up: if it is still waiting, it lapses and both
    /// are told nothing was shared.
    pub(super) fn expire_share(&self, user: UserId, serial: u64, out: &mut Outcome) {
        let Some((_, request)) = self.shares.remove_if(&user, |_, r| r.serial == serial) else {
            return;
        };
        out.tell(user, Text::ShareExpired);
        out.tell(request.partner, Text::ShareExpired);
    }

    /// The chat `a`–`b` ended: their requests lapse silently.
    pub(super) fn forget_shares(&self, a: UserId, b: UserId) {
        for user in [a, b] {
            self.shares.remove(&user);
            self.declined.remove(&user);
        }
    }

    /// Both consented: each learns how to find the other.
    fn reveal(
        &self,
        a: UserId,
        a_contact: &Contact,
        b: UserId,
        b_contact: &Contact,
        out: &mut Outcome,
    ) {
        out.sends.push(Outbound::RevealPartner {
            user: a,
            partner: b,
            username: b_contact.username.clone(),
        });
        out.sends.push(Outbound::RevealPartner {
            user: b,
            partner: a,
            username: a_contact.username.clone(),
        });
    }

    /// Takes `asker`'s request to `partner` in chat `serial`, if it is
    /// waiting. The caller holds both stripes.
    fn take_share(&self, asker: UserId, partner: UserId, serial: u64) -> Option<ShareRequest> {
        self.shares
            .remove_if(&asker, |_, r| r.partner == partner && r.serial == serial)
            .map(|(_, request)| request)
    }

    /// The serial of the chat `user`–`partner`, if they are in it. The
    /// caller holds both stripes.
    fn current_chat(&self, user: UserId, partner: UserId) -> Option<u64> {
        if self.presence_of(user) != Presence::Chatting(partner) {
            return None;
        }
        self.chats.get(&user).map(|clock| clock.serial)
    }

    fn tell_not_chatting(&self, user: UserId, out: &mut Outcome) {
        match self.presence_of(user) {
            Presence::Searching(_) => out.tell(user, Text::StatusSearching),
            _ => out.tell(user, Text::NotInChat),
        }
    }
}
