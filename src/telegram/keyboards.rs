//! The inline keyboards and composed texts of /language, /link and /media,
//! rendered in the recipient's language.
//!
//! Button data comes from [`Choice::data`], the inverse of the parser the
//! inbound side uses, so a button and its route can't drift apart.

use crate::domain::UserId;
use crate::engine::{Choice, Contact, Media};
use crate::i18n::{Arg, Lang, Text};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity};

/// Agree / decline under a partner's /link.
pub(super) fn share(lang: Lang) -> InlineKeyboardMarkup {
    let answer = |agree: bool, text: Text| {
        let choice = Choice::Share {
            agree,
            contact: Contact::hidden(),
        };
        InlineKeyboardButton::callback(text.render_in(lang), choice.data())
    };
    InlineKeyboardMarkup::new([[
        answer(true, Text::ShareAgree),
        answer(false, Text::ShareDecline),
    ]])
}

/// One button per language, each named in itself.
pub(super) fn languages() -> InlineKeyboardMarkup {
    let buttons = Lang::ALL.into_iter().map(|lang| {
        InlineKeyboardButton::callback(lang.native_name(), Choice::Language(lang).data())
    });
    InlineKeyboardMarkup::new([buttons.collect::<Vec<_>>()])
}

/// One toggle per kind of media, ✅ accepted or 🚫 refused, two to a row.
pub(super) fn media(lang: Lang, refused: u16) -> InlineKeyboardMarkup {
    let buttons: Vec<_> = Media::ALL
        .into_iter()
        .map(|media| {
            let mark = if media.is_in(refused) { "🚫" } else { "✅" };
            let label = capitalized(media.label().render_in(lang));
            InlineKeyboardButton::callback(format!("{mark} {label}"), Choice::Media(media).data())
        })
        .collect();
    InlineKeyboardMarkup::new(buttons.chunks(2).map(<[_]>::to_vec))
}

/// "Your partner: @name", or "Your partner: open their profile" with the
/// words linked to `tg://user?id=…` when the partner has no username.
pub(super) fn reveal(
    lang: Lang,
    partner: UserId,
    username: Option<&str>,
) -> (String, Vec<MessageEntity>) {
    if let Some(username) = username {
        let handle = Arg::Plain(format!("@{username}"));
        return (
            Text::ShareRevealed.render_with_in(lang, &[handle]),
            Vec::new(),
        );
    }
    let template = Text::ShareRevealed.render_in(lang);
    let label = Text::ShareProfileLink.render_in(lang);
    let (before, after) = template.split_once("{0}").unwrap_or((template, ""));
    let text = format!("{before}{label}{after}");
    let url = format!("tg://user?id={}", partner.0)
        .parse()
        .expect("a tg:// user link is a URL");
    let entity = MessageEntity::text_link(url, utf16_len(before), utf16_len(label));
    (text, vec![entity])
}

/// Telegram measures entity offsets in UTF-16 code units.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_link_covers_exactly_its_words() {
        for lang in Lang::ALL {
            let (text, entities) = reveal(lang, UserId(42), None);
            let [entity] = &entities[..] else {
                panic!("one link in {lang:?}")
            };
            let units: Vec<u16> = text.encode_utf16().collect();
            let linked = String::from_utf16(&units[entity.offset..entity.offset + entity.length]);
            assert_eq!(linked.unwrap(), Text::ShareProfileLink.render_in(lang));
            assert!(!text.contains("42"), "{text}");
        }
        let (text, entities) = reveal(Lang::Ru, UserId(42), Some("ann_a"));
        assert!(text.contains("@ann_a") && entities.is_empty(), "{text}");
    }

    #[test]
    fn media_toggles_show_what_is_refused() {
        let keyboard = media(Lang::En, Media::Photos.bit());
        let labels: Vec<_> = keyboard
            .inline_keyboard
            .iter()
            .flatten()
            .map(|b| b.text.clone())
            .collect();
        assert_eq!(labels[0], "🚫 Photos");
        assert_eq!(labels[1], "✅ Videos");
        assert_eq!(labels.len(), Media::ALL.len());
    }
}
