//! Striped per-user locks.
//!
//! A transition that touches two users (pairing, ending a chat) must change
//! both atomically, or another thread could see half a pair. Each user maps
//! to one of a fixed set of stripes; a two-user transition takes both
//! stripes in index order, so two threads can never wait on each other.

use crate::domain::UserId;
use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

pub struct UserLocks {
    stripes: Box<[Mutex<()>]>,
}

/// Holds one or two stripes until dropped.
pub struct Held<'a> {
    _first: MutexGuard<'a, ()>,
    _second: Option<MutexGuard<'a, ()>>,
}

impl Default for UserLocks {
    fn default() -> Self {
        UserLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl UserLocks {
    fn index(&self, user: UserId) -> usize {
        super::spread(user) % self.stripes.len()
    }

    /// Locks `user`'s stripe.
    pub fn one(&self, user: UserId) -> Held<'_> {
        Held {
            _first: self.stripes[self.index(user)].lock(),
            _second: None,
        }
    }

    /// Locks the stripes of `a` and `b`, lowest index first.
    pub fn two(&self, a: UserId, b: UserId) -> Held<'_> {
        let (i, j) = (self.index(a), self.index(b));
        if i == j {
            return Held {
                _first: self.stripes[i].lock(),
                _second: None,
            };
        }
        let (low, high) = (i.min(j), i.max(j));
        let first = self.stripes[low].lock();
        let second = self.stripes[high].lock();
        Held {
            _first: first,
            _second: Some(second),
        }
    }
}
