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
    // Moderation (appended: the outbox stores keys by position).
    /// Above the reason keyboard that /report sends.
    ReportAskReason,
    ReasonSpam,
    ReasonAbuse,
    ReasonNudity,
    ReasonUnderage,
    ReasonScam,
    ReasonOther,
    /// Answer to a button press the bot doesn't understand (any more).
    ButtonExpired,
    /// {0}: a rendered [`Arg::Until`].
    BannedByReports,
    /// {0}: a rendered [`Arg::Until`]; {1}: the moderator's reason.
    BannedByAdmin,
    /// {0}: a rendered [`Arg::Until`].
    StillBanned,
    /// {0}: a date and time in UTC.
    BanUntil,
    BanForever,
    Unbanned,
    /// {0}: the moderator's reason.
    Warned,
    AdminHelp,
    /// {0}: searching users; {1}: active chats; {2}: bans in force.
    AdminStats,
    /// {0}: a rendered [`Arg::Until`].
    AdminBanDone,
    AdminUnbanDone,
    AdminNotBanned,
    AdminWarnDone,
    AdminBanUsage,
    AdminUnbanUsage,
    AdminWarnUsage,
    // Maintenance (appended).
    Maintenance,
    AdminMaintenanceOn,
    AdminMaintenanceOff,
    AdminMaintenanceUsage,
    // Matching, settings and ratings (appended).
    SearchRelaxed,
    RatingAsk,
    RatingThanks,
    RatingAlreadyGiven,
    AskAge,
    AgeNotANumber,
    AgeOutOfRange,
    AgeSaved,
    SettingsMenu,
    GenderMale,
    GenderFemale,
    GenderOther,
    NotSet,
    Anyone,
    Men,
    Women,
    AnyAge,
    On,
    Off,
    LanguageAuto,
    ButtonMyGender,
    ButtonMyAge,
    ButtonLanguage,
    ButtonWantsGender,
    ButtonWantsAge,
    ButtonSameLanguage,
    ButtonProtect,
    RateUp,
    RateDown,
}

impl Text {
    /// Every key, for catalog completeness tests.
    pub const ALL: [Text; 86] = [
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
        Text::ReportAskReason,
        Text::ReasonSpam,
        Text::ReasonAbuse,
        Text::ReasonNudity,
        Text::ReasonUnderage,
        Text::ReasonScam,
        Text::ReasonOther,
        Text::ButtonExpired,
        Text::BannedByReports,
        Text::BannedByAdmin,
        Text::StillBanned,
        Text::BanUntil,
        Text::BanForever,
        Text::Unbanned,
        Text::Warned,
        Text::AdminHelp,
        Text::AdminStats,
        Text::AdminBanDone,
        Text::AdminUnbanDone,
        Text::AdminNotBanned,
        Text::AdminWarnDone,
        Text::AdminBanUsage,
        Text::AdminUnbanUsage,
        Text::AdminWarnUsage,
        Text::Maintenance,
        Text::AdminMaintenanceOn,
        Text::AdminMaintenanceOff,
        Text::AdminMaintenanceUsage,
        Text::SearchRelaxed,
        Text::RatingAsk,
        Text::RatingThanks,
        Text::RatingAlreadyGiven,
        Text::AskAge,
        Text::AgeNotANumber,
        Text::AgeOutOfRange,
        Text::AgeSaved,
        Text::SettingsMenu,
        Text::GenderMale,
        Text::GenderFemale,
        Text::GenderOther,
        Text::NotSet,
        Text::Anyone,
        Text::Men,
        Text::Women,
        Text::AnyAge,
        Text::On,
        Text::Off,
        Text::LanguageAuto,
        Text::ButtonMyGender,
        Text::ButtonMyAge,
        Text::ButtonLanguage,
        Text::ButtonWantsGender,
        Text::ButtonWantsAge,
        Text::ButtonSameLanguage,
        Text::ButtonProtect,
        Text::RateUp,
        Text::RateDown,
    ];

    /// The sentence in the default language (English).
    pub fn render(self) -> &'static str {
        en::text(self)
    }

    /// The sentence with `{0}`, `{1}`, … replaced by `args`, rendered in the
    /// same language. A placeholder without an argument is left as it is.
    pub fn render_with(self, args: &[Arg]) -> String {
        let mut sentence = self.render().to_owned();
        for (index, arg) in args.iter().enumerate() {
            sentence = sentence.replace(&format!("{{{index}}}"), &arg.render());
        }
        sentence
    }
}

/// A language the bot speaks. Stored in user profiles: variants may be
/// appended, never reordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Ru,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Es];

    /// The language for a Telegram `language_code` such as `ru` or `es-MX`,
    /// if the bot speaks it.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Es => "es",
        }
    }
}

/// A value to put into a parameterized catalog text. Values that need words
/// (a ban's end, "permanently") are rendered here, not by the caller, so
/// every word stays in the catalog. Serialized into the outbox: variants may
/// be appended, never reordered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// Text inserted as it is (a moderator's reason).
    Plain(String),
    /// A count.
    Number(u64),
    /// When a ban ends, in Unix seconds; 0 means never.
    Until(u64),
    /// A catalog text (a value such as "on" or "not set").
    Text(Text),
}

impl Arg {
    fn render(&self) -> String {
        match self {
            Arg::Plain(text) => text.clone(),
            Arg::Number(n) => n.to_string(),
            Arg::Until(0) => Text::BanForever.render().to_owned(),
            Arg::Until(secs) => Text::BanUntil.render_with(&[Arg::Plain(utc_minute(*secs))]),
            Arg::Text(text) => text.render().to_owned(),
        }
    }
}

/// Unix seconds as `2026-11-22 08:00 UTC`.
pub fn utc_minute(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// The command menu registered with setMyCommands: (command, description).
pub const COMMANDS: [(&str, &str); 8] = [
    ("chat", "Find a partner to chat with"),
    ("next", "End this chat and find someone new"),
    ("stop", "End the chat or stop searching"),
    ("report", "Report your current or last partner"),
    ("delete", "Reply to your message to unsend it"),
    ("settings", "About you, whom you meet, privacy"),
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

    #[test]
    fn arguments_fill_placeholders() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_795_334_400), "2026-11-22 08:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        let until = Text::StillBanned.render_with(&[Arg::Until(1_795_334_400)]);
        assert!(until.contains("2026-11-22 08:00 UTC"), "{until}");
        let forever = Text::StillBanned.render_with(&[Arg::Until(0)]);
        assert!(forever.contains(Text::BanForever.render()), "{forever}");
        let stats = Text::AdminStats.render_with(&[Arg::Number(1), Arg::Number(2), Arg::Number(3)]);
        assert!(!stats.contains('{'), "{stats}");
    }
}
