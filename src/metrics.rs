//! Prometheus metrics, kept in atomics and rendered on request.
//!
//! The bot's hot path only bumps atomics; `/metrics` renders the text
//! exposition format when scraped. No metric carries a user id or any
//! content: only counts, gauges and one latency histogram.
//!
//! [`history`] keeps a day of per-minute samples of the same numbers for
//! the dashboard's charts; [`Metrics::sample`] is called once a minute.

pub mod history;

use crate::engine::{Counter, Outbound, Record};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the commit latency buckets, in seconds.
const COMMIT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    searching: AtomicU64,
    chats: AtomicU64,
    matches: AtomicU64,
    chats_ended: AtomicU64,
    reports: AtomicU64,
    relayed: [AtomicU64; 3],
    api_errors: parking_lot::Mutex<BTreeMap<String, u64>>,
    commit_buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    commit_count: AtomicU64,
    commit_sum_micros: AtomicU64,
    update_lag_secs: AtomicU64,
    updates: AtomicU64,
    history: history::History,
    /// Dashboard logins: [accepted, refused].
    logins: [AtomicU64; 2],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

/// The kinds of relay, as labelled in `randchat_relayed_total`.
const RELAY_KINDS: [&str; 3] = ["message", "reply", "album_part"];

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Users searching and chats running, from the engine.
    pub fn set_presence(&self, searching: usize, chats: usize) {
        self.searching.store(searching as u64, Ordering::Relaxed);
        self.chats.store(chats as u64, Ordering::Relaxed);
    }

    /// Counts what a committed batch changed.
    pub fn committed(&self, records: &[Record], took: Duration) {
        for record in records {
            if let Record::Count { counter, delta } = record {
                let target = match counter {
                    Counter::Matches => &self.matches,
                    Counter::ChatsEnded => &self.chats_ended,
                    Counter::Reports => &self.reports,
                    Counter::Relayed => continue, // counted by kind, per send
                };
                target.fetch_add(*delta, Ordering::Relaxed);
            }
        }
        self.commit_count.fetch_add(1, Ordering::Relaxed);
        self.commit_sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        if let Some(bucket) = COMMIT_BUCKETS.iter().position(|bound| secs <= *bound) {
            self.commit_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts relays among committed sends, by kind.
    pub fn relaying(&self, sends: &[Outbound]) {
        for send in sends {
            let (kind, n) = match send {
                Outbound::Relay { .. } => (0, 1),
                Outbound::RelayReply { .. } => (1, 1),
                Outbound::RelayAlbum { messages, .. } => (2, messages.len() as u64),
                _ => continue,
            };
            self.relayed[kind].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// A Bot API call failed with `code` (an HTTP-like status, or "network").
    pub fn api_error(&self, code: &str) {
        *self.api_errors.lock().entry(code.to_owned()).or_default() += 1;
    }

    /// An update was applied `lag` after Telegram dated it.
    pub fn update_applied(&self, lag_secs: u64) {
        self.updates.fetch_add(1, Ordering::Relaxed);
        self.update_lag_secs.store(lag_secs, Ordering::Relaxed);
    }

    /// A dashboard login attempt; many refusals mean someone is guessing.
    pub fn dashboard_login(&self, accepted: bool) {
        let slot = if accepted { 0 } else { 1 };
        self.logins[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Users searching and chats running, as last set.
    pub fn presence(&self) -> (u64, u64) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        (load(&self.searching), load(&self.chats))
    }

    /// Messages relayed since start, all kinds.
    pub fn relayed_total(&self) -> u64 {
        self.relayed.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }

    /// Takes this minute's sample for the charts.
    pub fn sample(&self, at: u64) {
        let (searching, chats) = self.presence();
        let relayed = self.relayed_total();
        self.history.record(at, searching, chats, relayed);
    }

    /// The day's samples, oldest first, and what one taken `at` would say.
    pub fn history(&self, at: u64) -> (Vec<history::Sample>, history::Sample) {
        let (searching, chats) = self.presence();
        let live = self
            .history
            .peek(at, searching, chats, self.relayed_total());
        (self.history.samples(), live)
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "randchat_searching_users",
            "Users waiting for a partner.",
            load(&self.searching),
        );
        gauge(
            &mut out,
            "randchat_active_chats",
            "Chats running now.",
            load(&self.chats),
        );
        counter(
            &mut out,
            "randchat_matches_total",
            "Pairs made.",
            load(&self.matches),
        );
        counter(
            &mut out,
            "randchat_chats_ended_total",
            "Chats ended.",
            load(&self.chats_ended),
        );
        counter(
            &mut out,
            "randchat_reports_total",
            "Reports filed.",
            load(&self.reports),
        );
        counter(
            &mut out,
            "randchat_updates_total",
            "Telegram updates applied.",
            load(&self.updates),
        );
        gauge(
            &mut out,
            "randchat_update_lag_seconds",
            "How old the last applied update was when applied.",
            load(&self.update_lag_secs),
        );
        let _ = writeln!(
            out,
            "# HELP randchat_relayed_total Messages relayed to a partner, by kind."
        );
        let _ = writeln!(out, "# TYPE randchat_relayed_total counter");
        for (kind, value) in RELAY_KINDS.iter().zip(&self.relayed) {
            let _ = writeln!(
                out,
                "randchat_relayed_total{{kind=\"{kind}\"}} {}",
                load(value)
            );
        }
        let _ = writeln!(
            out,
            "# HELP randchat_api_errors_total Bot API calls that failed, by code."
        );
        let _ = writeln!(out, "# TYPE randchat_api_errors_total counter");
        for (code, value) in self.api_errors.lock().iter() {
            let _ = writeln!(out, "randchat_api_errors_total{{code=\"{code}\"}} {value}");
        }
        self.render_commit_histogram(&mut out);
        let name = "randchat_dashboard_logins_total";
        let _ = writeln!(out, "# HELP {name} Dashboard login attempts, by result.");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (result, value) in ["accepted", "refused"].iter().zip(&self.logins) {
            let _ = writeln!(out, "{name}{{result=\"{result}\"}} {}", load(value));
        }
        out
    }

    fn render_commit_histogram(&self, out: &mut String) {
        let name = "randchat_commit_seconds";
        let _ = writeln!(out, "# HELP {name} Time to commit a batch durably.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in COMMIT_BUCKETS.iter().zip(&self.commit_buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.commit_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.commit_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MessageId, UserId};

    #[test]
    fn renders_counts_gauges_and_a_cumulative_histogram() {
        let metrics = Metrics::new();
        metrics.set_presence(3, 2);
        let records = [Record::Count {
            counter: Counter::Matches,
            delta: 2,
        }];
        metrics.committed(&records, Duration::from_micros(700));
        metrics.committed(&[], Duration::from_millis(30));
        let relay = Outbound::Relay {
            from: UserId(1),
            to: UserId(2),
            message: MessageId(3),
        };
        let album = Outbound::RelayAlbum {
            from: UserId(1),
            to: UserId(2),
            messages: vec![MessageId(4), MessageId(5)],
        };
        metrics.relaying(&[relay, album]);
        metrics.api_error("429");
        let text = metrics.render();
        for line in [
            "randchat_searching_users 3",
            "randchat_active_chats 2",
            "randchat_matches_total 2",
            "randchat_relayed_total{kind=\"message\"} 1",
            "randchat_relayed_total{kind=\"album_part\"} 2",
            "randchat_api_errors_total{code=\"429\"} 1",
            "randchat_commit_seconds_bucket{le=\"0.0005\"} 0",
            "randchat_commit_seconds_bucket{le=\"0.001\"} 1",
            "randchat_commit_seconds_bucket{le=\"0.05\"} 2",
            "randchat_commit_seconds_bucket{le=\"+Inf\"} 2",
            "randchat_commit_seconds_count 2",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }
}
