//! "Seen this minute": at most one last-seen write per user per minute.
//!
//! The engine records `Record::Seen` on every event a user causes, which is
//! right for the engine (it knows nothing of storage costs) but made every
//! relayed message a write to the users table. The store keeps only first
//! and last seen, at one-second resolution, and nothing reads them more
//! precisely than "active recently", so the shell passes a user's first
//! `Seen` of each wall-clock minute through and drops the rest.
//!
//! What this costs: a stored last-seen time may be up to a minute early.
//! A user's first sighting is always written (they can't have been seen this
//! minute before), so first-seen stays exact. If the commit carrying a
//! passed `Seen` fails, that user's last-seen waits for the next minute;
//! `Seen` is bookkeeping and changes nobody's chat.

use crate::domain::{Timestamp, UserId};
use crate::engine::Record;
use rustc_hash::FxHashSet;

/// Users whose `Seen` has gone to the store in the current minute.
#[derive(Debug, Default)]
pub struct SeenThisMinute {
    minute: u64,
    users: FxHashSet<UserId>,
}

impl SeenThisMinute {
    /// Removes from `records` every `Seen` of a user already written this
    /// minute, and marks the rest as written. `now` starts a new minute
    /// when it has moved past the current one.
    pub fn filter(&mut self, records: &mut Vec<Record>, now: Timestamp) {
        let minute = now.0 / 60;
        if minute != self.minute {
            self.minute = minute;
            self.users.clear();
        }
        records.retain(|record| match record {
            Record::Seen { user, .. } => self.users.insert(*user),
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Counter;

    fn seen(user: i64, at: u64) -> Record {
        Record::Seen {
            user: UserId(user),
            at: Timestamp(at),
        }
    }

    #[test]
    fn a_user_is_written_once_a_minute_and_other_records_pass() {
        let mut filter = SeenThisMinute::default();
        let count = Record::Count {
            counter: Counter::Relayed,
            delta: 1,
        };
        let mut records = vec![seen(1, 600), count.clone(), seen(1, 601), seen(2, 601)];
        filter.filter(&mut records, Timestamp(601));
        assert_eq!(records, vec![seen(1, 600), count.clone(), seen(2, 601)]);

        let mut later = vec![seen(1, 659), seen(2, 659), count.clone()];
        filter.filter(&mut later, Timestamp(659));
        assert_eq!(later, vec![count], "same minute: nothing new to write");

        let mut next_minute = vec![seen(1, 660), seen(1, 661)];
        filter.filter(&mut next_minute, Timestamp(660));
        assert_eq!(next_minute, vec![seen(1, 660)], "a new minute writes again");
    }
}
