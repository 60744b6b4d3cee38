//! The last 24 hours at one sample a minute, for the dashboard's charts.
//!
//! A ring of [`SLOTS`] samples in memory: searching users, active chats and
//! messages relayed in the minute before each sample. It is not persisted:
//! after a restart the charts start empty, which keeps the hot path and the
//! store free of it; Prometheus (`/metrics`) is the place for long history.

use parking_lot::Mutex;
use std::collections::VecDeque;

/// 24 hours of minutes.
pub const SLOTS: usize = 24 * 60;

/// One minute's sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds.
    pub at: u64,
    pub searching: u64,
    pub chats: u64,
    /// Messages relayed since the previous sample.
    pub messages: u64,
}

#[derive(Default)]
pub struct History {
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    samples: VecDeque<Sample>,
    /// The relayed-messages total at the last sample.
    relayed_then: u64,
}

impl History {
    /// Adds a sample; the oldest falls out once there are [`SLOTS`].
    pub fn record(&self, at: u64, searching: u64, chats: u64, relayed_total: u64) {
        let mut ring = self.ring.lock();
        let messages = relayed_total.saturating_sub(ring.relayed_then);
        ring.relayed_then = relayed_total;
        if ring.samples.len() == SLOTS {
            ring.samples.pop_front();
        }
        ring.samples.push_back(Sample {
            at,
            searching,
            chats,
            messages,
        });
    }

    /// What a sample taken now would say, without recording it.
    pub fn peek(&self, at: u64, searching: u64, chats: u64, relayed_total: u64) -> Sample {
        let ring = self.ring.lock();
        Sample {
            at,
            searching,
            chats,
            messages: relayed_total.saturating_sub(ring.relayed_then),
        }
    }

    /// Every sample, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.ring.lock().samples.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_day_of_minutes_and_counts_messages_per_minute() {
        let history = History::default();
        for minute in 0..(SLOTS as u64 + 10) {
            history.record(minute * 60, minute, 1, minute * 5);
        }
        let samples = history.samples();
        assert_eq!(samples.len(), SLOTS);
        assert_eq!(samples[0].at, 10 * 60, "the oldest ten fell out");
        assert!(samples.iter().all(|s| s.messages == 5));
        let now = history.peek(0, 0, 0, (SLOTS as u64 + 9) * 5 + 3);
        assert_eq!(now.messages, 3);
    }
}
