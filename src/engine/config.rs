//! The engine's tunables: how long silence and searching may last, and how
//! fast one user may send.
//!
//! They live with the engine, not with [`crate::config`], because they are
//! rules of the product; `config` only reads them from the outside world.
//! The defaults are chosen so a bot run without any setting behaves well:
//!
//! - a chat where nobody wrote for **10 minutes** is over in all but name,
//!   and a partner who walked away should not hold the other one hostage;
//! - a search that found no one in **10 minutes** will usually find no one
//!   soon, and the user has probably stopped looking at the screen;
//! - **30 relayed messages a minute** (one every two seconds, with room for
//!   a burst such as an album) is far above a human typing, and far below
//!   what lets one user spend the bot's Telegram send budget;
//! - **10 searches a minute** (/next, or /chat while idle) lets people skip
//!   quickly but not sweep through every waiting stranger.

use std::time::Duration;

/// Default of [`EngineConfig::chat_idle_timeout`], in seconds.
pub const DEFAULT_CHAT_IDLE_TIMEOUT_SECS: u64 = 600;
/// Default of [`EngineConfig::search_timeout`], in seconds.
pub const DEFAULT_SEARCH_TIMEOUT_SECS: u64 = 600;
/// Default of [`EngineConfig::message_rate_limit`], per minute.
pub const DEFAULT_MESSAGE_RATE_LIMIT: u32 = 30;
/// Default of [`EngineConfig::next_rate_limit`], per minute.
pub const DEFAULT_NEXT_RATE_LIMIT: u32 = 10;
/// Default of [`EngineConfig::album_wait`], in seconds: Telegram sends an
/// album's parts within moments of each other, and a tick comes every
/// second, so two seconds gathers them whole with little delay.
pub const DEFAULT_ALBUM_WAIT_SECS: u64 = 2;
/// Default of [`EngineConfig::share_timeout`], in seconds: long enough to
/// read the question and decide, short enough that an old question can't
/// be agreed to when the asker no longer expects it.
pub const DEFAULT_SHARE_TIMEOUT_SECS: u64 = 300;

/// How the engine times out and throttles users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// A chat in which neither side relayed a message for this long ends on
    /// the next [`super::Event::Tick`]. `None` or zero disables it.
    pub chat_idle_timeout: Option<Duration>,
    /// A search that found no partner for this long ends on the next tick.
    /// `None` or zero disables it.
    pub search_timeout: Option<Duration>,
    /// At most this many messages sent while chatting are relayed in any 60
    /// seconds; the rest are dropped. Zero means no limit.
    pub message_rate_limit: u32,
    /// At most this many searches (/next, or /chat while idle) in any 60
    /// seconds; the rest are refused. Zero means no limit.
    pub next_rate_limit: u32,
    /// How long the parts of an album are gathered before they are relayed
    /// together (whole seconds, from the first part).
    pub album_wait: Duration,
    /// How long a /link request waits for the partner's answer before it
    /// lapses, revealing nothing (whole seconds, at least one).
    pub share_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            chat_idle_timeout: Some(Duration::from_secs(DEFAULT_CHAT_IDLE_TIMEOUT_SECS)),
            search_timeout: Some(Duration::from_secs(DEFAULT_SEARCH_TIMEOUT_SECS)),
            message_rate_limit: DEFAULT_MESSAGE_RATE_LIMIT,
            next_rate_limit: DEFAULT_NEXT_RATE_LIMIT,
            album_wait: Duration::from_secs(DEFAULT_ALBUM_WAIT_SECS),
            share_timeout: Duration::from_secs(DEFAULT_SHARE_TIMEOUT_SECS),
        }
    }
}

impl EngineConfig {
    /// No timeouts and no limits: the engine as it was before either.
    pub fn unlimited() -> Self {
        EngineConfig {
            chat_idle_timeout: None,
            search_timeout: None,
            message_rate_limit: 0,
            next_rate_limit: 0,
            album_wait: Duration::from_secs(DEFAULT_ALBUM_WAIT_SECS),
            share_timeout: Duration::from_secs(DEFAULT_SHARE_TIMEOUT_SECS),
        }
    }

    /// The idle timeout in whole seconds (a fraction rounds up), if enabled.
    pub(super) fn idle_secs(&self) -> Option<u64> {
        whole_secs(self.chat_idle_timeout)
    }

    /// How long albums are gathered, in whole seconds (at least one).
    pub(super) fn album_wait_secs(&self) -> u64 {
        whole_secs(Some(self.album_wait)).unwrap_or(1).max(1)
    }

    /// How long a /link request waits, in whole seconds (at least one).
    pub(super) fn share_secs(&self) -> u64 {
        whole_secs(Some(self.share_timeout)).unwrap_or(1).max(1)
    }

    /// The search timeout in whole seconds (a fraction rounds up), if enabled.
    pub(super) fn search_secs(&self) -> Option<u64> {
        whole_secs(self.search_timeout)
    }
}

/// Timestamps are whole seconds, so a timeout is too; zero means off.
fn whole_secs(timeout: Option<Duration>) -> Option<u64> {
    let timeout = timeout.filter(|d| !d.is_zero())?;
    Some(timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0))
}
