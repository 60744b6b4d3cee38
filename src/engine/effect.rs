//! What the engine decides: records to persist and messages to send.
//!
//! An [`Outcome`] keeps the two apart on purpose. The shell must commit every
//! [`Record`] durably before it performs a single [`Outbound`], so the order
//! "committed before told" is visible in the types, not just in a comment.

use super::broadcast::Broadcast;
use super::captcha::Animal;
use super::moderation::{Ban, ReportReason};
use super::profile::Profile;
use super::reports::{OpenReport, ReportId, ReportStatus};
use super::settings::SettingsView;
use crate::domain::{ChatId, MessageId, Ticket, Timestamp, UserId};
use crate::engine::event::Change;
use crate::i18n::{Arg, Text};
use serde::{Deserialize, Serialize};

/// A state change the store must make durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// The user did something at `at`; the store keeps first and last seen.
    Seen { user: UserId, at: Timestamp },
    /// Two users became partners. Stored in both directions.
    Pair {
        a: UserId,
        b: UserId,
        since: Timestamp,
    },
    /// The pair `a`–`b` ended.
    Unpair { a: UserId, b: UserId },
    /// `user` joined the waiting queue with `ticket`.
    Enqueue {
        ticket: Ticket,
        user: UserId,
        since: Timestamp,
    },
    /// `user` left the waiting queue (matched or gave up).
    Dequeue { ticket: Ticket, user: UserId },
    /// `user`'s most recent chat was with `partner` and ended at `ended_at`.
    /// Kept so /report works right after a chat ends, even across restarts.
    LastPartner {
        user: UserId,
        partner: UserId,
        ended_at: Timestamp,
    },
    /// `user`'s last chat is past the report window: forget the partner.
    ForgetLastPartner { user: UserId },
    /// `original` (in its sender's chat) was copied as `copy` (in the
    /// partner's chat) at `at`. Stored both ways.
    Link {
        original: Counterpart,
        copy: Counterpart,
        at: Timestamp,
    },
    /// Forget links made before `before`. A store that can only find them
    /// by looking at every link (the embedded store: its links are in chat
    /// order, not time order) may look at `1/slices` of its links instead
    /// (but no fewer than a minimum, so a small table takes fewer),
    /// going on from where the last prune stopped: a pass over all of them
    /// then takes at most `slices` prunes (a few more if links are added
    /// meanwhile). One that can find them by time (Redis) forgets them all
    /// at once. `slices: 1` is all at once everywhere.
    PruneLinks { before: Timestamp, slices: u32 },
    /// `user`'s album so far (replaces what was recorded before).
    Album {
        user: UserId,
        group: String,
        parts: Vec<MessageId>,
        since: Timestamp,
    },
    /// `user`'s album was relayed or dropped.
    AlbumDone { user: UserId },
    /// Maintenance mode was switched on or off.
    Maintenance { on: bool },
    /// A report against a user.
    Report(Report),
    /// Add `delta` to a named counter.
    Count { counter: Counter, delta: u64 },
    /// `user` is banned as `ban` says (a new ban or a longer one). Kept
    /// after it expires, so a repeat ban can last longer.
    Ban { user: UserId, ban: Ban },
    /// A moderator lifted `user`'s ban; their ban history is forgotten.
    Unban { user: UserId },
    /// `user`'s settings are now `profile` (replaces what was recorded).
    Profile { user: UserId, profile: Profile },
    /// A report filed under the engine's `id`, open until handled.
    FiledReport { id: ReportId, report: Report },
    /// Report `id` was handled (or reopened).
    ReportStatus { id: ReportId, status: ReportStatus },
    /// The broadcast is now as recorded (replaces what was recorded).
    Broadcast(Broadcast),
}

/// A message in a user's private chat with the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counterpart {
    pub chat: UserId,
    pub message: MessageId,
}

/// A report filed by one user against another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub reporter: UserId,
    pub reported: UserId,
    pub at: Timestamp,
    pub reason: ReportReason,
}

/// The counters the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Counter {
    Matches,
    ChatsEnded,
    Relayed,
    Reports,
}

impl Counter {
    pub const ALL: [Counter; 4] = [
        Counter::Matches,
        Counter::ChatsEnded,
        Counter::Relayed,
        Counter::Reports,
    ];

    /// The stable name under which the store keeps this counter.
    pub fn name(self) -> &'static str {
        match self {
            Counter::Matches => "matches",
            Counter::ChatsEnded => "chats_ended",
            Counter::Relayed => "relayed",
            Counter::Reports => "reports",
        }
    }
}

/// A call the shell makes to the messenger once the records are durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outbound {
    /// Tell a user something from the catalog.
    Tell { user: UserId, text: Text },
    /// Copy (never forward) a message from one user's chat to another's.
    Relay {
        from: UserId,
        to: UserId,
        message: MessageId,
    },
    /// Tell a group or channel that the bot works in private chats only.
    TellChat { chat: ChatId, text: Text },
    /// Leave a group or channel.
    LeaveChat { chat: ChatId },
    /// Copy a message that replies to something: the copy replies to
    /// `reply_to`, the partner's side of it.
    RelayReply {
        from: UserId,
        to: UserId,
        message: MessageId,
        reply_to: MessageId,
    },
    /// Apply an edit of `original` to its copy `copy` in `to`'s chat. Where
    /// the copy can't be edited, the new version goes out as a reply to it.
    EditCopy {
        to: UserId,
        copy: MessageId,
        original: Counterpart,
        change: Change,
    },
    /// Set the bot's reaction on `message` in `to`'s chat (Telegram's
    /// `ReactionType` list as JSON; empty removes it).
    React {
        to: UserId,
        message: MessageId,
        reaction: String,
    },
    /// Delete `message` in `to`'s chat.
    Delete { to: UserId, message: MessageId },
    /// Copy an album's parts, in order, with one copyMessages call.
    RelayAlbum {
        from: UserId,
        to: UserId,
        messages: Vec<MessageId>,
    },
    /// Tell a user a catalog text with `{0}`-style arguments filled in.
    TellWith {
        user: UserId,
        text: Text,
        args: Vec<Arg>,
    },
    /// Ask a user why they report, with one button per [`ReportReason`].
    AskReportReason { user: UserId },
    /// Answer `user`'s button press (answerCallbackQuery), with a short
    /// notice or none.
    AnswerCallback {
        user: UserId,
        query_id: String,
        text: Option<Text>,
    },
    // Languages, /link and /media (appended: the outbox stores variants by
    // position).
    /// Ask `user` whether they agree to exchange usernames with their
    /// partner, with agree/decline buttons.
    AskShare { user: UserId },
    /// Both consented: tell `user` how to find `partner`, by `username` or,
    /// without one, by a link to the profile. Kept in the outbox only until
    /// it is sent.
    RevealPartner {
        user: UserId,
        partner: UserId,
        username: Option<String>,
    },
    /// Show `user` the /language picker.
    ShowLanguages { user: UserId },
    /// Show `user` the /media toggles, `refused` being their bit set; with
    /// `edit`, redraw that message instead of sending a new one.
    ShowMedia {
        user: UserId,
        refused: u16,
        edit: Option<MessageId>,
    },
    // Report handling (appended).
    /// Show an admin an open report, with Ban and Dismiss buttons.
    ReportCard { admin: UserId, entry: OpenReport },
    /// Replace a report card (`message` in `admin`'s chat) with what was
    /// done, removing its buttons.
    EditReportCard {
        admin: UserId,
        message: MessageId,
        text: Text,
        args: Vec<Arg>,
    },
    /// Ask `user` to tap `answer` among `choices`, one button each, whose
    /// callback data is its position (see [`super::captcha`]).
    Captcha {
        user: UserId,
        answer: Animal,
        choices: Vec<Animal>,
    },
    /// A broadcast's copy: the admin's text, sent as the bot's message.
    BroadcastCopy { to: UserId, text: String },
    /// The broadcast's progress message to `admin`: sent new when `message`
    /// is `None`, edited in place otherwise.
    BroadcastStatus {
        admin: UserId,
        message: Option<MessageId>,
        text: Text,
        args: Vec<Arg>,
    },
    /// The inner send (a copy of a user's message) with protect_content:
    /// its sender chose that, or it is the default (see `engine::settings`).
    Protected(Box<Outbound>),
    /// The settings menu: sent anew, or edited in place over `message`.
    Settings {
        user: UserId,
        message: Option<MessageId>,
        view: SettingsView,
    },
    /// Ask `user` to rate the chat that ended at `chat`, with 👍/👎 buttons.
    AskRating { user: UserId, chat: Timestamp },
}

impl Outbound {
    /// The send itself, and whether it goes out protected.
    pub fn unwrapped(&self) -> (&Outbound, bool) {
        match self {
            Outbound::Protected(inner) => (inner.unwrapped().0, true),
            send => (send, false),
        }
    }

    /// The chat this call goes to; calls to one chat must keep their order.
    pub fn destination(&self) -> i64 {
        match self {
            Outbound::Tell { user, .. }
            | Outbound::TellWith { user, .. }
            | Outbound::AskReportReason { user }
            | Outbound::AnswerCallback { user, .. }
            | Outbound::AskShare { user }
            | Outbound::RevealPartner { user, .. }
            | Outbound::ShowLanguages { user }
            | Outbound::ShowMedia { user, .. }
            | Outbound::Captcha { user, .. }
            | Outbound::Settings { user, .. }
            | Outbound::AskRating { user, .. } => user.0,
            Outbound::Protected(inner) => inner.destination(),
            Outbound::ReportCard { admin, .. } | Outbound::EditReportCard { admin, .. } => admin.0,
            Outbound::BroadcastCopy { to, .. } => to.0,
            Outbound::BroadcastStatus { admin, .. } => admin.0,
            Outbound::Relay { to, .. }
            | Outbound::RelayReply { to, .. }
            | Outbound::EditCopy { to, .. }
            | Outbound::React { to, .. }
            | Outbound::Delete { to, .. }
            | Outbound::RelayAlbum { to, .. } => to.0,
            Outbound::TellChat { chat, .. } | Outbound::LeaveChat { chat } => chat.0,
        }
    }
}

/// Everything one event caused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub records: Vec<Record>,
    pub sends: Vec<Outbound>,
}

impl Outcome {
    pub(crate) fn tell(&mut self, user: UserId, text: Text) {
        self.sends.push(Outbound::Tell { user, text });
    }

    pub(crate) fn tell_with(&mut self, user: UserId, text: Text, args: Vec<Arg>) {
        self.sends.push(Outbound::TellWith { user, text, args });
    }

    pub(crate) fn record(&mut self, record: Record) {
        self.records.push(record);
    }

    /// Appends another outcome, keeping order.
    pub fn extend(&mut self, other: Outcome) {
        self.records.extend(other.records);
        self.sends.extend(other.sends);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outbox stores sends by variant position: the variants appended
    /// for languages, /link and /media keep theirs, after every older one.
    #[test]
    fn appended_sends_keep_their_outbox_positions() {
        let user = UserId(1);
        let pinned = [
            (Outbound::AskShare { user }, 12u8),
            (
                Outbound::RevealPartner {
                    user,
                    partner: UserId(2),
                    username: None,
                },
                13,
            ),
            (Outbound::ShowLanguages { user }, 14),
            (
                Outbound::ShowMedia {
                    user,
                    refused: 0,
                    edit: None,
                },
                15,
            ),
        ];
        for (send, position) in pinned {
            let bytes = postcard::to_allocvec(&send).unwrap();
            assert_eq!(bytes[0], position, "{send:?}");
            assert_eq!(postcard::from_bytes::<Outbound>(&bytes).unwrap(), send);
        }
        let arg = postcard::to_allocvec(&Arg::Text(Text::MediaPhotos)).unwrap();
        assert_eq!(arg[0], 3, "Arg::Text follows Plain, Number and Until");
    }
}
