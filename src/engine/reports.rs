//! Reports that can be handled: ids, a status, and the moderator's desk.
//!
//! Why it looks like this:
//! - Automatic bans ([`super::moderation`]) only count reports. A moderator
//!   needs to see them one by one and decide, so every report gets a
//!   [`ReportId`] and a [`ReportStatus`]: open until someone bans the
//!   reported user for it or dismisses it.
//! - The engine hands out the ids itself (the store keeps the highest one
//!   and the engine continues from it at start-up), so the record that
//!   files a report and the button that later acts on it name the same id
//!   without a round trip to the store.
//! - Acting on a report goes through the same code as the admin commands
//!   ([`Engine::ban_as_admin`]): a ban from a report is an admin ban with the
//!   default duration (`BAN_DURATION`) and the report's reason.
//! - Only open reports are kept in memory, newest last; handled ones live
//!   on in the store's history. Nobody but admins ever sees a reporter.
//!
//! Buttons under a report card carry `rep:ban:<id>` or `rep:dismiss:<id>`.

use super::admin::BanOrder;
use super::Engine;
use crate::domain::{MessageId, Timestamp, UserId};
use crate::engine::effect::{Outbound, Outcome, Record, Report};
use crate::i18n::{Arg, Text};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many open reports /reports shows at once, newest first.
pub const REPORTS_PER_LIST: usize = 10;
/// The prefix of every report button's callback data.
pub const CALLBACK_PREFIX: &str = "rep:";

/// A report's number, from 1, unique for the life of the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReportId(pub u64);

/// Where a report stands. Stored by variant index: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    Dismissed,
    /// The reported user was banned for it.
    ActedOn,
}

/// What a moderator does with an open report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportAction {
    Ban,
    Dismiss,
}

impl ReportAction {
    /// The button's callback data, e.g. `rep:ban:12`.
    pub fn callback_data(self, id: ReportId) -> String {
        let verb = match self {
            ReportAction::Ban => "ban",
            ReportAction::Dismiss => "dismiss",
        };
        format!("{CALLBACK_PREFIX}{verb}:{}", id.0)
    }

    /// The action and report a button's callback data names, if any.
    pub fn from_callback(data: &str) -> Option<(ReportAction, ReportId)> {
        let (verb, id) = data.strip_prefix(CALLBACK_PREFIX)?.split_once(':')?;
        let action = match verb {
            "ban" => ReportAction::Ban,
            "dismiss" => ReportAction::Dismiss,
            _ => return None,
        };
        Some((action, ReportId(id.parse().ok()?)))
    }
}

/// An open report as a moderator sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReport {
    pub id: ReportId,
    pub report: Report,
}

/// What handling a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The reported user is banned until then (`Timestamp(0)`: for ever).
    Banned(Timestamp),
    Dismissed,
    /// No such open report (handled already, or never filed).
    NotOpen,
}

/// The open reports and the next id.
#[derive(Default)]
pub(super) struct ReportDesk {
    open: Mutex<BTreeMap<ReportId, Report>>,
    next_id: AtomicU64,
}

impl Engine {
    /// Restores the open reports and continues numbering after `last_id`.
    pub(super) fn restore_reports(&self, open: &[OpenReport], last_id: u64) {
        let mut desk = self.reports.open.lock();
        for entry in open {
            desk.insert(entry.id, entry.report.clone());
        }
        self.reports.next_id.store(last_id + 1, Ordering::SeqCst);
    }

    /// A report another instance filed (see [`super::replica`]).
    pub(super) fn replicate_filed(&self, id: ReportId, report: &Report) {
        self.reports.open.lock().insert(id, report.clone());
        self.reports.next_id.fetch_max(id.0 + 1, Ordering::SeqCst);
    }

    /// A report another instance handled. (A reopened report is not in
    /// the record; it shows again after a restart.)
    pub(super) fn replicate_status(&self, id: ReportId, status: ReportStatus) {
        if status != ReportStatus::Open {
            self.reports.open.lock().remove(&id);
        }
    }

    /// Files `report` as open under a new id.
    pub(super) fn file(&self, report: Report, out: &mut Outcome) -> ReportId {
        let id = ReportId(self.reports.next_id.fetch_add(1, Ordering::SeqCst).max(1));
        self.reports.next_id.fetch_max(id.0 + 1, Ordering::SeqCst);
        self.reports.open.lock().insert(id, report.clone());
        out.record(Record::FiledReport { id, report });
        id
    }

    /// Up to `limit` open reports, newest first.
    pub fn open_reports(&self, limit: usize) -> Vec<OpenReport> {
        let desk = self.reports.open.lock();
        let newest = desk.iter().rev().take(limit);
        newest
            .map(|(id, report)| OpenReport {
                id: *id,
                report: report.clone(),
            })
            .collect()
    }

    /// How many reports are open.
    pub fn open_report_count(&self) -> usize {
        self.reports.open.lock().len()
    }

    /// /reports: one card per open report, with Ban and Dismiss buttons.
    pub(super) fn list_reports(&self, admin: UserId, out: &mut Outcome) {
        let open = self.open_reports(REPORTS_PER_LIST);
        if open.is_empty() {
            return out.tell(admin, Text::AdminNoOpenReports);
        }
        for entry in open {
            out.sends.push(Outbound::ReportCard { admin, entry });
        }
    }

    /// A press on a report card's button, by an admin or (refused) anyone.
    pub(super) fn report_button(
        &self,
        user: UserId,
        query_id: &str,
        card: Option<MessageId>,
        data: &str,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let pressed = ReportAction::from_callback(data).filter(|_| self.is_admin(user));
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: pressed.is_none().then_some(Text::ButtonExpired),
        });
        let Some((action, id)) = pressed else { return };
        let handled = self.handle_report(id, action, now, out);
        if let Some(message) = card {
            let (text, args) = handled_text(id, handled);
            out.sends.push(Outbound::EditReportCard {
                admin: user,
                message,
                text,
                args,
            });
        }
    }

    /// Bans for or dismisses open report `id`. The status change is
    /// recorded before anyone is told (it is in the same outcome).
    pub(super) fn handle_report(
        &self,
        id: ReportId,
        action: ReportAction,
        now: Timestamp,
        out: &mut Outcome,
    ) -> Handled {
        let Some(report) = self.reports.open.lock().remove(&id) else {
            return Handled::NotOpen;
        };
        let (status, handled) = match action {
            ReportAction::Dismiss => (ReportStatus::Dismissed, Handled::Dismissed),
            ReportAction::Ban => {
                let order = BanOrder {
                    target: report.reported,
                    secs: Some(self.moderation.ban_duration.as_secs().max(1)),
                    reason: report.reason.label().render().to_owned(),
                };
                let until = self.ban_as_admin(order, now, out);
                (ReportStatus::ActedOn, Handled::Banned(until))
            }
        };
        out.record(Record::ReportStatus { id, status });
        handled
    }
}

/// The line a report card is edited to once handled.
fn handled_text(id: ReportId, handled: Handled) -> (Text, Vec<Arg>) {
    let number = Arg::Number(id.0);
    match handled {
        Handled::Banned(until) => (Text::ReportBanned, vec![number, Arg::Until(until.0)]),
        Handled::Dismissed => (Text::ReportDismissed, vec![number]),
        Handled::NotOpen => (Text::ReportNotOpen, vec![number]),
    }
}

/// The arguments of [`Text::ReportCard`]: number, reason, reported user,
/// reporter, when. Only admins ever get this text.
pub fn card_args(entry: &OpenReport) -> Vec<Arg> {
    let report = &entry.report;
    vec![
        Arg::Number(entry.id.0),
        Arg::Plain(report.reason.label().render().to_owned()),
        Arg::Plain(report.reported.0.to_string()),
        Arg::Plain(report.reporter.0.to_string()),
        Arg::Plain(crate::i18n::utc_minute(report.at.0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_rejects_junk() {
        for action in [ReportAction::Ban, ReportAction::Dismiss] {
            let data = action.callback_data(ReportId(42));
            assert!(data.starts_with(CALLBACK_PREFIX));
            assert_eq!(
                ReportAction::from_callback(&data),
                Some((action, ReportId(42)))
            );
        }
        for junk in [
            "rep:",
            "rep:ban",
            "rep:ban:x",
            "rep:kick:1",
            "report:spam",
            "",
        ] {
            assert_eq!(ReportAction::from_callback(junk), None, "{junk:?}");
        }
    }
}
