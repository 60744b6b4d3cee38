//! Who may meet whom: mutual wishes, relaxing a long search, no repeat
//! partners, and poorly rated users last.
//!
//! The rules, and why:
//! - **Mutual.** A is matched with B only if B fits A's wishes and A fits
//!   B's. Both are [`Class`]es; waiters sit in [`Buckets`] by class, so a
//!   searcher looks only at compatible buckets.
//! - **Relaxing.** With [`MatchConfig::relax_after`] set, a searcher with
//!   wishes who waited that long drops their *own* wishes (they move to the
//!   bucket of the same person with none) and is told so. Other people's
//!   wishes still hold: relaxing never puts anyone with a partner they
//!   excluded. They keep their ticket, so they keep their place in line.
//! - **No repeats.** A user's last [`MatchConfig::no_repeat_partners`]
//!   partners, from chats that ended within [`MatchConfig::no_repeat_window`],
//!   are passed over, unless no one else compatible is waiting (an empty
//!   bot beats a strict rule). The list lives in the [`Profile`], so a
//!   restart keeps it; it also names each chat for its rating.
//! - **Matched last.** A poorly rated user ([`Profile::low_rated`]) waits in
//!   a bucket of their own class marked `matched_last`; any other
//!   compatible waiter is preferred, however new.

use super::buckets::{Class, Suggestion};
use super::deadlines::{Due, When};
use super::effect::Outcome;
use super::profile::{Profile, RecentPartner};
use super::rules::Attempt;
use super::{Engine, Presence};
use crate::domain::{Ticket, Timestamp, UserId};
use crate::i18n::Text;
use std::time::Duration;

/// Default of [`MatchConfig::no_repeat_partners`].
pub const DEFAULT_NO_REPEAT_PARTNERS: u32 = 3;
/// Default of [`MatchConfig::no_repeat_window`], in seconds: an hour.
pub const DEFAULT_NO_REPEAT_WINDOW_SECS: u64 = 3600;
/// Ended chats a profile remembers at least, so the last few can be rated
/// even with the no-repeat rule off.
const MIN_REMEMBERED_CHATS: usize = 3;

/// The matching rules' tunables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchConfig {
    /// After this long a search drops the searcher's own wishes. `None`:
    /// never (the default).
    pub relax_after: Option<Duration>,
    /// How many recent partners are not matched again (0: off).
    pub no_repeat_partners: u32,
    /// For how long after a chat ended its partner is passed over.
    pub no_repeat_window: Duration,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            relax_after: None,
            no_repeat_partners: DEFAULT_NO_REPEAT_PARTNERS,
            no_repeat_window: Duration::from_secs(DEFAULT_NO_REPEAT_WINDOW_SECS),
        }
    }
}

impl Engine {
    /// The same engine with `matching` as its matching rules.
    /// Waiters already restored get their relax clocks.
    pub fn with_matching(mut self, matching: MatchConfig) -> Self {
        self.matching = matching;
        for (ticket, user) in self.buckets.entries() {
            if let Some(class) = self.buckets.class_of(user) {
                self.watch_relax(user, ticket, &class, When::Unset);
            }
        }
        self
    }

    /// The matching rules.
    pub fn matching(&self) -> MatchConfig {
        self.matching
    }

    /// How many buckets hold a waiter now.
    pub fn active_buckets(&self) -> usize {
        self.buckets.active()
    }

    /// `user`'s class as their profile says now, and the partners they
    /// should not meet again at `now`.
    pub(super) fn seeker(&self, user: UserId, now: Timestamp) -> (Class, Avoid) {
        let Some(profile) = self.profiles.get(&user) else {
            return (Class::default(), Avoid::default());
        };
        (class_of(&profile), self.to_avoid(&profile, now))
    }

    fn to_avoid(&self, profile: &Profile, now: Timestamp) -> Avoid {
        let limit = (self.matching.no_repeat_partners as usize).min(MAX_NO_REPEAT_PARTNERS);
        let window = self.matching.no_repeat_window.as_secs();
        let mut avoid = Avoid::default();
        let recent = profile.recent_partners.iter().rev().take(limit);
        for r in recent.filter(|r| now.0 < r.ended_at.0.saturating_add(window)) {
            avoid.ids[avoid.len] = r.partner;
            avoid.len += 1;
        }
        avoid
    }

    /// The waiter `user` (of `class`) should be offered: the best one who
    /// is not a recent partner, else the best one at all. With `before`,
    /// only waiters who queued earlier.
    pub(super) fn suggest(
        &self,
        user: UserId,
        class: &Class,
        avoid: &Avoid,
        before: Option<Ticket>,
    ) -> Option<Suggestion> {
        let passed_over = std::cell::Cell::new(false);
        let fresh = |other: UserId| {
            let recent = avoid.contains(other);
            passed_over.set(passed_over.get() || recent);
            other != user && !recent
        };
        let found = self.buckets.best_for(class, before, fresh);
        if found.is_some() || !passed_over.get() {
            return found;
        }
        // Only recent partners fit: better them than nobody.
        self.buckets.best_for(class, before, |other| other != user)
    }

    /// Notes the chat with `partner` that ended at `now` in `user`'s
    /// profile, for the no-repeat rule and the rating.
    pub(super) fn remember_recent(
        &self,
        user: UserId,
        partner: UserId,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let keep = (self.matching.no_repeat_partners as usize).max(MIN_REMEMBERED_CHATS);
        self.update_profile(user, out, |profile| {
            let recent = &mut profile.recent_partners;
            recent.push(RecentPartner {
                partner,
                ended_at: now,
                rated: false,
            });
            let excess = recent.len().saturating_sub(keep);
            recent.drain(..excess);
        });
    }

    /// Puts a new search with wishes on the relax clock. The caller holds
    /// `user`'s stripe.
    pub(super) fn watch_relax(&self, user: UserId, ticket: Ticket, class: &Class, since: When) {
        let Some(after) = self.matching.relax_after.filter(|d| !d.is_zero()) else {
            return;
        };
        if !class.has_wishes() {
            return;
        }
        let when = match since {
            When::At(at) => When::At(Timestamp(at.0.saturating_add(after.as_secs().max(1)))),
            When::Unset => When::Unset,
        };
        self.deadlines.push(when, Due::Relax { ticket, user });
    }

    /// A search's relax time came: widen it, tell the searcher, and look
    /// again for someone who now fits.
    pub(super) fn relax_due(
        &self,
        ticket: Ticket,
        user: UserId,
        when: When,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let relaxed = {
            let _held = self.locks.one(user);
            if self.presence_of(user) != Presence::Searching(ticket) {
                return;
            }
            let Some(class) = self.buckets.class_of(user) else {
                return;
            };
            if when == When::Unset {
                // Restored: count from now.
                return self.watch_relax(user, ticket, &class, When::At(now));
            }
            if !class.has_wishes() || !self.buckets.remove(ticket, user) {
                return;
            }
            let relaxed = class.relaxed();
            self.buckets.restore(ticket, user, relaxed);
            out.tell(user, Text::SearchRelaxed);
            relaxed
        };
        self.rematch(user, ticket, &relaxed, now, out);
    }

    /// Looks again for a partner for a waiter whose class just changed
    /// (relaxed, or new settings), among all waiters.
    pub(super) fn rematch(
        &self,
        user: UserId,
        ticket: Ticket,
        class: &Class,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let avoid = self
            .profiles
            .get(&user)
            .map(|profile| self.to_avoid(&profile, now))
            .unwrap_or_default();
        while let Some(found) = self.suggest(user, class, &avoid, None) {
            let attempt = self.try_pair(user, Some(ticket), found.user, found.ticket, now, out);
            if let Attempt::Done = attempt {
                return;
            }
        }
    }

    /// Rebuilds the buckets from a restored queue; profiles must be
    /// restored first.
    pub(super) fn restore_waiting(&self, waiting: &[(Ticket, UserId, Timestamp)]) {
        for &(ticket, user, _) in waiting {
            let class = self.profiles.get(&user).map(|p| class_of(&p));
            let class = class.unwrap_or_default();
            self.buckets.restore(ticket, user, class);
            self.presence.insert(user, Presence::Searching(ticket));
            self.watch_search(user, ticket, When::Unset);
            self.watch_relax(user, ticket, &class, When::Unset);
        }
    }

    /// Puts a searching `user`, whose settings changed, into the bucket
    /// their new class belongs in (keeping their ticket), and returns it.
    /// The caller holds their stripe.
    pub(super) fn rebucket(&self, user: UserId) -> Option<(Ticket, Class)> {
        let Presence::Searching(ticket) = self.presence_of(user) else {
            return None;
        };
        let class = self.profiles.get(&user).map(|p| class_of(&p));
        let class = class.unwrap_or_default();
        if !self.buckets.remove(ticket, user) {
            return None;
        }
        self.buckets.restore(ticket, user, class);
        Some((ticket, class))
    }
}

/// The most recent partners `NO_REPEAT_PARTNERS` may name.
pub const MAX_NO_REPEAT_PARTNERS: usize = 20;

/// The partners a searcher should not meet again: a few ids, kept inline
/// so a search allocates nothing.
#[derive(Clone, Copy, Debug)]
pub(super) struct Avoid {
    ids: [UserId; MAX_NO_REPEAT_PARTNERS],
    len: usize,
}

impl Default for Avoid {
    fn default() -> Self {
        Avoid {
            ids: [UserId(0); MAX_NO_REPEAT_PARTNERS],
            len: 0,
        }
    }
}

impl Avoid {
    fn contains(&self, user: UserId) -> bool {
        self.ids[..self.len].contains(&user)
    }
}

/// What matching sees of a profile.
pub(super) fn class_of(profile: &Profile) -> Class {
    Class {
        gender: profile.gender,
        age: profile.age,
        language: profile.language.unwrap_or_default(),
        wants_gender: profile.wants_gender,
        wants_age: profile.wants_age,
        same_language_only: profile.same_language_only,
        matched_last: profile.low_rated(),
    }
}
