//! Loading what moderation and matching need at start-up: every ban, the
//! reports recent enough to count towards one, the reports still open for
//! moderators, and every user's settings.
//!
//! Reports are only ever appended with the engine's clock, so their ids are
//! in time order (give or take a clock step); reading the `reports` table
//! backwards and stopping at the first report older than
//! [`RECENT_REPORTS_SECS`] keeps start-up proportional to one window, not
//! to the bot's whole history.

use super::{read, EmbeddedStore};
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::Report;
use crate::engine::{Ban, Profile};
use crate::engine::{OpenReport, ReportId, ReportStatus};
use crate::store::schema::{BANS, PROFILES, REPORTS, REPORT_STATUS};
use crate::store::{StoreError, RECENT_REPORTS_SECS};
use redb::{ReadTransaction, ReadableTable};

impl EmbeddedStore {
    pub(super) fn load_bans(
        &self,
        txn: &ReadTransaction,
    ) -> Result<Vec<(UserId, Ban)>, StoreError> {
        let table = txn.open_table(BANS).map_err(read)?;
        let mut bans = Vec::new();
        for entry in table.iter().map_err(read)? {
            let (user, raw) = entry.map_err(read)?;
            bans.push((UserId(user.value()), self.decode("bans row", raw.value())?));
        }
        Ok(bans)
    }

    /// Reports made at or after `now` minus [`RECENT_REPORTS_SECS`], oldest
    /// first.
    pub(super) fn load_recent_reports(
        &self,
        txn: &ReadTransaction,
        now: Timestamp,
    ) -> Result<Vec<Report>, StoreError> {
        let horizon = now.0.saturating_sub(RECENT_REPORTS_SECS);
        let table = txn.open_table(REPORTS).map_err(read)?;
        let mut recent = Vec::new();
        for entry in table.iter().map_err(read)?.rev() {
            let (_, raw) = entry.map_err(read)?;
            let report: Report = self.decode("reports row", raw.value())?;
            if report.at.0 < horizon {
                break;
            }
            recent.push(report);
        }
        recent.reverse();
        Ok(recent)
    }

    /// Every user's settings. A database written before settings existed
    /// has no such table until it is next opened for writing: no settings.
    pub(super) fn load_profiles(
        &self,
        txn: &ReadTransaction,
    ) -> Result<Vec<(UserId, Profile)>, StoreError> {
        let table = match txn.open_table(PROFILES) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(read(e)),
        };
        let mut profiles = Vec::new();
        for entry in table.iter().map_err(read)? {
            let (user, raw) = entry.map_err(read)?;
            profiles.push((
                UserId(user.value()),
                self.decode("profiles row", raw.value())?,
            ));
        }
        Ok(profiles)
    }

    /// Reports still open, oldest first, and the highest report id used.
    /// Scans the status table, which holds one small row per report filed
    /// since report handling began.
    pub(super) fn load_open_reports(
        &self,
        txn: &ReadTransaction,
    ) -> Result<(Vec<OpenReport>, u64), StoreError> {
        let reports = txn.open_table(REPORTS).map_err(read)?;
        let last_id = reports.last().map_err(read)?.map_or(0, |(k, _)| k.value());
        let statuses = match txn.open_table(REPORT_STATUS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok((Vec::new(), last_id)),
            Err(e) => return Err(read(e)),
        };
        let mut open = Vec::new();
        for entry in statuses.iter().map_err(read)? {
            let (id, raw) = entry.map_err(read)?;
            let status: ReportStatus = self.decode("report_status row", raw.value())?;
            if status != ReportStatus::Open {
                continue;
            }
            let Some(raw) = reports.get(id.value()).map_err(read)? else {
                continue;
            };
            open.push(OpenReport {
                id: ReportId(id.value()),
                report: self.decode("reports row", raw.value())?,
            });
        }
        Ok((open, last_id))
    }
}
