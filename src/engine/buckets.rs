//! Waiters kept in buckets by what they are and whom they want, so a match
//! is found by looking at a few compatible buckets, never by scanning every
//! waiter.
//!
//! A [`Class`] is everything matching looks at: a user's own gender, age and
//! language, their wishes, and whether they are matched last (poorly
//! rated). Users with equal classes are interchangeable for matching, so
//! they share one bucket: a lock-sharded FIFO [`WaitQueue`]. All buckets
//! draw tickets from one counter, so "oldest" means the same thing across
//! them and first-in first-out holds among everyone compatible.
//!
//! Buckets are created on first use and never removed: there are few
//! classes in practice (most users never touch their wishes), an empty
//! bucket costs one atomic load per search, and never removing them means a
//! bucket's index is stable, which is what `placed` records per waiter.
//!
//! Like the queue, the buckets only *suggest* a partner; the engine
//! validates the suggestion under both users' stripe locks. Lock order:
//! a user's stripe, then the directory (read), then a shard.

use super::profile::{AgeRange, Gender};
use super::queue::WaitQueue;
use super::UserMap;
use crate::domain::{Ticket, UserId};
use crate::i18n::Lang;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;
use std::sync::atomic::AtomicU64;

/// What matching knows about a waiter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Class {
    pub gender: Option<Gender>,
    pub age: Option<u8>,
    pub language: Lang,
    pub wants_gender: Option<Gender>,
    pub wants_age: Option<AgeRange>,
    pub same_language_only: bool,
    /// Poorly rated: offered only when no one else fits.
    pub matched_last: bool,
}

impl Class {
    /// Whether `other` is someone this class wants to meet: the rule as
    /// plainly as it can be said. Searches use [`Filter::wants`], its
    /// reduced form, which a test holds equal to this one.
    #[cfg(test)]
    pub fn wants(&self, other: &Class) -> bool {
        let gender = self.wants_gender.is_none_or(|g| other.gender == Some(g));
        let age = self
            .wants_age
            .is_none_or(|range| other.age.is_some_and(|a| range.min <= a && a <= range.max));
        let language = !self.same_language_only || self.language == other.language;
        gender && age && language
    }

    /// Whether the two may be matched: each fits the other's wishes.
    #[cfg(test)]
    pub fn mutual(&self, other: &Class) -> bool {
        self.wants(other) && other.wants(self)
    }

    /// The same person with no wishes: what a relaxed search offers.
    pub fn relaxed(self) -> Class {
        Class {
            wants_gender: None,
            wants_age: None,
            same_language_only: false,
            ..self
        }
    }

    /// Every field packed into one integer, one to one: hashing it is one
    /// multiply where the derived hash was one per field, and every search
    /// that queues looks its bucket up by class.
    fn packed(&self) -> u64 {
        fn gender(g: Option<Gender>) -> u64 {
            u64::from(Filter::gender_bit(g))
        }
        let age = self.age.map_or(0, |a| u64::from(a) + 1);
        let wants_age = self.wants_age.map_or(0, |r| {
            (1 << 16) | (u64::from(r.min) << 8) | u64::from(r.max)
        });
        gender(self.gender)
            | gender(self.wants_gender) << 4
            | age << 8
            | (self.language as u64) << 20
            | u64::from(self.same_language_only) << 28
            | u64::from(self.matched_last) << 29
            | wants_age << 32
    }

    /// Whether relaxing would widen anything.
    pub fn has_wishes(&self) -> bool {
        self.wants_gender.is_some() || self.wants_age.is_some() || self.same_language_only
    }
}

/// A [`Class`] reduced to small integers, so the compatibility check a
/// search makes against every bucket is a handful of compares instead of
/// walking `Option`s (it was a tenth of a filtered match).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Filter {
    /// One bit: the own gender, or "unset".
    gender: u8,
    /// The genders this class accepts, as bits (all of them: no wish).
    accepts_gender: u8,
    /// The own age plus one; 0 when unset.
    age: u16,
    /// The accepted ages plus one, inclusive: `0..=u16::MAX` with no wish,
    /// so an unset age (0) fits only "any age", as in [`Class::wants`].
    min_age: u16,
    max_age: u16,
    language: Lang,
    same_language_only: bool,
}

impl Filter {
    const ANY_GENDER: u8 = 0b1111;

    fn gender_bit(gender: Option<Gender>) -> u8 {
        match gender {
            None => 1,
            Some(Gender::Male) => 2,
            Some(Gender::Female) => 4,
            Some(Gender::Other) => 8,
        }
    }

    fn of(class: &Class) -> Filter {
        let (min_age, max_age) = class.wants_age.map_or((0, u16::MAX), |r| {
            (u16::from(r.min) + 1, u16::from(r.max) + 1)
        });
        Filter {
            gender: Self::gender_bit(class.gender),
            accepts_gender: class
                .wants_gender
                .map_or(Self::ANY_GENDER, |g| Self::gender_bit(Some(g))),
            age: class.age.map_or(0, |a| u16::from(a) + 1),
            min_age,
            max_age,
            language: class.language,
            same_language_only: class.same_language_only,
        }
    }

    /// [`Class::wants`], on the reduced form.
    fn wants(&self, other: &Filter) -> bool {
        self.accepts_gender & other.gender != 0
            && self.min_age <= other.age
            && other.age <= self.max_age
            && (!self.same_language_only || self.language == other.language)
    }

    /// [`Class::mutual`], on the reduced form.
    fn mutual(&self, other: &Filter) -> bool {
        self.wants(other) && other.wants(self)
    }
}

impl std::hash::Hash for Class {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.packed());
    }
}

struct Bucket {
    class: Class,
    filter: Filter,
    queue: WaitQueue,
}

#[derive(Default)]
struct Directory {
    buckets: Vec<Bucket>,
    index: FxHashMap<Class, usize>,
}

/// Every waiter, in buckets by [`Class`].
pub struct Buckets {
    directory: RwLock<Directory>,
    /// Which bucket each waiter is in.
    placed: UserMap<usize>,
    next_ticket: AtomicU64,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            directory: RwLock::default(),
            placed: UserMap::default(),
            next_ticket: AtomicU64::new(1),
        }
    }
}

/// A suggested partner: which waiter, and whether they are matched last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub ticket: Ticket,
    pub user: UserId,
}

impl Buckets {
    /// The index of `class`'s bucket, created if need be.
    fn bucket_of(&self, class: Class) -> usize {
        if let Some(&at) = self.directory.read().index.get(&class) {
            return at;
        }
        let mut directory = self.directory.write();
        if let Some(&at) = directory.index.get(&class) {
            return at;
        }
        let at = directory.buckets.len();
        directory.buckets.push(Bucket {
            class,
            filter: Filter::of(&class),
            queue: WaitQueue::new(),
        });
        directory.index.insert(class, at);
        at
    }

    /// Queues `user` in `class`'s bucket and returns their ticket.
    pub fn push(&self, user: UserId, class: Class) -> Ticket {
        let at = self.bucket_of(class);
        self.placed.insert(user, at);
        let directory = self.directory.read();
        directory.buckets[at]
            .queue
            .push_counted(user, &self.next_ticket)
    }

    /// Puts a waiter back with the ticket they had (a restore, or a move to
    /// a wider bucket).
    pub fn restore(&self, ticket: Ticket, user: UserId, class: Class) {
        let at = self.bucket_of(class);
        self.placed.insert(user, at);
        self.directory.read().buckets[at]
            .queue
            .restore(ticket, user);
        self.next_ticket
            .fetch_max(ticket.0 + 1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Removes `user`'s entry with `ticket`. Returns whether it was there.
    pub fn remove(&self, ticket: Ticket, user: UserId) -> bool {
        let Some(at) = self.placed.get(&user).map(|at| *at) else {
            return false;
        };
        let removed = self.directory.read().buckets[at].queue.remove(ticket, user);
        if removed {
            self.placed.remove_if(&user, |_, placed| *placed == at);
        }
        removed
    }

    /// The class of the bucket `user` waits in, if they wait.
    pub fn class_of(&self, user: UserId) -> Option<Class> {
        let at = self.placed.get(&user).map(|at| *at)?;
        Some(self.directory.read().buckets[at].class)
    }

    /// The best waiter for a searcher of class `me`: among waiters in
    /// mutually compatible buckets that `wanted` accepts (and, with
    /// `before`, who queued before that ticket), the oldest who is not
    /// matched last, else the oldest who is.
    pub fn best_for(
        &self,
        me: &Class,
        before: Option<Ticket>,
        wanted: impl Fn(UserId) -> bool,
    ) -> Option<Suggestion> {
        let mine = Filter::of(me);
        let directory = self.directory.read();
        let mut best: Option<(bool, Ticket, UserId)> = None;
        for bucket in &directory.buckets {
            if !mine.mutual(&bucket.filter) {
                continue;
            }
            let last = bucket.class.matched_last;
            if best.is_some_and(|(best_last, _, _)| !best_last && last) {
                continue;
            }
            let oldest = bucket.queue.oldest_where(&wanted);
            let oldest = oldest.filter(|(t, _)| before.is_none_or(|b| *t < b));
            if let Some((ticket, user)) = oldest {
                if best.is_none_or(|b| (last, ticket) < (b.0, b.1)) {
                    best = Some((last, ticket, user));
                }
            }
        }
        best.map(|(_, ticket, user)| Suggestion { ticket, user })
    }

    /// How many users are waiting.
    pub fn len(&self) -> usize {
        let directory = self.directory.read();
        directory.buckets.iter().map(|b| b.queue.len()).sum()
    }

    /// How many buckets hold at least one waiter.
    pub fn active(&self) -> usize {
        let directory = self.directory.read();
        directory
            .buckets
            .iter()
            .filter(|b| !b.queue.is_empty())
            .count()
    }

    /// Every waiter, oldest first. For tests, checks and snapshots.
    pub fn entries(&self) -> Vec<(Ticket, UserId)> {
        let directory = self.directory.read();
        let mut all: Vec<_> = directory
            .buckets
            .iter()
            .flat_map(|b| b.queue.entries())
            .collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn man(age: u8) -> Class {
        Class {
            gender: Some(Gender::Male),
            age: Some(age),
            ..Class::default()
        }
    }

    fn woman_wanting_men(min: u8, max: u8) -> Class {
        Class {
            gender: Some(Gender::Female),
            age: Some(30),
            wants_gender: Some(Gender::Male),
            wants_age: Some(AgeRange { min, max }),
            ..Class::default()
        }
    }

    #[test]
    fn wishes_are_mutual() {
        let picky = woman_wanting_men(25, 35);
        assert!(picky.mutual(&man(30)));
        assert!(!picky.mutual(&man(40)), "too old for her");
        let mut wants_women = man(30);
        wants_women.wants_gender = Some(Gender::Male);
        assert!(!picky.mutual(&wants_women), "he wants a man");
        let unset = Class::default();
        assert!(!picky.mutual(&unset), "an unknown age fits no range");
        assert!(unset.mutual(&Class::default()));
        let ru_only = Class {
            language: Lang::Ru,
            same_language_only: true,
            ..Class::default()
        };
        assert!(!ru_only.mutual(&Class::default()));
        assert!(ru_only.relaxed().mutual(&Class::default()));
    }

    /// Every class a user can choose, and then some (ranges at the edges).
    fn classes() -> Vec<Class> {
        let genders = [
            None,
            Some(Gender::Male),
            Some(Gender::Female),
            Some(Gender::Other),
        ];
        let ages = [
            None,
            Some(0),
            Some(13),
            Some(25),
            Some(26),
            Some(99),
            Some(255),
        ];
        let ranges = [
            None,
            Some(AgeRange { min: 0, max: 0 }),
            Some(AgeRange { min: 13, max: 25 }),
            Some(AgeRange { min: 26, max: 99 }),
            Some(AgeRange { min: 0, max: 255 }),
        ];
        let mut all = Vec::new();
        for gender in genders {
            for age in ages {
                for language in [Lang::En, Lang::Ru] {
                    for wants_gender in genders {
                        for wants_age in ranges {
                            for same_language_only in [false, true] {
                                all.push(Class {
                                    gender,
                                    age,
                                    language,
                                    wants_gender,
                                    wants_age,
                                    same_language_only,
                                    matched_last: false,
                                });
                            }
                        }
                    }
                }
            }
        }
        all
    }

    #[test]
    fn the_reduced_filter_agrees_with_the_class_everywhere() {
        let all = classes();
        let filters: Vec<_> = all.iter().map(Filter::of).collect();
        for (a, fa) in all.iter().zip(&filters) {
            for (b, fb) in all.iter().zip(&filters) {
                assert_eq!(fa.wants(fb), a.wants(b), "{a:?} wants {b:?}");
            }
        }
    }

    #[test]
    fn packing_tells_every_class_apart() {
        let mut all = classes();
        let spanish = all.iter().filter(|c| c.language == Lang::En);
        let spanish: Vec<_> = spanish
            .map(|c| Class {
                language: Lang::Es,
                ..*c
            })
            .collect();
        all.extend(spanish);
        let last = all.iter().map(|c| Class {
            matched_last: true,
            ..*c
        });
        let last: Vec<_> = last.collect();
        all.extend(last);
        let mut seen = std::collections::HashMap::new();
        for class in &all {
            if let Some(other) = seen.insert(class.packed(), *class) {
                panic!("{class:?} and {other:?} pack alike");
            }
        }
    }

    #[test]
    fn oldest_compatible_first_and_matched_last_after_everyone() {
        let buckets = Buckets::default();
        let low = Class {
            matched_last: true,
            ..man(30)
        };
        let oldest_low = buckets.push(UserId(1), low);
        let too_old = buckets.push(UserId(2), man(50));
        let fits = buckets.push(UserId(3), man(28));
        let fits_later = buckets.push(UserId(4), man(29));
        assert!(oldest_low < too_old && too_old < fits && fits < fits_later);
        let picky = woman_wanting_men(25, 35);
        let best = buckets.best_for(&picky, None, |_| true).unwrap();
        assert_eq!((best.ticket, best.user), (fits, UserId(3)));
        assert!(buckets.remove(fits, UserId(3)));
        assert!(buckets.remove(fits_later, UserId(4)));
        let best = buckets.best_for(&picky, None, |_| true).unwrap();
        assert_eq!(best.user, UserId(1), "the poorly rated one, last");
        assert_eq!(buckets.best_for(&picky, None, |u| u != UserId(1)), None);
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets.active(), 2);
    }

    #[test]
    fn a_waiter_moves_buckets_with_their_ticket() {
        let buckets = Buckets::default();
        let picky = woman_wanting_men(25, 35);
        let ticket = buckets.push(UserId(1), picky);
        let other = Class {
            gender: Some(Gender::Female),
            ..Class::default()
        };
        assert_eq!(buckets.best_for(&other, None, |_| true), None);
        assert!(buckets.remove(ticket, UserId(1)));
        buckets.restore(ticket, UserId(1), picky.relaxed());
        assert_eq!(buckets.class_of(UserId(1)), Some(picky.relaxed()));
        let found = buckets.best_for(&other, None, |_| true).unwrap();
        assert_eq!((found.ticket, found.user), (ticket, UserId(1)));
        assert_eq!(buckets.entries(), vec![(ticket, UserId(1))]);
    }
}
