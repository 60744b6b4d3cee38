//! What happens to the engine: a user's command or message, the bot
//! finding itself somewhere it doesn't belong, or time passing.
//!
//! Commands are parsed here, once, from the raw text, so the engine never
//! looks at message content and the shell never interprets commands. Only
//! the admin commands read their arguments ([`AdminCommand::parse`]).

pub use super::admin::{AdminCommand, BanOrder};
use crate::domain::{ChatId, MessageId, UserId};

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
}

impl Event {
    /// The user this event comes from, if it comes from one.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Event::Command { user, .. }
            | Event::Message { user, .. }
            | Event::Callback { user, .. } => Some(*user),
            Event::NotPrivate { .. } | Event::Unreachable { .. } | Event::Tick => None,
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
    /// A well-formed command the bot doesn't know.
    Unknown,
    /// A moderator's command. Anyone can send one; only admins get an
    /// answer other than [`Text::UnknownCommand`](crate::i18n::Text).
    Admin(AdminCommand),
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
