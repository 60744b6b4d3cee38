//! What happens to the engine: a user's command or message, the bot
//! finding itself somewhere it doesn't belong, or time passing.
//!
//! Commands are parsed here, once, from the raw text, so the engine never
//! looks at message content and the shell never interprets commands. Only
//! the admin commands read their arguments ([`AdminCommand::parse`]).

pub use super::admin::{AdminCommand, BanOrder};
pub use super::dashboard::DashboardAction;
use crate::domain::{ChatId, MessageId, UserId};
use crate::engine::antispam::Screening;
use crate::engine::broadcast::CopyResult;
use crate::engine::choice::Choice;
use crate::engine::effect::Counterpart;
use crate::engine::media::Media;
use crate::engine::sharing::Contact;
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};

/// One input to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A user sent a command in their private chat with the bot.
    Command { user: UserId, command: Command },
    /// A user sent a message that is not a command.
    Message {
        user: UserId,
        message: MessageId,
        /// Whether copyMessage can carry it to a partner.
        relayable: bool,
        /// The kind a partner may refuse (/media), if it is one.
        media: Option<Media>,
    },
    /// The bot was addressed in, or added to, a group, supergroup or channel.
    NotPrivate { chat: ChatId },
    /// Telegram refused to deliver to `user` (they blocked the bot or were
    /// deactivated): take them out of any chat or search.
    Unreachable { user: UserId },
    /// A user pressed a button under one of the bot's messages in their
    /// private chat. `data` is whatever the client sent: untrusted.
    Callback {
        user: UserId,
        query_id: String,
        data: String,
    },
    /// Time passed. The shell sends this every few seconds with the current
    /// time, so idle chats and long searches end (see `EngineConfig`). It
    /// comes from no user, so it records no `Seen`.
    Tick,
    /// A message sent as a reply to `replied` (in the sender's chat).
    Reply {
        user: UserId,
        message: MessageId,
        relayable: bool,
        replied: MessageId,
        link: Option<Linked>,
        media: Option<Media>,
    },
    /// One part of an album (messages sharing a `media_group_id`).
    AlbumPart {
        user: UserId,
        message: MessageId,
        group: String,
        media: Option<Media>,
    },
    /// The user edited `message`.
    Edit {
        user: UserId,
        message: MessageId,
        change: Change,
        link: Option<Linked>,
    },
    /// The user set their reactions on `message` (in their chat) to
    /// `reaction`, Telegram's `ReactionType` list as JSON.
    React {
        user: UserId,
        message: MessageId,
        reaction: String,
        link: Option<Linked>,
    },
    /// /delete, sent as a reply to `replied` (if it was a reply).
    Delete {
        user: UserId,
        replied: Option<MessageId>,
        link: Option<Linked>,
    },
    /// The user's Telegram client speaks `lang` (its `language_code`). The
    /// shell sends it just before the update's own event.
    Speaks { user: UserId, lang: Lang },
    /// /link: the user offers to exchange usernames, giving their own
    /// `contact` by asking (see `engine::sharing`).
    Share { user: UserId, contact: Contact },
    /// A press of a /language, /link or /media button in `message`, its
    /// callback data parsed by the shell.
    Choose {
        user: UserId,
        query_id: String,
        message: MessageId,
        choice: Choice,
    },
    /// A press on a report card's button (callback data with the `rep:`
    /// prefix), under `card` in the presser's chat. `data` is untrusted.
    ReportButton {
        user: UserId,
        query_id: String,
        card: Option<MessageId>,
        data: String,
    },
    /// A moderator's action from the HTTP dashboard (no Telegram user).
    Dashboard(DashboardAction),
    /// A message (`inner`) whose text or caption the shell screened and
    /// found something in (see [`super::antispam`]). The text itself never
    /// reaches the engine.
    Screened {
        screening: Screening,
        inner: Box<Event>,
    },
    /// The next users of the running broadcast, in id order; `last` when
    /// there are no more after them.
    BroadcastUsers { users: Vec<UserId>, last: bool },
    /// What became of the broadcast copy to `to`.
    BroadcastResult { to: UserId, result: CopyResult },
    /// The broadcast's progress message was sent as `message`.
    BroadcastShown { message: MessageId },
    /// A short plain text (at most [`SHORT_TEXT_BYTES`]), not a reply or an
    /// album part: relayed like [`Event::Message`], unless it answers a
    /// question the bot asked (the age, in /settings). The only content
    /// the engine ever reads.
    ShortText {
        user: UserId,
        message: MessageId,
        text: String,
        /// The kind a partner may refuse (/media: a link), if it is one.
        media: Option<Media>,
    },
    /// A press on a button of a menu the bot edits in place (callback data
    /// starting with `set:`); `message` is the menu's message.
    MenuCallback {
        user: UserId,
        query_id: String,
        data: String,
        message: MessageId,
    },
}

/// The longest text that travels as [`Event::ShortText`]: room for any
/// answer the bot asks for, too short for a real conversation.
pub const SHORT_TEXT_BYTES: usize = 16;

/// What an edit changed. Formatting entities travel as Telegram's JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Text {
        text: String,
        entities: String,
    },
    Caption {
        caption: String,
        entities: String,
    },
    /// The media itself (or something else the bot can't re-apply).
    Media,
    /// A photo, video, GIF, document or audio file, replaced or
    /// re-captioned (Telegram's edit doesn't say which): the copy gets the
    /// new file and caption with editMessageMedia. `file` is Telegram's
    /// file id; `entities` the caption's, as JSON.
    NewMedia {
        kind: EditableMedia,
        file: String,
        caption: String,
        entities: String,
    },
}

/// The kinds of media editMessageMedia can put into a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EditableMedia {
    Photo,
    Video,
    Animation,
    Document,
    Audio,
}

/// The other side of a message a user pointed at, as the store knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linked {
    pub other: Counterpart,
    /// Whether the message pointed at is the user's own original (so the
    /// other side is its copy), rather than a copy of the partner's.
    pub original: bool,
}

impl Event {
    /// The user this event comes from, if it comes from one.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Event::Command { user, .. }
            | Event::Message { user, .. }
            | Event::Reply { user, .. }
            | Event::Edit { user, .. }
            | Event::React { user, .. }
            | Event::Delete { user, .. }
            | Event::AlbumPart { user, .. }
            | Event::Share { user, .. }
            | Event::Choose { user, .. }
            | Event::Callback { user, .. }
            | Event::ReportButton { user, .. }
            | Event::ShortText { user, .. }
            | Event::MenuCallback { user, .. } => Some(*user),
            Event::Screened { inner, .. } => inner.user(),
            // A language hint rides along with the update's own event,
            // which is the one that counts as the user's action.
            Event::Speaks { .. } => None,
            Event::NotPrivate { .. }
            | Event::Unreachable { .. }
            | Event::Tick
            | Event::BroadcastUsers { .. }
            | Event::BroadcastResult { .. }
            | Event::BroadcastShown { .. }
            | Event::Dashboard(_) => None,
        }
    }
}

impl Event {
    /// The message whose link the shell must look up before the engine sees
    /// this event.
    pub fn link_key(&self) -> Option<Counterpart> {
        let (user, message) = match *self {
            Event::Reply { user, replied, .. } => (user, replied),
            Event::Edit { user, message, .. } | Event::React { user, message, .. } => {
                (user, message)
            }
            Event::Delete {
                user,
                replied: Some(replied),
                ..
            } => (user, replied),
            Event::Screened { ref inner, .. } => return inner.link_key(),
            _ => return None,
        };
        Some(Counterpart {
            chat: user,
            message,
        })
    }

    /// Whether a lookup found the other side.
    pub fn has_link(&self) -> bool {
        if let Event::Screened { inner, .. } = self {
            return inner.has_link();
        }
        matches!(
            self,
            Event::Reply { link: Some(_), .. }
                | Event::Edit { link: Some(_), .. }
                | Event::React { link: Some(_), .. }
                | Event::Delete { link: Some(_), .. }
        )
    }

    /// Fills in what the lookup found.
    pub fn set_link(&mut self, found: Option<Linked>) {
        match self {
            Event::Reply { link, .. }
            | Event::Edit { link, .. }
            | Event::React { link, .. }
            | Event::Delete { link, .. } => *link = found,
            Event::Screened { inner, .. } => inner.set_link(found),
            _ => {}
        }
    }
}

/// The commands users can send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Start,
    Chat,
    Next,
    Stop,
    Help,
    Report,
    /// Unsend: delete the partner's copy of the message this replies to.
    Delete,
    /// A well-formed command the bot doesn't know.
    Unknown,
    /// A moderator's command. Anyone can send one; only admins get an
    /// answer other than [`Text::UnknownCommand`](crate::i18n::Text).
    Admin(AdminCommand),
    /// Offer to exchange usernames. The shell turns it into
    /// [`Event::Share`] with the user's contact.
    Link,
    /// Choose which kinds of message to accept.
    Media,
    /// Choose the bot's language.
    Language,
    /// Open the settings menu.
    Settings,
}

impl Command {
    /// Parses a message text into a command.
    ///
    /// Returns `None` when the text is not a command at all (so it is an
    /// ordinary message to relay). `/cmd@botname` works when `botname` is
    /// this bot (case-insensitively); a command addressed to another bot is
    /// `Unknown`. Arguments after the command are ignored, except by the
    /// admin commands.
    pub fn parse(text: &str, bot_username: &str) -> Option<Command> {
        let rest = text.strip_prefix('/')?;
        let word = rest.split_whitespace().next().unwrap_or("");
        let (name, addressee) = match word.split_once('@') {
            Some((name, addressee)) => (name, Some(addressee)),
            None => (word, None),
        };
        let is_command_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_command_name || !rest.starts_with(name) {
            return None;
        }
        if let Some(addressee) = addressee {
            if !addressee.eq_ignore_ascii_case(bot_username) {
                return Some(Command::Unknown);
            }
        }
        let args = rest[word.len()..].trim();
        Some(match name.to_ascii_lowercase().as_str() {
            "start" => Command::Start,
            "chat" | "search" => Command::Chat,
            "next" => Command::Next,
            "stop" => Command::Stop,
            "help" => Command::Help,
            "report" => Command::Report,
            "delete" => Command::Delete,
            "link" => Command::Link,
            "media" => Command::Media,
            "language" | "lang" => Command::Language,
            "settings" => Command::Settings,
            other => match AdminCommand::parse(other, args) {
                Some(admin) => Command::Admin(admin),
                None => Command::Unknown,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "randchat_bot";

    #[test]
    fn plain_commands_and_aliases() {
        assert_eq!(Command::parse("/start", BOT), Some(Command::Start));
        assert_eq!(Command::parse("/chat", BOT), Some(Command::Chat));
        assert_eq!(Command::parse("/search", BOT), Some(Command::Chat));
        assert_eq!(Command::parse("/next", BOT), Some(Command::Next));
        assert_eq!(Command::parse("/stop", BOT), Some(Command::Stop));
        assert_eq!(Command::parse("/help", BOT), Some(Command::Help));
        assert_eq!(Command::parse("/report", BOT), Some(Command::Report));
        assert_eq!(Command::parse("/link", BOT), Some(Command::Link));
        assert_eq!(Command::parse("/media", BOT), Some(Command::Media));
        assert_eq!(Command::parse("/language", BOT), Some(Command::Language));
        assert_eq!(Command::parse("/lang", BOT), Some(Command::Language));
    }

    #[test]
    fn bot_suffix_arguments_and_case() {
        assert_eq!(
            Command::parse("/chat@randchat_bot", BOT),
            Some(Command::Chat)
        );
        assert_eq!(
            Command::parse("/chat@RandChat_Bot", BOT),
            Some(Command::Chat)
        );
        assert_eq!(Command::parse("/Next please", BOT), Some(Command::Next));
        assert_eq!(
            Command::parse("/chat@other_bot", BOT),
            Some(Command::Unknown)
        );
    }

    #[test]
    fn unknown_and_non_commands() {
        assert_eq!(Command::parse("/frobnicate", BOT), Some(Command::Unknown));
        assert_eq!(Command::parse("hello /chat", BOT), None);
        assert_eq!(Command::parse("/", BOT), None);
        assert_eq!(Command::parse("/ hi", BOT), None);
        assert_eq!(Command::parse("/-)", BOT), None);
        assert_eq!(Command::parse("", BOT), None);
    }
}
