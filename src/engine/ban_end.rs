//! Telling a user when their ban has ended.
//!
//! A ban with an end gets a deadline ([`Due::BanEnds`]); the tick that pops
//! it tells the user they can /chat again, if that ban is still the user's
//! ban (not lifted, not replaced by a longer one).
//!
//! Whether the notice went out is not stored, so after a restart the
//! deadlines of every kept ban come back. A ban that ended more than
//! [`ANNOUNCE_GRACE_SECS`] before the tick that finds it is not announced:
//! that keeps old bans from being announced again at every start, at the
//! price that a ban ending during a longer downtime goes unannounced (the
//! user can still /chat) and a restart within the grace may repeat it.

use super::deadlines::{Due, When};
use super::moderation::Ban;
use super::Engine;
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::Outcome;
use crate::i18n::Text;

/// How late a ban's end may still be announced, in seconds.
pub const ANNOUNCE_GRACE_SECS: u64 = 600;

impl Engine {
    /// Puts the end of `ban` on the clock, if it has one.
    pub(super) fn watch_ban_end(&self, user: UserId, ban: &Ban) {
        if ban.until.0 != 0 {
            let until = ban.until;
            self.deadlines
                .push(When::At(until), Due::BanEnds { user, until });
        }
    }

    /// Tells `user` their ban ending at `until` is over, if it still is their
    /// ban and it ended recently.
    pub(super) fn announce_ban_end(
        &self,
        user: UserId,
        until: Timestamp,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let current = self.sanctions_ban(user).map(|ban| ban.until);
        let recent = now.0 <= until.0.saturating_add(ANNOUNCE_GRACE_SECS);
        if current == Some(until) && now >= until && recent {
            out.tell(user, Text::BanExpired);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Timestamp, UserId};
    use crate::engine::{AdminCommand, BanOrder, Command, Event, ModerationConfig, Outbound};
    use crate::i18n::Text;

    const ADMIN: UserId = UserId(1);
    const NOW: Timestamp = Timestamp(1_700_000_000);

    fn engine() -> crate::engine::Engine {
        crate::engine::Engine::new().with_moderation(ModerationConfig {
            admins: vec![ADMIN],
            ..ModerationConfig::default()
        })
    }

    fn ban(secs: u64, target: i64) -> Event {
        Event::Command {
            user: ADMIN,
            command: Command::Admin(AdminCommand::Ban(Some(BanOrder {
                target: UserId(target),
                secs: Some(secs),
                reason: "spam".into(),
            }))),
        }
    }

    fn told(out: &crate::engine::Outcome, user: UserId, text: Text) -> bool {
        out.sends.contains(&Outbound::Tell { user, text })
    }

    #[test]
    fn the_end_of_a_ban_is_announced_once_on_the_tick_after_it() {
        let engine = engine();
        let user = UserId(7);
        engine.handle(&ban(3600, 7), NOW);
        let early = engine.handle(&Event::Tick, Timestamp(NOW.0 + 3599));
        assert!(!told(&early, user, Text::BanExpired));
        let due = engine.handle(&Event::Tick, Timestamp(NOW.0 + 3601));
        assert!(told(&due, user, Text::BanExpired));
        let later = engine.handle(&Event::Tick, Timestamp(NOW.0 + 3700));
        assert!(!told(&later, user, Text::BanExpired));
    }

    #[test]
    fn a_lifted_or_longer_ban_is_not_announced_at_the_old_end() {
        let engine = engine();
        engine.handle(&ban(3600, 7), NOW);
        let unban = Event::Command {
            user: ADMIN,
            command: Command::Admin(AdminCommand::Unban(Some(UserId(7)))),
        };
        engine.handle(&unban, NOW);
        let tick = engine.handle(&Event::Tick, Timestamp(NOW.0 + 3601));
        assert!(!told(&tick, UserId(7), Text::BanExpired));

        engine.handle(&ban(3600, 8), NOW);
        engine.handle(&ban(7200, 8), NOW);
        let old_end = engine.handle(&Event::Tick, Timestamp(NOW.0 + 3601));
        assert!(!told(&old_end, UserId(8), Text::BanExpired));
        let new_end = engine.handle(&Event::Tick, Timestamp(NOW.0 + 7201));
        assert!(told(&new_end, UserId(8), Text::BanExpired));
    }
}
