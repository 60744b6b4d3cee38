//! Admin actions that arrive from the HTTP dashboard rather than Telegram.
//!
//! The dashboard has no Telegram user behind it, so its actions are an
//! event of their own ([`Event::Dashboard`](super::Event)), but they run the
//! very code the admin commands and report buttons run: a ban tells the
//! banned user why and until when, an unban tells them it was lifted, and
//! every change is a record in the outcome, committed by the shell before
//! the page says "done". What the page shows as the result is read off the
//! outcome's records ([`Verdict::of`]), so it can't claim more than was
//! committed.

use super::admin::BanOrder;
use super::reports::{ReportAction, ReportId};
use super::Engine;
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::{Outcome, Record};

/// One thing a moderator does on the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DashboardAction {
    /// Like `/ban <id> <duration|perm> <reason>`.
    Ban(BanOrder),
    /// Like `/unban <id>`.
    Unban(UserId),
    /// Like pressing a report card's button.
    Report(ReportId, ReportAction),
}

/// What an action changed, as its committed records say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A ban until then (`Timestamp(0)`: for ever).
    Banned(Timestamp),
    Unbanned,
    Dismissed,
    /// Nothing to do: not banned, or the report was handled already.
    Unchanged,
}

impl Verdict {
    /// Reads the result off an outcome of [`Engine::dashboard`].
    pub fn of(outcome: &Outcome) -> Verdict {
        for record in &outcome.records {
            match record {
                Record::Ban { ban, .. } => return Verdict::Banned(ban.until),
                Record::Unban { .. } => return Verdict::Unbanned,
                Record::ReportStatus { .. } => return Verdict::Dismissed,
                _ => {}
            }
        }
        Verdict::Unchanged
    }
}

impl Engine {
    pub(super) fn dashboard(&self, action: &DashboardAction, now: Timestamp, out: &mut Outcome) {
        match action {
            DashboardAction::Ban(order) => {
                self.ban_as_admin(order.clone(), now, out);
            }
            DashboardAction::Unban(target) => {
                self.unban_as_admin(*target, now, out);
            }
            DashboardAction::Report(id, action) => {
                self.handle_report(*id, *action, now, out);
            }
        }
    }
}
