//! Domain newtypes, parsed once at the boundary.
//!
//! The engine knows nothing of Telegram beyond these opaque values, so a
//! `UserId` here can never be confused with a chat id, a message id or a
//! ticket number somewhere deeper in the house.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Telegram user, identified by their numeric id.
///
/// In a private chat the chat id equals the user id, which is the only chat
/// the bot ever talks to a user in. The raw value must never be logged: use
/// [`crate::telemetry::Pseudonymizer`] instead.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

impl fmt::Debug for UserId {
    /// Debug output is deliberately opaque so a stray `{:?}` can't leak an id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserId(..)")
    }
}

/// A Telegram chat that is not a user's private chat (a group or channel).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatId(pub i64);

impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChatId(..)")
    }
}

/// A message inside one chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageId(pub i32);

/// Seconds since the Unix epoch. The engine is handed the time; it never
/// reads a clock, so tests can drive it to any moment.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time. Only the shell calls this.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Timestamp(secs)
    }
}

/// A place in the waiting queue. Tickets grow monotonically, so the oldest
/// searcher is the one with the smallest ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ticket(pub u64);
