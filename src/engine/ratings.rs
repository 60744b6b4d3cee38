//! Ratings: after every chat both users may give their partner 👍 or 👎.
//!
//! - Every ended chat asks both sides, whichever rule ended it (/stop,
//!   /next, the idle timeout, a ban), except a user who can't be reached.
//! - The buttons name the chat by the moment it ended (`rate:<secs>:up`),
//!   never by the partner: callback data is visible to the client. The
//!   voter's own [`Profile::recent_partners`] says who that was.
//! - One vote per chat per voter counts. The vote is marked in the voter's
//!   profile in the same step that counts it, so a second press (or a
//!   replayed one) is answered but not counted.
//! - The tally lives in the rated user's profile; a poor one makes them
//!   matched last ([`Profile::low_rated`]), which is a priority, not a ban.

use super::effect::{Outbound, Outcome, Record};
use super::event::Event;
use super::profile::Profile;
use super::Engine;
use crate::domain::{Timestamp, UserId};
use crate::i18n::Text;

/// Callback data prefix of the rating buttons.
pub const PREFIX: &str = "rate:";

/// A press on a rating button, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    /// When the rated chat ended.
    pub chat: Timestamp,
    pub up: bool,
}

impl Vote {
    /// The callback data of a rating button.
    pub fn callback_data(chat: Timestamp, up: bool) -> String {
        format!("{PREFIX}{}:{}", chat.0, if up { "up" } else { "down" })
    }

    /// The vote a button's data names, if it names one.
    pub fn parse(data: &str) -> Option<Vote> {
        let (chat, choice) = data.strip_prefix(PREFIX)?.split_once(':')?;
        let chat = Timestamp(chat.parse().ok()?);
        let up = match choice {
            "up" => true,
            "down" => false,
            _ => return None,
        };
        Some(Vote { chat, up })
    }
}

/// What became of a press.
enum Counted {
    Yes(UserId),
    AlreadyRated,
    Unknown,
}

impl Engine {
    /// Asks both sides of every chat `out` ended to rate it.
    pub(super) fn ask_ratings(&self, event: &Event, now: Timestamp, out: &mut Outcome) {
        let unreachable = match *event {
            Event::Unreachable { user } => Some(user),
            _ => None,
        };
        // Straight from records to sends, with no list in between: every
        // event passes here (see docs/matching.md, Performance).
        let Outcome { records, sends } = out;
        for record in records.iter() {
            let Record::Unpair { a, b } = *record else {
                continue;
            };
            for user in [a, b] {
                if Some(user) != unreachable {
                    sends.push(Outbound::AskRating { user, chat: now });
                }
            }
        }
    }

    /// A press on a rating button.
    pub(super) fn rate(
        &self,
        user: UserId,
        query_id: &str,
        data: &str,
        _now: Timestamp,
        out: &mut Outcome,
    ) {
        let counted = match Vote::parse(data) {
            Some(vote) => self.count_vote(user, vote, out),
            None => Counted::Unknown,
        };
        let text = match counted {
            Counted::Yes(_) => Text::RatingThanks,
            Counted::AlreadyRated => Text::RatingAlreadyGiven,
            Counted::Unknown => Text::ButtonExpired,
        };
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: Some(text),
        });
    }

    /// Marks the chat rated in the voter's profile and counts the vote for
    /// the partner, once.
    fn count_vote(&self, voter: UserId, vote: Vote, out: &mut Outcome) -> Counted {
        let mut counted = Counted::Unknown;
        if let Some(mut profile) = self.profiles.get_mut(&voter) {
            let chat = profile
                .recent_partners
                .iter_mut()
                .rev()
                .find(|r| r.ended_at == vote.chat);
            counted = match chat {
                Some(chat) if chat.rated => Counted::AlreadyRated,
                Some(chat) => {
                    chat.rated = true;
                    Counted::Yes(chat.partner)
                }
                None => Counted::Unknown,
            };
            if let Counted::Yes(_) = counted {
                record(voter, &profile, out);
            }
        }
        if let Counted::Yes(partner) = counted {
            self.update_profile(partner, out, |profile| {
                let tally = match vote.up {
                    true => &mut profile.votes_up,
                    false => &mut profile.votes_down,
                };
                *tally = tally.saturating_add(1);
            });
        }
        counted
    }
}

fn record(user: UserId, profile: &Profile, out: &mut Outcome) {
    out.record(Record::Profile {
        user,
        profile: profile.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_parse_and_refuse_garbage() {
        let data = Vote::callback_data(Timestamp(77), true);
        assert_eq!(data, "rate:77:up");
        assert_eq!(
            Vote::parse(&data),
            Some(Vote {
                chat: Timestamp(77),
                up: true
            })
        );
        assert_eq!(
            Vote::parse("rate:5:down").map(|v| v.up),
            Some(false),
            "down"
        );
        for bad in ["rate:", "rate:x:up", "rate:5:meh", "rate:5", "set:5:up", ""] {
            assert_eq!(Vote::parse(bad), None, "{bad}");
        }
    }
}
