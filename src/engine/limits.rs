//! Flood control: how fast one user may send messages and start searches.
//!
//! Each user has two sliding windows of 60 seconds: one for messages sent
//! while chatting (relayable or not: each one makes the bot send something),
//! one for searches started (/next, or /chat while idle, so /stop + /chat
//! is no way around the limit). Over a limit the message is dropped or the
//! search refused, and the user is told to slow down once per refused
//! stretch: the first refusal after something was allowed. Nobody else is
//! affected.
//!
//! A window is exact ("at most N in any 60 seconds") and still lets a user
//! send N at once, say a photo album. It counts hits per whole second, so it
//! never holds more than 60 entries however high the limit. Users whose
//! windows are empty are dropped by a sweep that runs on a tick at most once
//! a minute, so memory follows the users active in the last two minutes.

use super::Engine;
use super::UserMap;
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::Outcome;
use crate::i18n::Text;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// The length of a window, in seconds.
pub(super) const WINDOW_SECS: u64 = 60;

/// What a window says to one more hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Allowed,
    /// Over the limit; `warn` is true for the first refusal of a stretch.
    Refused {
        warn: bool,
    },
}

/// Hits in the last [`WINDOW_SECS`], counted per second, oldest first.
#[derive(Default)]
struct Window {
    hits: VecDeque<(u64, u32)>,
    total: u32,
    warned: bool,
}

impl Window {
    fn charge(&mut self, now: u64, limit: u32) -> Verdict {
        self.forget(now);
        if self.total >= limit {
            let warn = !self.warned;
            self.warned = true;
            return Verdict::Refused { warn };
        }
        self.warned = false;
        self.total += 1;
        match self.hits.back_mut() {
            // A caller's clock a little behind another's counts as the same second.
            Some((second, count)) if *second >= now => *count += 1,
            _ => self.hits.push_back((now, 1)),
        }
        Verdict::Allowed
    }

    /// Drops hits that left the window.
    fn forget(&mut self, now: u64) {
        while let Some(&(second, count)) = self.hits.front() {
            if second.saturating_add(WINDOW_SECS) > now {
                break;
            }
            self.hits.pop_front();
            self.total -= count;
        }
    }

    fn is_empty_at(&mut self, now: u64) -> bool {
        self.forget(now);
        self.hits.is_empty()
    }
}

#[derive(Default)]
struct Budgets {
    messages: Window,
    searches: Window,
}

/// Which budget a hit is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Budget {
    Messages,
    Searches,
}

#[derive(Default)]
pub(super) struct Limiter {
    users: UserMap<Budgets>,
    /// The earliest time of the next sweep.
    next_sweep: AtomicU64,
}

impl Limiter {
    /// Charges one hit to `user`'s `budget`; a `limit` of zero allows all.
    pub(super) fn charge(
        &self,
        user: UserId,
        budget: Budget,
        limit: u32,
        now: Timestamp,
    ) -> Verdict {
        if limit == 0 {
            return Verdict::Allowed;
        }
        let mut budgets = self.users.entry(user).or_default();
        let window = match budget {
            Budget::Messages => &mut budgets.messages,
            Budget::Searches => &mut budgets.searches,
        };
        window.charge(now.0, limit)
    }

    /// Forgets users with nothing left in either window, at most once a
    /// minute. An empty window has nothing to refuse, so this changes no
    /// verdict.
    pub(super) fn sweep(&self, now: Timestamp) {
        let due = self.next_sweep.load(Ordering::Relaxed);
        if now.0 < due {
            return;
        }
        let next = now.0.saturating_add(WINDOW_SECS);
        if self
            .next_sweep
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return; // another tick is sweeping
        }
        self.users.retain(|_, budgets| {
            let empty = budgets.messages.is_empty_at(now.0) && budgets.searches.is_empty_at(now.0);
            !empty
        });
    }

    /// How many users are tracked.
    pub(super) fn len(&self) -> usize {
        self.users.len()
    }
}

impl Engine {
    /// Whether one more message from `user` may go through at `now`.
    pub(super) fn may_send(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let limit = self.config.message_rate_limit;
        self.admit(
            user,
            Budget::Messages,
            limit,
            now,
            Text::SlowDownMessages,
            out,
        )
    }

    /// Whether `user` may start one more search at `now`.
    pub(super) fn may_search(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let limit = self.config.next_rate_limit;
        self.admit(
            user,
            Budget::Searches,
            limit,
            now,
            Text::SlowDownSearches,
            out,
        )
    }

    fn admit(
        &self,
        user: UserId,
        budget: Budget,
        limit: u32,
        now: Timestamp,
        slow_down: Text,
        out: &mut Outcome,
    ) -> bool {
        match self.limiter.charge(user, budget, limit, now) {
            Verdict::Allowed => true,
            Verdict::Refused { warn } => {
                if warn {
                    out.tell(user, slow_down);
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(window: &mut Window, limit: u32, at: &[u64]) -> Vec<Verdict> {
        at.iter().map(|t| window.charge(*t, limit)).collect()
    }

    #[test]
    fn a_burst_up_to_the_limit_then_one_warning() {
        use Verdict::*;
        let mut window = Window::default();
        assert_eq!(
            run(&mut window, 3, &[100, 100, 100, 100, 101, 159]),
            vec![
                Allowed,
                Allowed,
                Allowed,
                Refused { warn: true },
                Refused { warn: false },
                Refused { warn: false },
            ]
        );
        // The burst at 100 leaves the window at 160.
        assert_eq!(
            run(&mut window, 3, &[160, 160, 160, 160]),
            vec![Allowed, Allowed, Allowed, Refused { warn: true }]
        );
    }

    #[test]
    fn at_most_the_limit_in_any_sixty_seconds() {
        let mut window = Window::default();
        let mut allowed = Vec::new();
        for t in 0..300u64 {
            for _ in 0..(t % 3) {
                if window.charge(t, 10) == Verdict::Allowed {
                    allowed.push(t);
                }
            }
        }
        for (i, start) in allowed.iter().enumerate() {
            let within = allowed[i..].iter().take_while(|t| **t < start + 60).count();
            assert!(within <= 10, "{within} hits in the minute from {start}");
        }
        assert!(window.hits.len() <= 60);
    }

    #[test]
    fn a_clock_running_behind_counts_as_the_latest_second() {
        let mut window = Window::default();
        assert_eq!(window.charge(100, 5), Verdict::Allowed);
        assert_eq!(window.charge(99, 5), Verdict::Allowed);
        assert_eq!(window.hits, VecDeque::from([(100, 2)]));
    }

    #[test]
    fn sweep_forgets_only_users_with_empty_windows() {
        let limiter = Limiter::default();
        limiter.charge(UserId(1), Budget::Messages, 5, Timestamp(0));
        limiter.charge(UserId(2), Budget::Searches, 5, Timestamp(50));
        limiter.sweep(Timestamp(70));
        assert_eq!(limiter.len(), 1);
        limiter.sweep(Timestamp(110)); // within a minute of the last sweep
        assert_eq!(limiter.len(), 1);
        limiter.sweep(Timestamp(130));
        assert_eq!(limiter.len(), 0);
    }
}
