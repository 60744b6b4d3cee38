//! The inline keyboards the engine asks for: the settings menu and the
//! rating buttons. Only wording and layout live here; what each button
//! does is the engine's (`engine::settings`, `engine::ratings`).

use crate::engine::profile::{AgeRange, Gender};
use crate::engine::settings::Choice;
use crate::engine::SettingsView;
use crate::i18n::{Arg, Lang, Text};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// The language picker's entry point (owned by the language feature).
pub const LANGUAGE_MENU: &str = "lang:menu";

fn gender(value: Option<Gender>) -> Arg {
    Arg::Text(match value {
        None => Text::NotSet,
        Some(Gender::Male) => Text::GenderMale,
        Some(Gender::Female) => Text::GenderFemale,
        Some(Gender::Other) => Text::GenderOther,
    })
}

fn wanted(value: Option<Gender>) -> Arg {
    Arg::Text(match value {
        None => Text::Anyone,
        Some(Gender::Male) => Text::Men,
        Some(Gender::Female) => Text::Women,
        Some(Gender::Other) => Text::GenderOther,
    })
}

fn age(value: Option<u8>) -> Arg {
    value.map_or(Arg::Text(Text::NotSet), |age| Arg::Number(age.into()))
}

fn age_range(value: Option<AgeRange>) -> Arg {
    value.map_or(Arg::Text(Text::AnyAge), |r| {
        Arg::Plain(format!("{}–{}", r.min, r.max))
    })
}

fn language(value: Option<Lang>) -> Arg {
    value.map_or(Arg::Text(Text::LanguageAuto), |lang| {
        Arg::Plain(lang.native_name().to_owned())
    })
}

fn on_off(on: bool) -> Arg {
    Arg::Text(if on { Text::On } else { Text::Off })
}

/// The menu's text, in `lang`: every current choice.
pub fn settings_text(view: &SettingsView, lang: Lang) -> String {
    Text::SettingsMenu.render_with_in(
        lang,
        &[
            gender(view.gender),
            age(view.age),
            language(view.language),
            wanted(view.wants_gender),
            age_range(view.wants_age),
            on_off(view.same_language_only),
            on_off(view.protect_content),
        ],
    )
}

/// One button per choice, one to a row, in `lang`.
pub fn settings_keyboard(view: &SettingsView, lang: Lang) -> InlineKeyboardMarkup {
    let button = |label: Text, value: Arg, data: String| {
        vec![InlineKeyboardButton::callback(
            label.render_with_in(lang, &[value]),
            data,
        )]
    };
    InlineKeyboardMarkup::new([
        button(
            Text::ButtonMyGender,
            gender(view.gender),
            Choice::Gender.callback_data(),
        ),
        button(
            Text::ButtonMyAge,
            age(view.age),
            Choice::Age.callback_data(),
        ),
        button(
            Text::ButtonLanguage,
            language(view.language),
            LANGUAGE_MENU.to_owned(),
        ),
        button(
            Text::ButtonWantsGender,
            wanted(view.wants_gender),
            Choice::WantsGender.callback_data(),
        ),
        button(
            Text::ButtonWantsAge,
            age_range(view.wants_age),
            Choice::WantsAge.callback_data(),
        ),
        button(
            Text::ButtonSameLanguage,
            on_off(view.same_language_only),
            Choice::SameLanguage.callback_data(),
        ),
        button(
            Text::ButtonProtect,
            on_off(view.protect_content),
            Choice::Protect.callback_data(),
        ),
    ])
}

/// 👍 and 👎 for the chat that ended at `chat`.
pub fn rating_keyboard(chat: crate::domain::Timestamp, lang: Lang) -> InlineKeyboardMarkup {
    use crate::engine::ratings::Vote;
    let button = |text: Text, up| {
        InlineKeyboardButton::callback(text.render_in(lang), Vote::callback_data(chat, up))
    };
    InlineKeyboardMarkup::new([[button(Text::RateUp, true), button(Text::RateDown, false)]])
}
