//! /broadcast: one admin message to every known user, paced and resumable.
//!
//! Why it looks like this:
//! - **Durable, like everything else.** The broadcast is one [`Broadcast`]
//!   value, recorded whole ([`Record::Broadcast`]) whenever it changes: the
//!   text, a cursor over the user list, and the counts. Each copy is an
//!   ordinary send, committed to the outbox together with the cursor that
//!   moved past its user, so after a crash a copy is either still in the
//!   outbox (and goes out) or its result is counted; nobody is skipped, and
//!   a clean restart sends nobody a second copy.
//! - **The engine doesn't know every user; the store does.** The shell asks
//!   [`Engine::broadcast_wants`] once a second; while a broadcast runs and
//!   the previous step's copies are all answered, it reads up to
//!   `broadcast_rate` more users after the cursor from the store (in id
//!   order) and hands them in as [`Event::BroadcastUsers`]. So a broadcast
//!   sends at most `broadcast_rate` copies a second, well under Telegram's
//!   30 a second, and ordinary chats keep their share of the send budget.
//! - **Results come back as events** ([`Event::BroadcastResult`]): sent,
//!   blocked (the user blocked the bot or deleted their account; not an
//!   error) or failed.
//! - **One progress message**, edited in place every few seconds
//!   ([`PROGRESS_EVERY_SECS`]) while counts change, and a last time with
//!   the totals. Its id comes back as [`Event::BroadcastShown`] and is
//!   recorded, so a restart keeps editing the same message.
//!
//! One broadcast runs at a time; a second /broadcast is refused until it
//! ends. The progress message carries a Stop button ([`CALLBACK_STOP`])
//! for an admin who spots a typo: nobody else gets a copy after it, except
//! the few already handed out (at most one step's worth).

use super::Engine;
use crate::domain::{MessageId, Timestamp, UserId};
use crate::engine::effect::{Outbound, Outcome, Record};
use crate::engine::event::Event;
use crate::i18n::{Arg, Text};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// Default copies per second.
pub const DEFAULT_BROADCAST_RATE: u32 = 10;
/// How often the progress message is edited while counts change.
pub const PROGRESS_EVERY_SECS: u64 = 3;
/// The callback data of the progress message's Stop button.
pub const CALLBACK_STOP: &str = "bc:stop";
/// The longest broadcast text, in characters (Telegram's message limit).
pub const MAX_BROADCAST_CHARS: usize = 4096;

/// A broadcast, as recorded. Encoded with postcard: new fields go at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broadcast {
    pub admin: UserId,
    pub text: String,
    pub started: Timestamp,
    /// The admin's progress message, once Telegram has said its id.
    pub progress: Option<MessageId>,
    /// The last user a copy was handed out for; users go in id order.
    pub cursor: Option<UserId>,
    /// Copies handed out (committed to the outbox).
    pub handed: u64,
    pub sent: u64,
    pub blocked: u64,
    pub failed: u64,
    /// No users are left after the cursor.
    pub exhausted: bool,
    /// Every copy is answered and the totals are shown.
    pub finished: bool,
}

impl Broadcast {
    fn answered(&self) -> u64 {
        self.sent + self.blocked + self.failed
    }

    fn counts(&self) -> Vec<Arg> {
        vec![
            Arg::Number(self.sent),
            Arg::Number(self.blocked),
            Arg::Number(self.failed),
        ]
    }
}

/// What became of one copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CopyResult {
    Sent,
    /// The user blocked the bot or is gone.
    Blocked,
    Failed,
}

/// The engine's broadcast state.
#[derive(Default)]
pub(super) struct Broadcasts {
    current: parking_lot::Mutex<Option<Broadcast>>,
    /// When the progress was last shown, and the answered count it showed.
    shown_at: AtomicU64,
    shown_answered: AtomicU64,
}

impl Engine {
    /// The same engine with at most `rate` broadcast copies a second.
    pub fn with_broadcast_rate(mut self, rate: u32) -> Self {
        self.broadcast_rate = rate.max(1);
        self
    }

    /// Picks up an unfinished broadcast from the store.
    pub(super) fn restore_broadcast(&self, broadcast: Option<&Broadcast>) {
        let unfinished = broadcast.filter(|b| !b.finished).cloned();
        *self.broadcasts.current.lock() = unfinished;
    }

    /// The running broadcast, if any.
    pub fn broadcast(&self) -> Option<Broadcast> {
        self.broadcasts.current.lock().clone()
    }

    /// Whether the shell should hand in more users now: the cursor to read
    /// after and how many, while a broadcast runs and every copy handed out
    /// so far is answered.
    pub fn broadcast_wants(&self) -> Option<(Option<UserId>, usize)> {
        let current = self.broadcasts.current.lock();
        let b = current.as_ref()?;
        let ready = !b.exhausted && b.answered() >= b.handed;
        ready.then_some((b.cursor, self.broadcast_rate.max(1) as usize))
    }

    /// `/broadcast <text>` from an admin.
    pub(super) fn start_broadcast(
        &self,
        admin: UserId,
        text: String,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let mut current = self.broadcasts.current.lock();
        if current.is_some() {
            return out.tell(admin, Text::BroadcastBusy);
        }
        let broadcast = Broadcast {
            admin,
            text,
            started: now,
            progress: None,
            cursor: None,
            handed: 0,
            sent: 0,
            blocked: 0,
            failed: 0,
            exhausted: false,
            finished: false,
        };
        self.broadcasts.shown_at.store(now.0, Ordering::Relaxed);
        self.broadcasts.shown_answered.store(0, Ordering::Relaxed);
        out.sends.push(Outbound::BroadcastStatus {
            admin,
            message: None,
            text: Text::BroadcastProgress,
            args: broadcast.counts(),
        });
        out.record(Record::Broadcast(broadcast.clone()));
        *current = Some(broadcast);
    }

    /// The broadcast events from the shell.
    pub(super) fn broadcast_event(&self, event: &Event, out: &mut Outcome) {
        let mut current = self.broadcasts.current.lock();
        let Some(b) = current.as_mut() else {
            return; // a late answer for a broadcast that is over
        };
        match event {
            Event::BroadcastUsers { users, last } => {
                for &user in users {
                    out.sends.push(Outbound::BroadcastCopy {
                        to: user,
                        text: b.text.clone(),
                    });
                }
                b.cursor = users.last().copied().or(b.cursor);
                b.handed += users.len() as u64;
                b.exhausted = *last;
            }
            Event::BroadcastResult { result, .. } => match result {
                CopyResult::Sent => b.sent += 1,
                CopyResult::Blocked => b.blocked += 1,
                CopyResult::Failed => b.failed += 1,
            },
            Event::BroadcastShown { message } => b.progress = Some(*message),
            _ => return,
        }
        if b.exhausted && b.answered() >= b.handed {
            b.finished = true;
            out.sends.push(Outbound::BroadcastStatus {
                admin: b.admin,
                message: b.progress,
                text: Text::BroadcastDone,
                args: b.counts(),
            });
        }
        out.record(Record::Broadcast(b.clone()));
        if b.finished {
            *current = None;
        }
    }

    /// A press on the progress message's Stop button.
    pub(super) fn stop_broadcast(&self, user: UserId, query_id: &str, out: &mut Outcome) {
        let mut current = self.broadcasts.current.lock();
        let admin = self.moderation.admins.contains(&user);
        let running = current.as_mut().filter(|_| admin);
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: running.is_none().then_some(Text::ButtonExpired),
        });
        let Some(b) = running else { return };
        b.finished = true;
        out.sends.push(Outbound::BroadcastStatus {
            admin: b.admin,
            message: b.progress,
            text: Text::BroadcastStopped,
            args: b.counts(),
        });
        out.record(Record::Broadcast(b.clone()));
        *current = None;
    }

    /// Edits the progress message if it is time and the counts moved.
    pub(super) fn broadcast_tick(&self, now: Timestamp, out: &mut Outcome) {
        let current = self.broadcasts.current.lock();
        let Some(b) = current.as_ref() else { return };
        let Some(message) = b.progress else { return };
        let due = now.0 >= self.broadcasts.shown_at.load(Ordering::Relaxed) + PROGRESS_EVERY_SECS;
        let moved = b.answered() != self.broadcasts.shown_answered.load(Ordering::Relaxed);
        if due && moved {
            self.broadcasts.shown_at.store(now.0, Ordering::Relaxed);
            self.broadcasts
                .shown_answered
                .store(b.answered(), Ordering::Relaxed);
            out.sends.push(Outbound::BroadcastStatus {
                admin: b.admin,
                message: Some(message),
                text: Text::BroadcastProgress,
                args: b.counts(),
            });
        }
    }
}
