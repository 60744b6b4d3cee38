//! Moderation: reports with a reason, automatic bans, and what a ban does.
//!
//! Why it looks like this:
//! - A report needs a reason so moderators can tell spam from abuse, but
//!   typing one is friction; /report offers buttons, and the reason chosen
//!   applies to whoever is the current or last partner *at that moment*
//!   (the chat may have ended between the question and the answer).
//! - Nobody moderates around the clock, so enough **distinct** reporters
//!   within [`ModerationConfig::report_window`] ban a user for a while. One
//!   angry user reporting five times counts once; a report made while the
//!   user is already banned counts for nothing, and a ban consumes the
//!   reports that caused it, so the next ban needs fresh ones.
//! - A repeat ban lasts longer (twice as long each time, capped), so a
//!   habitual offender can't just wait a day.
//! - A ban must not reveal who reported or even that there was a ban: the
//!   partner of a banned user sees the ordinary "partner left" notice.
//!
//! Bans are kept after they expire (in memory and in the `bans` table) so
//! the next one can be longer; there is one entry per user ever banned.
//! Recent reports are kept per reported user and swept on a tick once a
//! minute, so memory follows the reports of one window.

use super::Engine;
use super::UserMap;
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::{Counter, Outbound, Outcome, Record, Report};
use crate::i18n::{Arg, Text};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Default of [`ModerationConfig::report_ban_threshold`].
pub const DEFAULT_REPORT_BAN_THRESHOLD: u32 = 3;
/// Default of [`ModerationConfig::report_window`], in seconds: a day.
pub const DEFAULT_REPORT_WINDOW_SECS: u64 = 24 * 3600;
/// Default of [`ModerationConfig::ban_duration`], in seconds: a day.
pub const DEFAULT_BAN_DURATION_SECS: u64 = 24 * 3600;
/// The longest an automatic ban grows to by doubling: 30 days (or the base
/// duration, if that is longer).
pub const MAX_AUTO_BAN_SECS: u64 = 30 * 24 * 3600;
/// How often stale reports are swept, at most.
const SWEEP_EVERY_SECS: u64 = 60;

/// Who may moderate and when reports turn into bans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModerationConfig {
    /// Distinct reporters within `report_window` that ban a user; 0 turns
    /// automatic bans off.
    pub report_ban_threshold: u32,
    /// How long a report counts towards a ban.
    pub report_window: Duration,
    /// How long a first automatic ban lasts; each repeat doubles it.
    pub ban_duration: Duration,
    /// Users who may use the admin commands.
    pub admins: Vec<UserId>,
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            report_ban_threshold: DEFAULT_REPORT_BAN_THRESHOLD,
            report_window: Duration::from_secs(DEFAULT_REPORT_WINDOW_SECS),
            ban_duration: Duration::from_secs(DEFAULT_BAN_DURATION_SECS),
            admins: Vec::new(),
        }
    }
}

/// Why a user reported their partner. Stored with the report by variant
/// index: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportReason {
    Spam,
    Abuse,
    Nudity,
    Underage,
    Scam,
    Other,
}

impl ReportReason {
    /// Every reason, in the order the buttons show them.
    pub const ALL: [ReportReason; 6] = [
        ReportReason::Spam,
        ReportReason::Abuse,
        ReportReason::Nudity,
        ReportReason::Underage,
        ReportReason::Scam,
        ReportReason::Other,
    ];

    /// The button label.
    pub fn label(self) -> Text {
        match self {
            ReportReason::Spam => Text::ReasonSpam,
            ReportReason::Abuse => Text::ReasonAbuse,
            ReportReason::Nudity => Text::ReasonNudity,
            ReportReason::Underage => Text::ReasonUnderage,
            ReportReason::Scam => Text::ReasonScam,
            ReportReason::Other => Text::ReasonOther,
        }
    }

    fn code(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Abuse => "abuse",
            ReportReason::Nudity => "nudity",
            ReportReason::Underage => "underage",
            ReportReason::Scam => "scam",
            ReportReason::Other => "other",
        }
    }

    /// The button's callback data, e.g. `report:spam`.
    pub fn callback_data(self) -> String {
        format!("report:{}", self.code())
    }

    /// The reason a button's callback data names, if it names one.
    pub fn from_callback(data: &str) -> Option<ReportReason> {
        let code = data.strip_prefix("report:")?;
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }
}

/// A user's ban: the current one, or the last one if it has expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    /// When it ends; `Timestamp(0)` means never.
    pub until: Timestamp,
    /// How many times this user has been banned, this ban included.
    pub count: u32,
    pub reason: BanReason,
}

/// Why a user was banned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BanReason {
    /// Enough distinct users reported them.
    Reports,
    /// An admin's /ban, with the reason they gave.
    Admin(String),
}

impl Ban {
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.until.0 == 0 || now < self.until
    }
}

/// The engine's moderation state.
#[derive(Default)]
pub(super) struct Sanctions {
    /// Every user ever banned (and not unbanned), with their latest ban.
    bans: UserMap<Ban>,
    /// Reported user → (reporter, latest report) within the window, one
    /// entry per reporter.
    reports: UserMap<Vec<(UserId, Timestamp)>>,
    next_sweep: AtomicU64,
}

impl Engine {
    /// Restores bans and the reports that may still count towards one.
    pub(super) fn restore_sanctions(&self, bans: &[(UserId, Ban)], reports: &[Report]) {
        for (user, ban) in bans {
            self.sanctions.bans.insert(*user, ban.clone());
            self.watch_ban_end(*user, ban);
        }
        for report in reports {
            let consumed = self
                .sanctions
                .bans
                .get(&report.reported)
                .is_some_and(|ban| ban.until.0 == 0 || report.at <= ban.until);
            if !consumed {
                let mut entry = self.sanctions.reports.entry(report.reported).or_default();
                entry.retain(|(reporter, _)| *reporter != report.reporter);
                entry.push((report.reporter, report.at));
            }
        }
    }

    /// /report: asks why, if there is someone to report.
    pub(super) fn ask_report(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        match self.reportable_partner(user, now) {
            Some(_) => out.sends.push(Outbound::AskReportReason { user }),
            None => out.tell(user, Text::NothingToReport),
        }
    }

    /// A button press. Only report reasons are understood; anything else
    /// gets a polite answer.
    pub(super) fn callback(
        &self,
        user: UserId,
        query_id: &str,
        data: &str,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        if let Some(position) = data.strip_prefix(super::captcha::CALLBACK_PREFIX) {
            return self.captcha_answer(user, query_id, position, now, out);
        }
        if data == super::broadcast::CALLBACK_STOP {
            return self.stop_broadcast(user, query_id, out);
        }
        let reason = ReportReason::from_callback(data);
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: reason.is_none().then_some(Text::ButtonExpired),
        });
        if let Some(reason) = reason {
            self.file_report(user, reason, now, out);
        }
    }

    /// Records a report against `user`'s current or last partner, and bans
    /// them if it is the last one needed.
    fn file_report(&self, user: UserId, reason: ReportReason, now: Timestamp, out: &mut Outcome) {
        let Some(reported) = self.reportable_partner(user, now) else {
            return out.tell(user, Text::NothingToReport);
        };
        let report = Report {
            reporter: user,
            reported,
            at: now,
            reason,
        };
        self.file(report, out);
        out.record(Record::Count {
            counter: Counter::Reports,
            delta: 1,
        });
        out.tell(user, Text::ReportThanks);
        if self.count_report(reported, user, now) {
            self.auto_ban(reported, now, out);
        }
    }

    /// Counts `reporter`'s report against `reported`. Returns true if that
    /// makes enough distinct reporters for a ban; those reports are then
    /// used up. Decided under the entry's lock, so only one report bans.
    fn count_report(&self, reported: UserId, reporter: UserId, now: Timestamp) -> bool {
        let threshold = self.moderation.report_ban_threshold as usize;
        if threshold == 0 || self.ban_in_force(reported, now).is_some() {
            return false;
        }
        let window = self.moderation.report_window.as_secs();
        let mut entry = self.sanctions.reports.entry(reported).or_default();
        entry.retain(|(who, at)| *who != reporter && at.0.saturating_add(window) > now.0);
        entry.push((reporter, now));
        let reached = entry.len() >= threshold;
        if reached {
            entry.clear();
        }
        reached
    }

    fn auto_ban(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let count = self.ban_count(user).saturating_add(1);
        let until = Timestamp(now.0.saturating_add(self.auto_ban_secs(count)));
        let ban = Ban {
            until,
            count,
            reason: BanReason::Reports,
        };
        self.impose(user, ban, now, out);
        out.tell_with(user, Text::BannedByReports, vec![Arg::Until(until.0)]);
    }

    /// The length of the `count`th automatic ban: the base duration,
    /// doubled for each earlier ban, capped.
    fn auto_ban_secs(&self, count: u32) -> u64 {
        let base = self.moderation.ban_duration.as_secs().max(1);
        let doublings = count.saturating_sub(1).min(32);
        base.saturating_mul(1 << doublings)
            .min(MAX_AUTO_BAN_SECS.max(base))
    }

    /// Bans `user`: records it, ends their chat (the partner is told only
    /// that they left) or search. Telling `user` is the caller's part.
    pub(super) fn impose(&self, user: UserId, ban: Ban, now: Timestamp, out: &mut Outcome) {
        self.sanctions.bans.insert(user, ban.clone());
        self.watch_ban_end(user, &ban);
        out.record(Record::Ban { user, ban });
        self.drop_unreachable(user, now, out);
    }

    /// A ban another instance recorded (see [`super::replica`]); the
    /// reports that led to it are spent. Its end is announced by the
    /// instance that imposed it, so not put on this one's clock.
    pub(super) fn replicate_ban(&self, user: UserId, ban: &Ban) {
        self.sanctions.bans.insert(user, ban.clone());
        self.sanctions.reports.remove(&user);
    }

    /// An unban another instance recorded (the ended ban follows it).
    pub(super) fn replicate_unban(&self, user: UserId) {
        self.sanctions.bans.remove(&user);
    }

    /// Lifts `user`'s ban if one is in force. Their history stays: the ban
    /// is kept as one that ended `now`, so a later ban still counts as a
    /// repeat and lasts longer (an unban forgives this ban, not the past).
    pub(super) fn lift(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let Some(mut ban) = self.sanctions.bans.get_mut(&user) else {
            return false;
        };
        if !ban.in_force(now) {
            return false;
        }
        ban.until = Timestamp(now.0.max(1));
        let ended = ban.clone();
        drop(ban);
        // `Unban` says what happened (the dashboard reads it); the ended
        // `Ban` after it keeps the history in the store.
        out.record(Record::Unban { user });
        out.record(Record::Ban { user, ban: ended });
        true
    }

    /// When `user`'s ban in force ends (`Timestamp(0)`: never), if they have one.
    pub fn ban_in_force(&self, user: UserId, now: Timestamp) -> Option<Timestamp> {
        let ban = self.sanctions.bans.get(&user)?;
        ban.in_force(now).then_some(ban.until)
    }

    /// Refuses /chat and /next to a banned user, telling them until when.
    pub(super) fn refuse_banned(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let Some(until) = self.ban_in_force(user, now) else {
            return false;
        };
        out.tell_with(user, Text::StillBanned, vec![Arg::Until(until.0)]);
        true
    }

    /// `user`'s latest ban, in force or not.
    pub(super) fn sanctions_ban(&self, user: UserId) -> Option<Ban> {
        self.sanctions.bans.get(&user).map(|ban| ban.clone())
    }

    /// How many bans `user` has had.
    pub(super) fn ban_count(&self, user: UserId) -> u32 {
        self.sanctions.bans.get(&user).map_or(0, |ban| ban.count)
    }

    /// How many bans are in force at `now`.
    pub fn bans_in_force(&self, now: Timestamp) -> usize {
        let bans = self.sanctions.bans.iter();
        bans.filter(|entry| entry.value().in_force(now)).count()
    }

    /// Every ban in force at `now`, soonest to end first (permanent last).
    pub fn bans_list(&self, now: Timestamp) -> Vec<(UserId, Ban)> {
        let bans = self.sanctions.bans.iter();
        let mut list: Vec<_> = bans
            .filter(|entry| entry.value().in_force(now))
            .map(|entry| (*entry.key(), entry.value().clone()))
            .collect();
        list.sort_by_key(|(user, ban)| (ban.until.0.wrapping_sub(1), *user));
        list
    }

    /// Forgets reports older than the window, at most once a minute.
    pub(super) fn sweep_reports(&self, now: Timestamp) {
        let due = self.sanctions.next_sweep.load(Ordering::Relaxed);
        if now.0 < due {
            return;
        }
        let next = now.0.saturating_add(SWEEP_EVERY_SECS);
        let claimed = self.sanctions.next_sweep.compare_exchange(
            due,
            next,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        if claimed.is_err() {
            return; // another tick is sweeping
        }
        let window = self.moderation.report_window.as_secs();
        self.sanctions.reports.retain(|_, reports| {
            reports.retain(|(_, at)| at.0.saturating_add(window) > now.0);
            !reports.is_empty()
        });
    }

    /// How many users have reports that may still count.
    pub fn reported_users(&self) -> usize {
        self.sanctions.reports.len()
    }
}
