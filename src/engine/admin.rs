//! Admin commands: /admin, /stats, /ban, /unban, /warn, /maintenance,
//! /reports (handled in [`super::reports`]).
//!
//! They are parsed with their arguments here so the rules never see raw
//! text, and a malformed command becomes a variant the rules answer with a
//! usage hint instead of an error. Whether the sender may use them is the
//! engine's decision ([`super::ModerationConfig::admins`]): to everyone
//! else they are unknown commands, so their existence is not revealed.

use super::moderation::{Ban, BanReason};
use super::Engine;
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::Outcome;
use crate::engine::effect::Record;
use crate::i18n::{Arg, Text};

/// The longest reason kept with a ban or warning, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// The longest ban an admin can give that is not permanent: ten years.
const MAX_BAN_SECS: u64 = 10 * 365 * 86_400;

/// An admin command with its arguments; `None` means they were malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminCommand {
    Help,
    Stats,
    Ban(Option<BanOrder>),
    Unban(Option<UserId>),
    Warn(Option<(UserId, String)>),
    /// `/maintenance on|off`.
    Maintenance(Option<bool>),
    /// `/reports`: the latest open reports, with buttons.
    Reports,
}

/// `/ban <id> <duration|perm> <reason>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanOrder {
    pub target: UserId,
    /// Seconds; `None` is permanent.
    pub secs: Option<u64>,
    pub reason: String,
}

impl AdminCommand {
    /// The admin command called `name` (lower case) with `args`, if `name`
    /// is one.
    pub fn parse(name: &str, args: &str) -> Option<AdminCommand> {
        Some(match name {
            "admin" => AdminCommand::Help,
            "stats" => AdminCommand::Stats,
            "ban" => AdminCommand::Ban(parse_ban(args)),
            "unban" => AdminCommand::Unban(only_user(args)),
            "warn" => AdminCommand::Warn(parse_warn(args)),
            "reports" => AdminCommand::Reports,
            "maintenance" => {
                AdminCommand::Maintenance(match args.trim().to_ascii_lowercase().as_str() {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => None,
                })
            }
            _ => return None,
        })
    }
}

fn parse_ban(args: &str) -> Option<BanOrder> {
    let (target, rest) = split_word(args);
    let (duration, reason) = split_word(rest);
    Some(BanOrder {
        target: user_id(target)?,
        secs: duration_secs(duration)?,
        reason: reason_text(reason)?,
    })
}

fn parse_warn(args: &str) -> Option<(UserId, String)> {
    let (target, reason) = split_word(args);
    Some((user_id(target)?, reason_text(reason)?))
}

fn only_user(args: &str) -> Option<UserId> {
    let (target, rest) = split_word(args);
    rest.is_empty().then_some(())?;
    user_id(target)
}

/// The first word and the trimmed rest.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

fn user_id(word: &str) -> Option<UserId> {
    word.parse::<i64>().ok().filter(|id| *id > 0).map(UserId)
}

/// `30m`, `12h`, `7d` (or `45s`) → `Some(Some(secs))`; `perm` →
/// `Some(None)`; anything else → `None`.
pub fn duration_secs(word: &str) -> Option<Option<u64>> {
    let word = word.to_ascii_lowercase();
    if matches!(word.as_str(), "perm" | "permanent" | "forever") {
        return Some(None);
    }
    let unit = match word.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let count: u64 = word[..word.len() - 1].parse().ok()?;
    let secs = count.checked_mul(unit)?;
    (1..=MAX_BAN_SECS).contains(&secs).then_some(Some(secs))
}

/// A non-empty reason, cut to [`MAX_REASON_CHARS`].
fn reason_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_REASON_CHARS).collect())
}

impl Engine {
    /// Runs an admin command for `user`, or answers as for an unknown
    /// command if they are not an admin.
    pub(super) fn admin(
        &self,
        user: UserId,
        command: AdminCommand,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        if !self.is_admin(user) {
            return out.tell(user, Text::UnknownCommand);
        }
        match command {
            AdminCommand::Help => out.tell(user, Text::AdminHelp),
            AdminCommand::Stats => self.admin_stats(user, now, out),
            AdminCommand::Ban(Some(order)) => self.admin_ban(user, order, now, out),
            AdminCommand::Ban(None) => out.tell(user, Text::AdminBanUsage),
            AdminCommand::Unban(Some(target)) => self.admin_unban(user, target, now, out),
            AdminCommand::Unban(None) => out.tell(user, Text::AdminUnbanUsage),
            AdminCommand::Warn(Some((target, reason))) => {
                out.tell_with(target, Text::Warned, vec![Arg::Plain(reason)]);
                out.tell(user, Text::AdminWarnDone);
            }
            AdminCommand::Warn(None) => out.tell(user, Text::AdminWarnUsage),
            AdminCommand::Maintenance(Some(on)) => {
                self.maintenance
                    .store(on, std::sync::atomic::Ordering::SeqCst);
                out.record(Record::Maintenance { on });
                let done = if on {
                    Text::AdminMaintenanceOn
                } else {
                    Text::AdminMaintenanceOff
                };
                out.tell(user, done);
            }
            AdminCommand::Maintenance(None) => out.tell(user, Text::AdminMaintenanceUsage),
            AdminCommand::Reports => self.list_reports(user, out),
        }
    }

    pub(super) fn is_admin(&self, user: UserId) -> bool {
        self.moderation.admins.contains(&user)
    }

    fn admin_stats(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let (searching, chats) = self.counts();
        let bans = self.bans_in_force(now);
        let args = [searching, chats, bans].map(|n| Arg::Number(n as u64));
        out.tell_with(user, Text::AdminStats, args.into());
    }

    fn admin_ban(&self, user: UserId, order: BanOrder, now: Timestamp, out: &mut Outcome) {
        let until = self.ban_as_admin(order, now, out);
        out.tell_with(user, Text::AdminBanDone, vec![Arg::Until(until.0)]);
    }

    fn admin_unban(&self, user: UserId, target: UserId, now: Timestamp, out: &mut Outcome) {
        if !self.unban_as_admin(target, now, out) {
            return out.tell(user, Text::AdminNotBanned);
        }
        out.tell(user, Text::AdminUnbanDone);
    }

    /// A moderator's ban, from /ban, a report button or the dashboard:
    /// records it, ends the target's chat or search and tells them why and
    /// until when. Returns the end (`Timestamp(0)`: never).
    pub(super) fn ban_as_admin(
        &self,
        order: BanOrder,
        now: Timestamp,
        out: &mut Outcome,
    ) -> Timestamp {
        let until = order.secs.map_or(Timestamp(0), |secs| {
            Timestamp(now.0.saturating_add(secs).max(1))
        });
        let count = self.ban_count(order.target) + 1;
        let ban = Ban {
            until,
            count,
            reason: BanReason::Admin(order.reason.clone()),
        };
        self.impose(order.target, ban, now, out);
        let args = vec![Arg::Until(until.0), Arg::Plain(order.reason)];
        out.tell_with(order.target, Text::BannedByAdmin, args);
        until
    }

    /// A moderator's unban: lifts a ban in force and tells the user.
    /// Returns false if there was none.
    pub(super) fn unban_as_admin(&self, target: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let lifted = self.lift(target, now, out);
        if lifted {
            out.tell(target, Text::Unbanned);
        }
        lifted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_secs("30m"), Some(Some(1800)));
        assert_eq!(duration_secs("12h"), Some(Some(43_200)));
        assert_eq!(duration_secs("7D"), Some(Some(604_800)));
        assert_eq!(duration_secs("perm"), Some(None));
        for bad in [
            "",
            "m",
            "0h",
            "abc",
            "12x",
            "-3d",
            "99999999999999999d",
            "1é",
        ] {
            assert_eq!(duration_secs(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn arguments() {
        let ban = AdminCommand::parse("ban", " 42  7d  spam  links ");
        let order = BanOrder {
            target: UserId(42),
            secs: Some(604_800),
            reason: "spam  links".into(),
        };
        assert_eq!(ban, Some(AdminCommand::Ban(Some(order))));
        assert_eq!(
            AdminCommand::parse("ban", "abc"),
            Some(AdminCommand::Ban(None))
        );
        assert_eq!(
            AdminCommand::parse("ban", "42 7d"),
            Some(AdminCommand::Ban(None)),
            "a reason is required"
        );
        assert_eq!(
            AdminCommand::parse("unban", "42"),
            Some(AdminCommand::Unban(Some(UserId(42))))
        );
        assert_eq!(
            AdminCommand::parse("unban", "42 43"),
            Some(AdminCommand::Unban(None))
        );
        assert_eq!(
            AdminCommand::parse("warn", "-5 be nice"),
            Some(AdminCommand::Warn(None))
        );
        let long = "x".repeat(1000);
        let Some(AdminCommand::Warn(Some((_, reason)))) =
            AdminCommand::parse("warn", &format!("5 {long}"))
        else {
            panic!("a long reason is cut, not refused");
        };
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
        assert_eq!(AdminCommand::parse("frobnicate", ""), None);
    }
}
