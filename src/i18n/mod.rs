//! Every word the bot says to a user, by catalog key.
//!
//! Handlers and the engine name a [`Text`]; only this module turns it into a
//! sentence. That keeps wording in one place and makes new languages a
//! matter of adding a catalog, not hunting strings through the code.
//!
//! One file per language (`en.rs`, `ru.rs`, `es.rs`), each an exhaustive
//! `match` over [`Text`] and [`MenuCommand`], so a key missing from any
//! catalog fails to compile; the tests below also check that every
//! translation is non-empty and keeps the English text's `{0}`, `{1}` …
//! placeholders. Texts are rendered per recipient, in the shell, with the
//! recipient's [`Lang`] (see docs/languages.md for adding a language).

mod en;
mod es;
mod menu;
mod ru;

pub use menu::{commands, MenuCommand};

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
    // Languages, /link and /media (appended).
    /// Above the /language picker.
    LanguagePick,
    /// Confirms a /language choice, in the language chosen.
    LanguageSet,
    /// To the partner of a user who sent /link, above agree/decline buttons.
    ShareAsk,
    ShareAgree,
    ShareDecline,
    /// To a user who sent /link: the partner was asked.
    ShareAsked,
    ShareAlreadyAsked,
    /// To the asker: the partner declined.
    ShareDeclined,
    /// To the partner who declined.
    ShareDeclinedYou,
    /// To both: nobody answered within LINK_TIMEOUT.
    ShareExpired,
    /// {0}: the partner's @username, or a link to their profile.
    ShareRevealed,
    /// The words that link to a partner's profile when they have no username.
    ShareProfileLink,
    /// Above the /media toggle keyboard.
    MediaMenu,
    MediaPhotos,
    MediaVideos,
    MediaVoice,
    MediaStickers,
    MediaDocuments,
    MediaLinks,
    /// {0}: one of the media names above.
    MediaRefused,
    /// Answer to a /media toggle.
    MediaSaved,
    /// To a user who sends /link again after their partner declined.
    ShareNotAgain,
    // Report handling (appended).
    /// Answer to /reports when none is open.
    AdminNoOpenReports,
    /// {0}: report number; {1}: reason; {2}: reported user id; {3}:
    /// reporter id; {4}: when, in UTC. Admins only.
    ReportCard,
    /// Button under a report card.
    ReportBanButton,
    /// Button under a report card.
    ReportDismissButton,
    /// {0}: report number; {1}: a rendered [`Arg::Until`].
    ReportBanned,
    /// {0}: report number.
    ReportDismissed,
    /// {0}: report number.
    ReportNotOpen,
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
        Text::LanguagePick,
        Text::LanguageSet,
        Text::ShareAsk,
        Text::ShareAgree,
        Text::ShareDecline,
        Text::ShareAsked,
        Text::ShareAlreadyAsked,
        Text::ShareDeclined,
        Text::ShareDeclinedYou,
        Text::ShareExpired,
        Text::ShareRevealed,
        Text::ShareProfileLink,
        Text::MediaMenu,
        Text::MediaPhotos,
        Text::MediaVideos,
        Text::MediaVoice,
        Text::MediaStickers,
        Text::MediaDocuments,
        Text::MediaLinks,
        Text::MediaRefused,
        Text::MediaSaved,
        Text::ShareNotAgain,
        Text::AdminNoOpenReports,
        Text::ReportCard,
        Text::ReportBanButton,
        Text::ReportDismissButton,
        Text::ReportBanned,
        Text::ReportDismissed,
        Text::ReportNotOpen,
    ];

    /// The sentence in the default language (English).
    pub fn render(self) -> &'static str {
        self.render_in(Lang::En)
    }

    /// The sentence in `lang`.
    pub fn render_in(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => en::text(self),
            Lang::Ru => ru::text(self),
            Lang::Es => es::text(self),
        }
    }

    /// [`Text::render_with_in`] in English.
    pub fn render_with(self, args: &[Arg]) -> String {
        self.render_with_in(Lang::En, args)
    }

    /// The sentence in `lang` with `{0}`, `{1}`, … replaced by `args`,
    /// rendered in the same language. A placeholder without an argument is
    /// left as it is.
    pub fn render_with_in(self, lang: Lang, args: &[Arg]) -> String {
        let mut sentence = self.render_in(lang).to_owned();
        for (index, arg) in args.iter().enumerate() {
            sentence = sentence.replace(&format!("{{{index}}}"), &arg.render(lang));
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

    /// The language's name in itself, for the /language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "🇬🇧 English",
            Lang::Ru => "🇷🇺 Русский",
            Lang::Es => "🇪🇸 Español",
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
    /// Another catalog text, in the same language (a kind of media).
    Text(Text),
}

impl Arg {
    fn render(&self, lang: Lang) -> String {
        match self {
            Arg::Plain(text) => text.clone(),
            Arg::Number(n) => n.to_string(),
            Arg::Until(0) => Text::BanForever.render_in(lang).to_owned(),
            Arg::Until(secs) => {
                Text::BanUntil.render_with_in(lang, &[Arg::Plain(utc_minute(*secs))])
            }
            Arg::Text(text) => text.render_in(lang).to_owned(),
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

#[cfg(test)]
mod tests;
