//! Staying inside Telegram's rate limits without stalling everyone.
//!
//! Telegram allows a bot about 30 messages a second overall and about one a
//! second per chat, with short bursts tolerated. teloxide's own `Throttle`
//! defaults to 20 a minute per private chat (far too tight for a relay) and
//! freezes every chat when any one gets a 429. Here each chat has its own
//! token bucket and the bot shares one global bucket; a chat that must wait
//! waits alone, in its own delivery task.

use dashmap::DashMap;
use parking_lot::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The limits, from configuration. `enabled: false` (THROTTLE=off) is for
/// load tests against a local fake, never for the real Bot API.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleConfig {
    pub enabled: bool,
    /// Messages per second for the whole bot.
    pub global_per_second: f64,
    /// Messages per second to one chat.
    pub chat_per_second: f64,
    /// How many messages one chat may get at once before the rate applies.
    pub chat_burst: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: true,
            global_per_second: 30.0,
            chat_per_second: 1.0,
            chat_burst: 3.0,
        }
    }
}

/// A token bucket: `burst` tokens at most, refilled at `rate` per second.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket {
            tokens: burst,
            updated: now,
        }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

/// How many idle chat buckets to keep before forgetting full ones.
const CHAT_BUCKETS_SOFT_LIMIT: usize = 50_000;

pub struct Throttle {
    config: ThrottleConfig,
    global: Mutex<Bucket>,
    chats: DashMap<i64, Bucket>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Self {
        let now = Instant::now();
        Throttle {
            config,
            global: Mutex::new(Bucket::full(config.global_per_second.max(1.0), now)),
            chats: DashMap::new(),
        }
    }

    /// Waits until a message may go to `chat`.
    pub async fn acquire(&self, chat: i64) {
        if !self.config.enabled {
            return;
        }
        while let Err(wait) = self.take_chat(chat) {
            tokio::time::sleep(wait).await;
        }
        while let Err(wait) = self.take_global() {
            tokio::time::sleep(wait).await;
        }
    }

    fn take_chat(&self, chat: i64) -> Result<(), Duration> {
        let (rate, burst) = (self.config.chat_per_second, self.config.chat_burst.max(1.0));
        let now = Instant::now();
        if self.chats.len() > CHAT_BUCKETS_SOFT_LIMIT {
            self.forget_idle_chats(now);
        }
        let mut bucket = self
            .chats
            .entry(chat)
            .or_insert_with(|| Bucket::full(burst, now));
        bucket.take(rate, burst, now)
    }

    fn take_global(&self) -> Result<(), Duration> {
        let rate = self.config.global_per_second;
        self.global.lock().take(rate, rate.max(1.0), Instant::now())
    }

    /// Drops buckets that have refilled completely: they hold no memory of
    /// recent sends, so forgetting them changes nothing.
    fn forget_idle_chats(&self, now: Instant) {
        let (rate, burst) = (self.config.chat_per_second, self.config.chat_burst.max(1.0));
        self.chats.retain(|_, bucket| {
            let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
            bucket.tokens + elapsed * rate < burst
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn time_for(throttle: &Throttle, chat: i64, sends: usize) -> Duration {
        let start = Instant::now();
        for _ in 0..sends {
            throttle.acquire(chat).await;
        }
        start.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_a_burst_then_one_a_second() {
        let throttle = Throttle::new(ThrottleConfig::default());
        assert!(time_for(&throttle, 1, 3).await < Duration::from_millis(10));
        let next_two = time_for(&throttle, 1, 2).await;
        assert!(next_two >= Duration::from_millis(1990), "{next_two:?}");
        assert!(next_two < Duration::from_millis(2100), "{next_two:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_limit_caps_many_chats() {
        let throttle = Throttle::new(ThrottleConfig::default());
        let start = Instant::now();
        for chat in 0..90 {
            throttle.acquire(chat).await;
        }
        // 30 at once, then 30 a second: 60 more take about two seconds.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1950), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(2100), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn off_means_off() {
        let throttle = Throttle::new(ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        });
        assert_eq!(time_for(&throttle, 1, 1000).await, Duration::ZERO);
    }
}
