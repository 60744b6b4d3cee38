//! What each user chose about themselves and about whom they meet.
//!
//! One [`Profile`] per user who ever chose anything, kept in the engine and
//! persisted whole with [`Record::Profile`]. Keeping every per-user choice in
//! one value (instead of a record and a table per setting) means a new
//! setting is a new field: the engine, both backends, backups and export all
//! carry it without change.
//!
//! Users who never chose anything and never finished a chat have no entry
//! and get [`Profile::default`], so passers-by cost no memory here. A
//! finished chat adds an entry: the profile also remembers recent partners
//! (for the no-repeat rule and the rating buttons) and the votes a user
//! received, because those must survive a restart exactly like settings.

use super::effect::{Outcome, Record};
use super::Engine;
use crate::domain::{Timestamp, UserId};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};

/// A gender a user states, or wants to meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    Male,
    Female,
    Other,
}

/// An inclusive age range, both ends within 13–99.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgeRange {
    pub min: u8,
    pub max: u8,
}

/// A user's settings. Encoded with postcard, which is not self-describing:
/// new fields go at the end, and the store's decoder must accept the old
/// length (see the store's profile tests).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// About me: gender (`None`: unset).
    pub gender: Option<Gender>,
    /// About me: age, 13–99 (`None`: unset).
    pub age: Option<u8>,
    /// The language the bot speaks to this user: picked with /language, or
    /// recorded from the first Telegram `language_code` the bot speaks.
    /// `None`: not known yet, so English (see `engine::language`).
    pub language: Option<Lang>,
    /// Whom I want to meet: a gender (`None`: anyone).
    pub wants_gender: Option<Gender>,
    /// Whom I want to meet: an age range (`None`: any age).
    pub wants_age: Option<AgeRange>,
    /// Whom I want to meet: only people who speak my language.
    pub same_language_only: bool,
    /// Kinds of message this user refuses to receive, as a bit set whose
    /// bits the media rules define.
    pub refused_media: u16,
    /// Whether copies of this user's messages are sent with
    /// protect_content. `None`: the configured default.
    pub protect_content: Option<bool>,
    /// Whether this user has passed the one-tap captcha.
    pub captcha_passed: bool,
    /// This user's most recent partners, newest last, for the no-repeat
    /// rule and for rating each chat once (see [`super::matching`]).
    pub recent_partners: Vec<RecentPartner>,
    /// 👍 votes this user received from partners.
    pub votes_up: u32,
    /// 👎 votes this user received from partners.
    pub votes_down: u32,
}

/// One ended chat, as the user who was in it remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentPartner {
    pub partner: UserId,
    /// When the chat ended: with the user, it names the chat.
    pub ended_at: Timestamp,
    /// Whether this user has rated that chat.
    pub rated: bool,
}

/// Votes at which a low share of 👍 starts to count.
pub const MIN_VOTES_FOR_RATING: u32 = 5;
/// Below this share of 👍 (in percent) a user is matched last.
pub const LOW_RATING_PERCENT: u32 = 30;

impl Profile {
    /// Whether partners rated this user poorly: at least
    /// [`MIN_VOTES_FOR_RATING`] votes, under [`LOW_RATING_PERCENT`] 👍.
    pub fn low_rated(&self) -> bool {
        let total = self.votes_up.saturating_add(self.votes_down);
        total >= MIN_VOTES_FOR_RATING
            && u64::from(self.votes_up) * 100 < u64::from(total) * u64::from(LOW_RATING_PERCENT)
    }
}

impl Engine {
    /// `user`'s settings (the defaults if they never chose anything).
    pub fn profile(&self, user: UserId) -> Profile {
        self.profiles
            .get(&user)
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// Changes `user`'s settings with `change` and records the result.
    /// Returns what `change` returns. The profile is cloned once, into the
    /// record: every chat's end updates two profiles, so a second copy per
    /// update was a measurable part of matching (see docs/matching.md).
    pub(crate) fn update_profile<R>(
        &self,
        user: UserId,
        out: &mut Outcome,
        change: impl FnOnce(&mut Profile) -> R,
    ) -> R {
        let mut entry = self.profiles.entry(user).or_default();
        let result = change(entry.value_mut());
        let profile = entry.value().clone();
        drop(entry);
        out.record(Record::Profile { user, profile });
        result
    }

    pub(super) fn restore_profiles(&self, profiles: &[(UserId, Profile)]) {
        for (user, profile) in profiles {
            self.profiles.insert(*user, profile.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Snapshot;

    #[test]
    fn an_update_is_recorded_whole_and_survives_a_restore() {
        let engine = Engine::new();
        let user = UserId(7);
        assert_eq!(engine.profile(user), Profile::default());
        let mut out = Outcome::default();
        engine.update_profile(user, &mut out, |p| {
            p.age = Some(30);
            p.wants_gender = Some(Gender::Female);
        });
        let updated = engine.profile(user);
        assert_eq!(updated.age, Some(30));
        assert_eq!(
            out.records,
            vec![Record::Profile {
                user,
                profile: updated.clone()
            }]
        );
        let snapshot = Snapshot {
            profiles: vec![(user, updated.clone())],
            ..Snapshot::default()
        };
        assert_eq!(Engine::restore(&snapshot).profile(user), updated);
    }
}
