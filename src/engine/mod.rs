//! The engine: a pure state machine for matching and chatting.
//!
//! Given an [`Event`] and the current time, [`Engine::handle`] returns an
//! [`Outcome`]: the records to persist and the messages to send. It does no
//! I/O, reads no clock and knows nothing of Telegram, so every rule of the
//! product can be tested, property-tested and benchmarked without a network.
//!
//! State lives in three concurrent structures:
//! - `presence`, a DashMap from user to [`Presence`] (absent means idle);
//!   a chatting entry names the partner, so this is also the pair table;
//! - the lock-sharded FIFO [`WaitQueue`];
//! - `last_partner`, so /report works right after a chat ends.
//!
//! Two more serve the rules with a clock ([`EngineConfig`]): chat clocks and
//! deadline heaps for the idle and search timeouts that a periodic
//! [`Event::Tick`] enforces ([`timeouts`]), and per-user sliding windows for
//! flood control ([`limits`]).
//!
//! Moderation ([`moderation`], [`admin`]) keeps reports within their window
//! and bans, and refuses /chat and /next to a banned user; [`reports`] keeps
//! the open reports moderators act on, from Telegram or the dashboard
//! ([`dashboard`]). Anti-spam ([`antispam`], [`captcha`]) refuses early
//! links, listed words and flagged messages, and holds a first /chat for a
//! captcha; [`broadcast`] walks every known user with an admin's message.
//!
//! Per-user choices live in [`profile`]: the language spoken to each user
//! ([`language`]) and the kinds of message they refuse ([`media`]). /link
//! requests ([`sharing`]) wait in memory for the partner's consent. The
//! buttons of all three arrive parsed as a [`Choice`] ([`choice`]).
//!
//! Every change to a user's presence happens under that user's stripe lock
//! ([`locks`]), and a change to two users under both. That is what keeps the
//! invariants (symmetric pairs, nobody in two pairs, nobody both searching
//! and chatting) true under any interleaving of calls from many threads.
//!
//! With several instances on one store, each keeps a whole engine as a
//! replica and applies the others' records before deciding ([`replica`]).
//!
//! Records must be committed in the order the engine produced them; the
//! shell applies one update at a time to keep that order.

mod admin;
mod albums;
pub mod antispam;
mod ban_end;
pub mod broadcast;
mod buckets;
pub mod captcha;
pub mod choice;
pub mod config;
pub mod dashboard;
mod deadlines;
pub mod effect;
pub mod event;
mod language;
mod limits;
mod locks;
pub mod matching;
pub mod media;
mod messenger;
pub mod moderation;
pub mod profile;
pub mod queue;
pub mod ratings;
mod replica;
pub mod reports;
mod rules;
pub mod settings;
pub mod sharing;
mod timeouts;

pub use antispam::{AntispamConfig, Screening, WordList};
pub use broadcast::{Broadcast, CopyResult};
pub use choice::Choice;
pub use config::EngineConfig;
pub use effect::{Counter, Outbound, Outcome, Record, Report};
pub use event::{AdminCommand, BanOrder, Command, Event};
pub use matching::MatchConfig;
pub use media::Media;
pub use moderation::{Ban, BanReason, ModerationConfig, ReportReason};
pub use profile::{AgeRange, Gender, Profile};
pub use reports::{OpenReport, ReportAction, ReportId, ReportStatus};
pub use settings::SettingsView;
pub use sharing::Contact;

use crate::domain::{Ticket, Timestamp, UserId};
use crate::store::Snapshot;
use dashmap::DashMap;

/// A concurrent map keyed by user. User ids are trusted integers from
/// Telegram, not attacker-chosen strings, so the fast Fx hash serves better
/// than the default SipHash (which was about a fifth of a pair+unpair
/// cycle in the engine bench).
pub(crate) type UserMap<V> = DashMap<UserId, V, rustc_hash::FxBuildHasher>;
use buckets::Buckets;
use deadlines::{Deadlines, When};
use limits::Limiter;
use locks::UserLocks;
use std::sync::atomic::AtomicU64;
use timeouts::ChatClock;

/// Records an event's [`Outcome`] has room for before it grows: a chat's
/// end makes 7 (seen, unpair, two last partners, a count, two profiles).
/// Eight 104-byte records stay within glibc's cache of small blocks.
const RECORDS_PER_EVENT: usize = 8;
/// Sends an [`Outcome`] has room for: a chat's end makes 4 (two notices,
/// two rating questions).
const SENDS_PER_EVENT: usize = 4;

/// How long after a chat ends its partner can still be reported.
pub const REPORT_WINDOW_SECS: u64 = 5 * 60;

/// Where a user is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Idle,
    Searching(Ticket),
    Chatting(UserId),
}

#[derive(Default)]
pub struct Engine {
    presence: UserMap<Presence>,
    /// The waiting users, in buckets by what they are and want.
    buckets: Buckets,
    /// A user's last partner and when that chat ended, kept for
    /// [`REPORT_WINDOW_SECS`] so /report works right after a chat.
    last_partner: UserMap<(UserId, Timestamp)>,
    locks: UserLocks,
    config: EngineConfig,
    /// Each chatting user's side of their chat's clock.
    chats: UserMap<ChatClock>,
    /// The serial of the next chat.
    next_chat: AtomicU64,
    deadlines: Deadlines,
    /// Album parts gathered per user (see [`albums`]).
    albums: UserMap<albums::Album>,
    /// While on, new searches are refused; running chats go on.
    maintenance: std::sync::atomic::AtomicBool,
    limiter: Limiter,
    moderation: ModerationConfig,
    sanctions: moderation::Sanctions,
    /// Settings of users who chose any (see [`profile`]).
    profiles: UserMap<Profile>,
    antispam: AntispamConfig,
    /// Open captcha challenges (see [`captcha`]).
    captchas: UserMap<captcha::Challenge>,
    /// The shell's random seed for captcha challenges.
    captcha_seed: u64,
    captcha_draws: AtomicU64,
    broadcasts: broadcast::Broadcasts,
    /// Broadcast copies handed out per second, at most.
    broadcast_rate: u32,
    /// Who may meet whom (see [`matching`]).
    matching: MatchConfig,
    /// Users asked to type their age, and when they were asked (see
    /// [`settings`]).
    awaiting_age: UserMap<Timestamp>,
    /// Whether copies are protected for users who didn't choose
    /// (PROTECT_CONTENT).
    protect_by_default: bool,
    /// /link requests waiting for an answer, by asker (see [`sharing`]).
    shares: UserMap<sharing::ShareRequest>,
    /// Askers whose /link was declined, with the chat's serial: they may
    /// not ask again in that chat.
    declined: UserMap<u64>,
    /// Open reports and report numbering (see [`reports`]).
    reports: reports::ReportDesk,
}

/// Spreads user ids over shards and stripes. Telegram ids are sequential-ish,
/// so a multiplicative hash keeps neighbours apart.
pub(crate) fn spread(user: UserId) -> usize {
    let mixed = (user.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 32) as usize
}

impl Engine {
    /// An empty engine with the default [`EngineConfig`].
    pub fn new() -> Self {
        Self::with_config(EngineConfig::default())
    }

    /// An empty engine with `config`.
    pub fn with_config(config: EngineConfig) -> Self {
        Engine {
            config,
            broadcast_rate: broadcast::DEFAULT_BROADCAST_RATE,
            ..Self::default()
        }
    }

    /// The same engine drawing captcha challenges from `seed` (the shell
    /// picks a random one at start-up).
    pub fn with_captcha_seed(mut self, seed: u64) -> Self {
        self.captcha_seed = seed;
        self
    }

    /// The same engine with `moderation` as its moderation settings.
    pub fn with_moderation(mut self, moderation: ModerationConfig) -> Self {
        self.moderation = moderation;
        self
    }

    /// Rebuilds the engine from what the store kept, with the default
    /// [`EngineConfig`].
    pub fn restore(snapshot: &Snapshot) -> Self {
        Self::restore_with(snapshot, EngineConfig::default())
    }

    /// Rebuilds the engine from what the store kept. The idle and search
    /// timeouts of restored chats and searches count from the first
    /// [`Event::Tick`]; rate windows start empty.
    pub fn restore_with(snapshot: &Snapshot, config: EngineConfig) -> Self {
        let engine = Engine::with_config(config);
        for &(a, b, _) in &snapshot.pairs {
            engine.presence.insert(a, Presence::Chatting(b));
            engine.presence.insert(b, Presence::Chatting(a));
            engine.open_chat(a, b, When::Unset);
        }
        for &(user, partner, ended_at) in &snapshot.last_partners {
            engine.remember_partner(user, partner, ended_at);
        }
        engine.restore_sanctions(&snapshot.bans, &snapshot.recent_reports);
        engine.restore_profiles(&snapshot.profiles);
        engine.restore_broadcast(snapshot.broadcast.as_ref());
        engine.restore_waiting(&snapshot.waiting);
        engine.restore_reports(&snapshot.open_reports, snapshot.last_report_id);
        engine
            .maintenance
            .store(snapshot.maintenance, std::sync::atomic::Ordering::SeqCst);
        for (user, group, parts, since) in &snapshot.albums {
            engine.restore_album(*user, group.clone(), parts.clone(), *since);
        }
        engine
    }

    /// An engine rebuilt from `snapshot` with this engine's settings (after
    /// a failed commit left this one ahead of the store).
    pub fn rebuilt_from(&self, snapshot: &Snapshot) -> Engine {
        Engine::restore_with(snapshot, self.config)
            .with_moderation(self.moderation.clone())
            .with_antispam(self.antispam.clone())
            .with_captcha_seed(self.captcha_seed)
            .with_broadcast_rate(self.broadcast_rate)
            .with_matching(self.matching)
            .with_protect_content(self.protect_by_default)
    }

    /// Applies one event at time `now`.
    pub fn handle(&self, event: &Event, now: Timestamp) -> Outcome {
        if let Event::Speaks { user, lang } = *event {
            // Most updates carry a language hint that changes nothing: no
            // allocation for them.
            let mut out = Outcome::default();
            self.adopt_language(user, lang, &mut out);
            return out;
        }
        // Sized for the common events (a relay, a pairing, a chat's end:
        // 7 records, 4 sends), so they don't grow. Growing was costly: a
        // realloc, and past glibc's small-block cache (1 KiB) a slow free.
        let mut out = Outcome {
            records: Vec::with_capacity(RECORDS_PER_EVENT),
            sends: Vec::with_capacity(SENDS_PER_EVENT),
        };
        if let Some(user) = event.user() {
            out.record(Record::Seen { user, at: now });
        }
        self.apply(event, now, &mut out);
        self.ask_ratings(event, now, &mut out);
        out
    }

    /// Applies one event's rules, adding to `out`.
    fn apply(&self, event: &Event, now: Timestamp, out: &mut Outcome) {
        match *event {
            Event::Command { user, ref command } => self.command(user, command.clone(), now, out),
            Event::Message {
                user,
                message,
                relayable,
                media,
            } => self.message(user, message, relayable, media, now, out),
            Event::Callback {
                user,
                ref query_id,
                ref data,
            } if data.starts_with(ratings::PREFIX) => self.rate(user, query_id, data, now, out),
            Event::Callback {
                user,
                ref query_id,
                ref data,
            } => self.callback(user, query_id, data, now, out),
            Event::Choose {
                user,
                ref query_id,
                message,
                ref choice,
            } => self.choose(user, query_id, message, choice, out),
            Event::Share { user, ref contact } => self.share_request(user, contact, now, out),
            Event::Speaks { .. } => {}
            Event::NotPrivate { chat } => {
                out.sends.push(Outbound::TellChat {
                    chat,
                    text: crate::i18n::Text::PrivateChatsOnly,
                });
                out.sends.push(Outbound::LeaveChat { chat });
            }
            Event::Unreachable { user } => self.drop_unreachable(user, now, out),
            Event::Tick => self.tick(now, out),
            Event::Reply {
                user,
                message,
                relayable,
                link,
                media,
                ..
            } => self.reply(user, message, relayable, link, media, now, out),
            Event::Edit {
                user,
                message,
                ref change,
                link,
            } => self.edit(user, message, change, link, out),
            Event::React {
                user,
                ref reaction,
                link,
                ..
            } => self.react(user, reaction, link, out),
            Event::Delete { user, link, .. } => self.unsend(user, link, out),
            Event::AlbumPart {
                user,
                message,
                ref group,
                media,
            } => self.album_part(user, message, group, media, now, out),
            Event::Screened {
                ref screening,
                ref inner,
            } => match inner.user() {
                Some(user) if self.refuse_spam(user, screening, now, out) => {}
                _ => self.apply(inner, now, out),
            },
            Event::BroadcastUsers { .. }
            | Event::BroadcastResult { .. }
            | Event::BroadcastShown { .. } => self.broadcast_event(event, out),
            Event::ReportButton {
                user,
                ref query_id,
                card,
                ref data,
            } => self.report_button(user, query_id, card, data, now, out),
            Event::Dashboard(ref action) => self.dashboard(action, now, out),
            Event::ShortText {
                user,
                message,
                ref text,
                media,
            } => self.short_text(user, message, text, media, now, out),
            Event::MenuCallback {
                user,
                ref query_id,
                ref data,
                message,
            } => self.settings_press(user, query_id, data, message, now, out),
        }
    }

    /// The rules' tunables.
    pub fn config(&self) -> EngineConfig {
        self.config
    }

    /// Who moderates, and when reports become bans.
    pub fn moderation(&self) -> &ModerationConfig {
        &self.moderation
    }

    /// How many deadline entries and rate-limited users the engine holds,
    /// live or stale: a gauge for memory, not a count of users.
    pub fn tracked(&self) -> (usize, usize) {
        (self.deadlines.len(), self.limiter.len())
    }

    /// Where `user` is now.
    pub fn presence_of(&self, user: UserId) -> Presence {
        self.presence.get(&user).map_or(Presence::Idle, |p| *p)
    }

    /// How many users are searching, and how many pairs are chatting.
    pub fn counts(&self) -> (usize, usize) {
        let chatting = self
            .presence
            .iter()
            .filter(|entry| matches!(entry.value(), Presence::Chatting(_)))
            .count();
        (self.buckets.len(), chatting / 2)
    }

    /// Checks the engine's invariants. Meaningful only while no call is in
    /// flight; used by tests and after a restore.
    pub fn check_invariants(&self) -> Result<(), String> {
        let waiting = self.buckets.entries();
        let mut seen_waiters = std::collections::HashSet::new();
        for &(ticket, user) in &waiting {
            if !seen_waiters.insert(user) {
                return Err(format!("a user waits twice (ticket {ticket:?})"));
            }
            if self.presence_of(user) != Presence::Searching(ticket) {
                return Err(format!("queue entry {ticket:?} is not searching"));
            }
        }
        for entry in self.presence.iter() {
            let (user, presence) = (*entry.key(), *entry.value());
            match presence {
                Presence::Idle => {}
                Presence::Searching(ticket) => {
                    if !waiting.contains(&(ticket, user)) {
                        return Err(format!("searcher {ticket:?} is not in the queue"));
                    }
                }
                Presence::Chatting(partner) => {
                    if partner == user {
                        return Err("a user is paired with themselves".into());
                    }
                    if self.presence_of(partner) != Presence::Chatting(user) {
                        return Err("a pair is not symmetric".into());
                    }
                }
            }
        }
        self.check_timeouts()
    }
}

#[cfg(test)]
mod antispam_tests;
#[cfg(test)]
mod broadcast_tests;
#[cfg(test)]
mod choice_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod matching_props;
#[cfg(test)]
mod matching_tests;
#[cfg(test)]
mod moderation_tests;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeout_tests;
