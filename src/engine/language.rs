//! Which language the bot speaks to each user.
//!
//! [`Profile::language`](super::Profile) if set, else English. It gets set
//! in two ways:
//! - the first update that carries a Telegram `language_code` the bot
//!   speaks ([`Event::Speaks`](super::Event)) is recorded into the profile,
//!   so the choice survives restarts and applies to texts a *partner's*
//!   action sends this user; later codes don't override it. English, the
//!   default, is not recorded: most users would otherwise each get a
//!   profile (memory and a write) that says what the default already says;
//! - /language shows a picker (`lang:` buttons, see [`super::choice`]),
//!   and a pick is recorded and confirmed in the new language.
//!
//! The engine only decides the language; texts are rendered per recipient
//! in the shell, which asks [`Engine::language_of`] when it hands a send to
//! the dispatcher.

use super::Engine;
use crate::domain::UserId;
use crate::engine::effect::{Outbound, Outcome};
use crate::i18n::{Lang, Text};

impl Engine {
    /// The language to speak to `user`.
    pub fn language_of(&self, user: UserId) -> Lang {
        self.profiles
            .get(&user)
            .and_then(|profile| profile.language)
            .unwrap_or_default()
    }

    /// `user`'s Telegram client speaks `lang`: adopt it unless the user
    /// already has a language (or it is the default).
    pub(super) fn adopt_language(&self, user: UserId, lang: Lang, out: &mut Outcome) {
        if lang == Lang::default() {
            return;
        }
        let known = self
            .profiles
            .get(&user)
            .is_some_and(|profile| profile.language.is_some());
        if !known {
            self.update_profile(user, out, |p| {
                p.language.get_or_insert(lang);
            });
        }
    }

    /// /language: the picker.
    pub(super) fn show_languages(&self, user: UserId, out: &mut Outcome) {
        out.sends.push(Outbound::ShowLanguages { user });
    }

    /// A language was picked: record it and confirm in it.
    pub(super) fn set_language(&self, user: UserId, query_id: &str, lang: Lang, out: &mut Outcome) {
        self.update_profile(user, out, |p| p.language = Some(lang));
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: None,
        });
        out.tell(user, Text::LanguageSet);
    }
}
