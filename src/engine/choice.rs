//! The buttons of /language, /link and /media, parsed at the boundary.
//!
//! Callback data is whatever a client sends, so the shell turns the data
//! of these three prefixes into a [`Choice`] (or, when it names nothing
//! valid, leaves it an ordinary callback the engine answers as expired).
//! Each prefix belongs to one feature, so routes never collide with the
//! other menus' (`report:`, the settings menu's own):
//!
//! - `lang:en`, `lang:ru`, `lang:es` pick a language; `lang:menu` shows
//!   the picker (the /settings menu has a button with that data);
//! - `link:yes`, `link:no` answer a partner's /link;
//! - `media:<kind>` toggles a kind of media (see [`Media::code`]).

use super::media::Media;
use super::sharing::Contact;
use super::Engine;
use crate::domain::{MessageId, UserId};
use crate::engine::effect::{Outbound, Outcome};
use crate::i18n::Lang;

/// A press of one of this module's buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Speak this language to me.
    Language(Lang),
    /// Show the language picker.
    LanguageMenu,
    /// An answer to the partner's /link. `contact` is the presser's, given
    /// only with an agreement.
    Share { agree: bool, contact: Contact },
    /// Flip whether this kind is refused.
    Media(Media),
}

impl Choice {
    /// The choice `data` names, if it is one of ours. `contact` is asked for
    /// only when the press agrees to share it.
    pub fn parse(data: &str, contact: impl FnOnce() -> Contact) -> Option<Choice> {
        let (prefix, value) = data.split_once(':')?;
        match (prefix, value) {
            ("lang", "menu") => Some(Choice::LanguageMenu),
            ("lang", code) => Lang::ALL
                .into_iter()
                .find(|lang| lang.code() == code)
                .map(Choice::Language),
            ("link", "yes") => Some(Choice::Share {
                agree: true,
                contact: contact(),
            }),
            ("link", "no") => Some(Choice::Share {
                agree: false,
                contact: Contact::hidden(),
            }),
            ("media", code) => Media::from_code(code).map(Choice::Media),
            _ => None,
        }
    }

    /// The callback data of a button that makes `self` (the inverse of
    /// [`Choice::parse`]).
    pub fn data(&self) -> String {
        match self {
            Choice::Language(lang) => format!("lang:{}", lang.code()),
            Choice::LanguageMenu => "lang:menu".to_owned(),
            Choice::Share { agree: true, .. } => "link:yes".to_owned(),
            Choice::Share { agree: false, .. } => "link:no".to_owned(),
            Choice::Media(media) => format!("media:{}", media.code()),
        }
    }
}

impl Engine {
    /// Acts on a pressed button of /language, /link or /media.
    pub(super) fn choose(
        &self,
        user: UserId,
        query_id: &str,
        message: MessageId,
        choice: &Choice,
        out: &mut Outcome,
    ) {
        match choice {
            Choice::Language(lang) => self.set_language(user, query_id, *lang, out),
            Choice::LanguageMenu => {
                out.sends.push(Outbound::AnswerCallback {
                    user,
                    query_id: query_id.to_owned(),
                    text: None,
                });
                out.sends.push(Outbound::ShowLanguages { user });
            }
            Choice::Share { agree, contact } => {
                self.share_answer(user, query_id, *agree, contact, out)
            }
            Choice::Media(media) => self.toggle_media(user, query_id, message, *media, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_and_strangers_are_refused() {
        let choices = [
            Choice::Language(Lang::Ru),
            Choice::LanguageMenu,
            Choice::Share {
                agree: false,
                contact: Contact::hidden(),
            },
            Choice::Media(Media::Stickers),
        ];
        for choice in choices {
            assert_eq!(Choice::parse(&choice.data(), Contact::hidden), Some(choice));
        }
        let yes = Choice::parse("link:yes", || Contact::from_username(Some("ann_a")));
        assert_eq!(
            yes,
            Some(Choice::Share {
                agree: true,
                contact: Contact::from_username(Some("ann_a"))
            })
        );
        for bad in [
            "lang:fr",
            "lang:",
            "media:gifs",
            "link:maybe",
            "report:spam",
            "",
            "x",
        ] {
            assert_eq!(Choice::parse(bad, Contact::hidden), None, "{bad}");
        }
    }
}
