//! Every word the bot says to a user, by catalog key.
//!
//! Handlers and the engine name a [`Text`]; only this module turns it into a
//! sentence. That keeps wording in one place and makes new languages a
//! matter of adding a catalog, not hunting strings through the code.

mod en;

use serde::{Deserialize, Serialize};

/// A catalog key. Serialized into the outbox, so variants may be added but
/// never reordered or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Text {
    Welcome,
    Help,
    Searching,
    SearchingAgain,
    AlreadySearching,
    StillSearching,
    PartnerFound,
    AlreadyChatting,
    PartnerLeft,
    YouLeftChat,
    SearchStopped,
    NotInChat,
    NothingToStop,
    ReportThanks,
    NothingToReport,
    UnknownCommand,
    UnsupportedMessage,
    PrivateChatsOnly,
    TemporarilyUnavailable,
    DeliveryFailed,
    StatusChatting,
    StatusSearching,
    /// A chat ended because nobody wrote for the idle timeout.
    ChatIdleEnded,
    /// A search ended because nobody was found within the search timeout.
    SearchTimedOut,
    /// The first message dropped by flood control in a stretch.
    SlowDownMessages,
    /// The first /next (or /chat) refused by flood control in a stretch.
    SlowDownSearches,
    Deleted,
    DeleteHowTo,
    EditedMarker,
}

impl Text {
    /// Every key, for catalog completeness tests.
    pub const ALL: [Text; 29] = [
        Text::Welcome,
        Text::Help,
        Text::Searching,
        Text::SearchingAgain,
        Text::AlreadySearching,
        Text::StillSearching,
        Text::PartnerFound,
        Text::AlreadyChatting,
        Text::PartnerLeft,
        Text::YouLeftChat,
        Text::SearchStopped,
        Text::NotInChat,
        Text::NothingToStop,
        Text::ReportThanks,
        Text::NothingToReport,
        Text::UnknownCommand,
        Text::UnsupportedMessage,
        Text::PrivateChatsOnly,
        Text::TemporarilyUnavailable,
        Text::DeliveryFailed,
        Text::StatusChatting,
        Text::StatusSearching,
        Text::ChatIdleEnded,
        Text::SearchTimedOut,
        Text::SlowDownMessages,
        Text::SlowDownSearches,
        Text::Deleted,
        Text::DeleteHowTo,
        Text::EditedMarker,
    ];

    /// The sentence in the default language (English).
    pub fn render(self) -> &'static str {
        en::text(self)
    }
}

/// The command menu registered with setMyCommands: (command, description).
pub const COMMANDS: [(&str, &str); 7] = [
    ("chat", "Find a partner to chat with"),
    ("next", "End this chat and find someone new"),
    ("stop", "End the chat or stop searching"),
    ("report", "Report your current or last partner"),
    ("delete", "Reply to your message to unsend it"),
    ("help", "How this bot works"),
    ("start", "Welcome and house rules"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_non_empty_english_text() {
        for text in Text::ALL {
            assert!(!text.render().trim().is_empty(), "{text:?} is empty");
        }
    }

    /// The outbox stores keys by position: `ALL` lists them in declaration
    /// order, so a reordering shows up here as a changed index.
    #[test]
    fn keys_keep_their_serialized_positions() {
        for (index, text) in Text::ALL.into_iter().enumerate() {
            let bytes = postcard::to_allocvec(&text).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&(index as u32)).unwrap());
        }
        let pinned = [
            (Text::Welcome, 0),
            (Text::StatusSearching, 21),
            (Text::ChatIdleEnded, 22),
            (Text::SearchTimedOut, 23),
            (Text::SlowDownMessages, 24),
            (Text::SlowDownSearches, 25),
        ];
        for (text, index) in pinned {
            assert_eq!(Text::ALL[index], text);
        }
    }
}
