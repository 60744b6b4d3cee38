//! The embedded store's side of `randchat export`: every table, from one
//! read transaction, as [`Item`]s in a fixed order.
//!
//! One read transaction makes the export as consistent as a backup (redb's
//! MVCC snapshot), and table key order makes it deterministic, so two
//! exports of the same data are byte for byte the same. Items are streamed
//! through a bounded channel, so a large database is never held in memory.

use super::super::export::Item;
use super::super::schema::{
    UserRow, ALBUMS, COUNTERS, LAST_PARTNER, LINKS, META, META_LAST_UPDATE_ID, META_MAINTENANCE,
    REPORTS, REPORT_STATUS, USERS, WAITING,
};
use super::super::StoreError;
use super::{pairs_once, read, EmbeddedStore};
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Report};
use crate::engine::ReportStatus;
use redb::{ReadTransaction, ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;
use tokio::sync::mpsc::Sender;

impl EmbeddedStore {
    /// Sends every item to `sink`. Blocking: run it on a blocking thread.
    pub(super) fn export_blocking(&self, sink: &Sender<Item>) -> Result<(), StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let send = |item: Item| {
            sink.blocking_send(item)
                .map_err(|_| StoreError::Read("the export was abandoned".into()))
        };
        let meta = txn.open_table(META).map_err(read)?;
        let last_update_id = match meta.get(META_LAST_UPDATE_ID).map_err(read)? {
            Some(raw) => Some(self.decode::<i64>("last_update_id", raw.value())?),
            None => None,
        };
        let maintenance = match meta.get(META_MAINTENANCE).map_err(read)? {
            Some(raw) => self.decode::<bool>("maintenance", raw.value())?,
            None => false,
        };
        send(Item::Meta {
            last_update_id,
            maintenance,
        })?;
        for entry in txn.open_table(USERS).map_err(read)?.iter().map_err(read)? {
            let (user, raw) = entry.map_err(read)?;
            let row: UserRow = self.decode("users row", raw.value())?;
            send(Item::User {
                user: UserId(user.value()),
                first_seen: Timestamp(row.first_seen),
                last_seen: Timestamp(row.last_seen),
            })?;
        }
        for entry in txn
            .open_table(COUNTERS)
            .map_err(read)?
            .iter()
            .map_err(read)?
        {
            let (name, value) = entry.map_err(read)?;
            send(Item::Counter {
                name: name.value().to_owned(),
                value: value.value(),
            })?;
        }
        for (a, b, since) in pairs_once(&txn)? {
            send(Item::Pair { a, b, since })?;
        }
        for entry in txn
            .open_table(WAITING)
            .map_err(read)?
            .iter()
            .map_err(read)?
        {
            let (ticket, value) = entry.map_err(read)?;
            let (user, since) = value.value();
            send(Item::Waiting {
                ticket: Ticket(ticket.value()),
                user: UserId(user),
                since: Timestamp(since),
            })?;
        }
        for entry in txn
            .open_table(LAST_PARTNER)
            .map_err(read)?
            .iter()
            .map_err(read)?
        {
            let (user, value) = entry.map_err(read)?;
            let (partner, ended_at) = value.value();
            send(Item::LastPartner {
                user: UserId(user.value()),
                partner: UserId(partner),
                ended_at: Timestamp(ended_at),
            })?;
        }
        let statuses = self.report_statuses(&txn)?;
        for entry in txn
            .open_table(REPORTS)
            .map_err(read)?
            .iter()
            .map_err(read)?
        {
            let (id, raw) = entry.map_err(read)?;
            let report: Report = self.decode("reports row", raw.value())?;
            let id = id.value();
            send(Item::Report {
                report,
                id: Some(id),
                status: statuses.get(&id).copied(),
            })?;
        }
        for (user, ban) in self.load_bans(&txn)? {
            send(Item::Ban { user, ban })?;
        }
        for (user, profile) in self.load_profiles(&txn)? {
            send(Item::Profile { user, profile })?;
        }
        self.export_links(&txn, &send)?;
        for entry in txn.open_table(ALBUMS).map_err(read)?.iter().map_err(read)? {
            let (user, raw) = entry.map_err(read)?;
            let (group, parts, since) =
                self.decode::<(String, Vec<i32>, u64)>("album", raw.value())?;
            send(Item::Album {
                user: UserId(user.value()),
                group,
                parts: parts.into_iter().map(MessageId).collect(),
                since: Timestamp(since),
            })?;
        }
        // Sends are few (those not yet performed), so they are gathered
        // from their rows and put in order in memory.
        for (seq, outbound) in self.load_outbox(&txn)? {
            send(Item::Outbox {
                seq,
                send: outbound,
            })?;
        }
        if let Some(broadcast) = self.load_broadcast(&txn)? {
            send(Item::Broadcast { broadcast })?;
        }
        Ok(())
    }

    /// Every filed report's status, by id (none in a file from before
    /// reports had one).
    fn report_statuses(
        &self,
        txn: &ReadTransaction,
    ) -> Result<BTreeMap<u64, ReportStatus>, StoreError> {
        let table = match txn.open_table(REPORT_STATUS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeMap::new()),
            Err(e) => return Err(read(e)),
        };
        let mut statuses = BTreeMap::new();
        for entry in table.iter().map_err(read)? {
            let (id, raw) = entry.map_err(read)?;
            statuses.insert(id.value(), self.decode("report_status row", raw.value())?);
        }
        Ok(statuses)
    }

    /// Each link once, from its original's side.
    fn export_links(
        &self,
        txn: &ReadTransaction,
        send: &impl Fn(Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in txn.open_table(LINKS).map_err(read)?.iter().map_err(read)? {
            let (key, value) = entry.map_err(read)?;
            let ((chat, message), (copy_chat, copy_message, at, original)) =
                (key.value(), value.value());
            if original {
                send(Item::Link {
                    original: Counterpart {
                        chat: UserId(chat),
                        message: MessageId(message),
                    },
                    copy: Counterpart {
                        chat: UserId(copy_chat),
                        message: MessageId(copy_message),
                    },
                    at: Timestamp(at),
                })?;
            }
        }
        Ok(())
    }
}
