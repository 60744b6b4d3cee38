//! /settings: one inline-keyboard menu, edited in place as choices change.
//!
//! Each button carries `set:<what>` and cycles or toggles one choice (a
//! tap is quicker than a sub-menu): my gender, whom I want to meet, their
//! age range (a few presets), same language only, and protecting my
//! messages. The language button carries `lang:menu`, which the language
//! picker owns.
//!
//! Age is typed. The "set:age" button asks for it and marks the user as
//! awaiting an answer for [`AGE_QUESTION_SECS`]; until then their next
//! plain message is the answer and is never relayed, even mid-chat. A
//! number out of 13–99, or anything that is not a number, gets a clear
//! error and the question stays open. The mark lives in memory only: after
//! a restart, or once it expires, messages relay as usual again (so an
//! answer typed long after the question can reach a partner; the question
//! says it is for the next message).
//!
//! Every change is a [`Record::Profile`](super::Record), and a searching
//! user is moved to the bucket of their new class at once.

use super::effect::{Outbound, Outcome};
use super::profile::{AgeRange, Gender, Profile};
use super::Engine;
use crate::domain::{MessageId, Timestamp, UserId};
use crate::i18n::{Arg, Lang, Text};
use serde::{Deserialize, Serialize};

/// Callback data prefix of the settings buttons.
pub const PREFIX: &str = "set:";
/// How long the bot takes a plain message as the age it asked for.
pub const AGE_QUESTION_SECS: u64 = 300;
/// The youngest and oldest age a user may state.
pub const AGES: std::ops::RangeInclusive<u8> = 13..=99;
/// The age ranges "their age" cycles through, after "any".
pub const AGE_RANGES: [AgeRange; 5] = [
    AgeRange { min: 18, max: 25 },
    AgeRange { min: 26, max: 35 },
    AgeRange { min: 36, max: 50 },
    AgeRange { min: 51, max: 99 },
    AgeRange { min: 13, max: 17 },
];

/// What the menu shows: a user's choices, with protect-content resolved
/// against the default. Kept in the outbox, so fields may only be appended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub gender: Option<Gender>,
    pub age: Option<u8>,
    pub language: Option<Lang>,
    pub wants_gender: Option<Gender>,
    pub wants_age: Option<AgeRange>,
    pub same_language_only: bool,
    pub protect_content: bool,
}

/// A settings button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Gender,
    Age,
    WantsGender,
    WantsAge,
    SameLanguage,
    Protect,
}

impl Choice {
    pub const ALL: [Choice; 6] = [
        Choice::Gender,
        Choice::Age,
        Choice::WantsGender,
        Choice::WantsAge,
        Choice::SameLanguage,
        Choice::Protect,
    ];

    fn code(self) -> &'static str {
        match self {
            Choice::Gender => "g",
            Choice::Age => "age",
            Choice::WantsGender => "wg",
            Choice::WantsAge => "wa",
            Choice::SameLanguage => "sl",
            Choice::Protect => "pc",
        }
    }

    /// The button's callback data.
    pub fn callback_data(self) -> String {
        format!("{PREFIX}{}", self.code())
    }

    pub fn parse(data: &str) -> Option<Choice> {
        let code = data.strip_prefix(PREFIX)?;
        Self::ALL.into_iter().find(|choice| choice.code() == code)
    }
}

fn next_gender(now: Option<Gender>) -> Option<Gender> {
    match now {
        None => Some(Gender::Male),
        Some(Gender::Male) => Some(Gender::Female),
        Some(Gender::Female) => Some(Gender::Other),
        Some(Gender::Other) => None,
    }
}

fn next_wanted_gender(now: Option<Gender>) -> Option<Gender> {
    match now {
        None => Some(Gender::Male),
        Some(Gender::Male) => Some(Gender::Female),
        Some(_) => None,
    }
}

fn next_age_range(now: Option<AgeRange>) -> Option<AgeRange> {
    let at = now.and_then(|range| AGE_RANGES.iter().position(|r| *r == range));
    match at {
        None if now.is_none() => Some(AGE_RANGES[0]),
        None => None,
        Some(i) => AGE_RANGES.get(i + 1).copied(),
    }
}

/// What a typed age says.
pub fn parse_age(text: &str) -> Result<u8, Text> {
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Text::AgeNotANumber);
    }
    let age = digits.parse::<u8>().ok().filter(|age| AGES.contains(age));
    age.ok_or(Text::AgeOutOfRange)
}

impl Engine {
    /// The same engine with `on` as the protect-content default.
    pub fn with_protect_content(mut self, on: bool) -> Self {
        self.protect_by_default = on;
        self
    }

    /// Whether copies are protected for users who didn't choose.
    pub fn protects_by_default(&self) -> bool {
        self.protect_by_default
    }

    /// Whether copies of `user`'s messages go out protected.
    pub fn protects(&self, user: UserId) -> bool {
        let chosen = self.profiles.get(&user).and_then(|p| p.protect_content);
        chosen.unwrap_or(self.protect_by_default)
    }

    /// `send`, a copy of `from`'s message, protected if `from` wants it.
    pub(super) fn protect(&self, from: UserId, send: Outbound) -> Outbound {
        match self.protects(from) {
            true => Outbound::Protected(Box::new(send)),
            false => send,
        }
    }

    fn view(&self, user: UserId) -> SettingsView {
        let p = self.profile(user);
        SettingsView {
            gender: p.gender,
            age: p.age,
            language: p.language,
            wants_gender: p.wants_gender,
            wants_age: p.wants_age,
            same_language_only: p.same_language_only,
            protect_content: p.protect_content.unwrap_or(self.protect_by_default),
        }
    }

    /// /settings: a fresh menu. Closes an open age question.
    pub(super) fn show_settings(&self, user: UserId, out: &mut Outcome) {
        self.awaiting_age.remove(&user);
        let view = self.view(user);
        out.sends.push(Outbound::Settings {
            user,
            message: None,
            view,
        });
    }

    /// A press on a settings button under the menu `message`.
    pub(super) fn settings_press(
        &self,
        user: UserId,
        query_id: &str,
        data: &str,
        message: MessageId,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let choice = Choice::parse(data);
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: choice.is_none().then_some(Text::ButtonExpired),
        });
        match choice {
            None => {}
            Some(Choice::Age) => {
                self.awaiting_age.insert(user, now);
                out.tell(user, Text::AskAge);
            }
            Some(choice) => {
                let default = self.protect_by_default;
                self.change(user, now, out, |p| toggle(p, choice, default));
                let view = self.view(user);
                out.sends.push(Outbound::Settings {
                    user,
                    message: Some(message),
                    view,
                });
            }
        }
    }

    /// Changes `user`'s profile and, if they are searching, moves them to
    /// their new bucket (both under their stripe) and looks again for
    /// someone who fits now.
    fn change(
        &self,
        user: UserId,
        now: Timestamp,
        out: &mut Outcome,
        change: impl FnOnce(&mut Profile),
    ) {
        let moved = {
            let _held = self.locks.one(user);
            self.update_profile(user, out, change);
            self.rebucket(user)
        };
        if let Some((ticket, class)) = moved {
            self.rematch(user, ticket, &class, now, out);
        }
    }

    /// Whether `user` owes an answer to the age question (asked within
    /// [`AGE_QUESTION_SECS`]); forgets an expired one.
    fn awaits_age(&self, user: UserId, now: Timestamp) -> bool {
        let Some(asked) = self.awaiting_age.get(&user).map(|at| *at) else {
            return false;
        };
        let open = now.0 < asked.0.saturating_add(AGE_QUESTION_SECS);
        if !open {
            self.awaiting_age.remove_if(&user, |_, at| *at == asked);
        }
        open
    }

    /// A message that is not text can't answer the age question: the user
    /// is told, and it is not relayed. Returns whether it was taken.
    pub(super) fn taken_as_answer(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        if !self.awaits_age(user, now) {
            return false;
        }
        out.tell(user, Text::AgeNotANumber);
        true
    }

    /// A short plain text: the age asked for, or an ordinary message.
    pub(super) fn short_text(
        &self,
        user: UserId,
        message: MessageId,
        text: &str,
        media: Option<super::Media>,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        if !self.awaits_age(user, now) {
            return self.message(user, message, true, media, now, out);
        }
        match parse_age(text) {
            Ok(age) => {
                self.awaiting_age.remove(&user);
                self.change(user, now, out, |p| p.age = Some(age));
                out.tell_with(user, Text::AgeSaved, vec![Arg::Number(age.into())]);
                self.show_settings(user, out);
            }
            Err(problem) => out.tell(user, problem),
        }
    }
}

fn toggle(profile: &mut Profile, choice: Choice, protect_default: bool) {
    match choice {
        Choice::Gender => profile.gender = next_gender(profile.gender),
        Choice::WantsGender => profile.wants_gender = next_wanted_gender(profile.wants_gender),
        Choice::WantsAge => profile.wants_age = next_age_range(profile.wants_age),
        Choice::SameLanguage => profile.same_language_only = !profile.same_language_only,
        Choice::Protect => {
            let now = profile.protect_content.unwrap_or(protect_default);
            profile.protect_content = Some(!now);
        }
        Choice::Age => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_with_clear_errors() {
        assert_eq!(parse_age(" 25 "), Ok(25));
        assert_eq!(parse_age("13"), Ok(13));
        assert_eq!(parse_age("99"), Ok(99));
        assert_eq!(parse_age("12"), Err(Text::AgeOutOfRange));
        assert_eq!(parse_age("100"), Err(Text::AgeOutOfRange));
        assert_eq!(parse_age("99999999999"), Err(Text::AgeOutOfRange));
        assert_eq!(parse_age("twenty"), Err(Text::AgeNotANumber));
        assert_eq!(parse_age("-5"), Err(Text::AgeNotANumber));
    }

    #[test]
    fn choices_cycle_back_to_where_they_started() {
        let mut gender = None;
        for _ in 0..4 {
            gender = next_gender(gender);
        }
        assert_eq!(gender, None);
        let mut range = None;
        for _ in 0..=AGE_RANGES.len() {
            range = next_age_range(range);
        }
        assert_eq!(range, None);
        for choice in Choice::ALL {
            assert_eq!(Choice::parse(&choice.callback_data()), Some(choice));
        }
        assert_eq!(Choice::parse("set:nope"), None);
        assert_eq!(Choice::parse("lang:menu"), None);
    }
}
