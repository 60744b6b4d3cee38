//! Backups of the embedded store: a consistent copy taken while the bot
//! keeps writing, and a check that a file is a usable randchat database.
//!
//! Why table by table rather than copying the file: redb writes in place, so
//! a byte copy taken mid-commit can be torn. A read transaction is an MVCC
//! snapshot instead: it sees exactly the last committed state, and writers
//! carry on while it is open. Copying every table from one read transaction
//! into a fresh redb file gives a backup that is as consistent as any commit,
//! and compact too (no free pages).
//!
//! The copy names each table of [`super::schema`]. So a new table cannot be
//! forgotten silently, the copy lists the tables the source holds and fails
//! if one of them was not copied.

use super::super::schema::{
    UserRow, ALBUMS, BANS, COUNTERS, LAST_PARTNER, LINKS, META, META_LAST_UPDATE_ID,
    META_SCHEMA_VERSION, OUTBOX_ROWS, PAIRS, PROFILES, REPORTS, REPORT_STATUS, SCHEMA_VERSION,
    USERS, WAITING,
};
use super::super::{Stats, StoreError};
use super::outbox::OutboxIndex;
use super::{classify, panic_message, read, EmbeddedStore, CACHE_SIZE};
use crate::engine::effect::Report;
use crate::engine::ReportStatus;
use parking_lot::{Mutex, RwLock};
use redb::{
    Builder, Key, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle,
    Value, WriteTransaction,
};
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::AtomicBool;

impl EmbeddedStore {
    /// A store on an open file, without the schema preparation of `open`
    /// (which may write): for reading files that are not ours to change.
    fn unprepared(db: redb::Database, path: &Path) -> Self {
        EmbeddedStore {
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
            path: path.to_path_buf(),
            // Read from the file if ever needed: it is not ours to write.
            outbox: Mutex::new(OutboxIndex::stale()),
        }
    }

    /// Decodes every value of a table of postcard rows.
    fn decode_rows<K: Key + 'static, T: serde::de::DeserializeOwned>(
        &self,
        txn: &ReadTransaction,
        table: TableDefinition<K, &[u8]>,
        what: &str,
    ) -> Result<(), StoreError> {
        for row in txn.open_table(table).map_err(read)?.iter().map_err(read)? {
            self.decode::<T>(what, row.map_err(read)?.1.value())?;
        }
        Ok(())
    }

    /// Writes a consistent copy of the whole database to `dest`, which must
    /// not exist yet, and returns the counts it holds. Blocking; commits go
    /// on meanwhile. `dest` is complete and synced when this returns `Ok`;
    /// on error it may be left half-written, for the caller to remove.
    pub fn write_snapshot(&self, dest: &Path) -> Result<Stats, StoreError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dest)
            .map_err(|e| StoreError::Write(format!("cannot create {}: {e}", dest.display())))?;
        let copy = Builder::new()
            .create_file(file)
            .map_err(|e| StoreError::Write(format!("{}: {e}", dest.display())))?;
        let source = self.with_db(|db| db.begin_read().map_err(read))?;
        let target = copy.begin_write().map_err(write_to(dest))?;
        copy_tables(&source, &target, dest)?;
        target.commit().map_err(write_to(dest))?;
        drop(source);
        Self::unprepared(copy, dest).verify()
    }

    /// Reads every row of every table, decoding the encoded ones, and
    /// returns the counts. Catches damage that opening alone does not.
    fn verify(&self) -> Result<Stats, StoreError> {
        self.verify_rows().map_err(|e| match e {
            // A missing table or unreadable page: say which file.
            StoreError::Read(detail) => self.corrupt("cannot read it", detail),
            e => e,
        })
    }

    fn verify_rows(&self) -> Result<Stats, StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let meta = txn.open_table(META).map_err(read)?;
        let version = meta
            .get(META_SCHEMA_VERSION)
            .map_err(read)?
            .ok_or_else(|| self.corrupt("meta", "no schema version; not a randchat database?"))?;
        let version: u32 = self.decode("schema version", version.value())?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if let Some(raw) = meta.get(META_LAST_UPDATE_ID).map_err(read)? {
            self.decode::<i64>("last_update_id", raw.value())?;
        }
        self.decode_rows::<i64, UserRow>(&txn, USERS, "users row")?;
        self.decode_rows::<u64, Report>(&txn, REPORTS, "reports row")?;
        self.decode_rows::<u64, ReportStatus>(&txn, REPORT_STATUS, "report_status row")?;
        drop((meta, txn));
        // Loading decodes every outbox row, of either schema's table.
        self.load_blocking()?;
        self.stats_blocking()
    }
}

/// Opens a database file that no process is using (a backup, or a copy of
/// one), checks it as [`EmbeddedStore::write_snapshot`] does, and returns
/// its counts. A file from an older schema passes: the bot migrates it when
/// it opens it. Opening may let redb repair a file that was not closed
/// cleanly, so point this at a copy when the original must stay untouched.
pub fn verify_file(path: &Path) -> Result<Stats, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Open {
            path: path.to_path_buf(),
            detail: "no such file".into(),
        });
    }
    // As in `EmbeddedStore::open`: damaged pages can make redb panic.
    let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let db = Builder::new()
            .set_cache_size(CACHE_SIZE)
            .open(path)
            .map_err(|e| classify(path, e))?;
        EmbeddedStore::unprepared(db, path).verify()
    }));
    checked.unwrap_or_else(|panic| {
        Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("redb panicked reading it: {}", panic_message(&*panic)),
        })
    })
}

fn copy_tables(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    dest: &Path,
) -> Result<(), StoreError> {
    let mut copied = BTreeSet::new();
    copy_table(src, dst, META, dest, &mut copied)?;
    copy_table(src, dst, USERS, dest, &mut copied)?;
    copy_table(src, dst, PAIRS, dest, &mut copied)?;
    copy_table(src, dst, WAITING, dest, &mut copied)?;
    copy_table(src, dst, LAST_PARTNER, dest, &mut copied)?;
    copy_table(src, dst, OUTBOX_ROWS, dest, &mut copied)?;
    copy_table(src, dst, LINKS, dest, &mut copied)?;
    copy_table(src, dst, ALBUMS, dest, &mut copied)?;
    copy_table(src, dst, BANS, dest, &mut copied)?;
    copy_table(src, dst, REPORTS, dest, &mut copied)?;
    copy_table(src, dst, COUNTERS, dest, &mut copied)?;
    copy_table(src, dst, PROFILES, dest, &mut copied)?;
    copy_table(src, dst, REPORT_STATUS, dest, &mut copied)?;
    let present = src.list_tables().map_err(read)?;
    let present: Vec<String> = present.map(|t| t.name().to_owned()).collect();
    if let Some(missed) = present.iter().find(|name| !copied.contains(*name)) {
        return Err(StoreError::Write(format!(
            "the backup does not know table {missed:?}; this randchat is older than its database"
        )));
    }
    Ok(())
}

fn copy_table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    table: TableDefinition<K, V>,
    dest: &Path,
    copied: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let from = src.open_table(table).map_err(read)?;
    let mut to = dst.open_table(table).map_err(write_to(dest))?;
    for entry in from.iter().map_err(read)? {
        let (key, value) = entry.map_err(read)?;
        to.insert(key.value(), value.value())
            .map_err(write_to(dest))?;
    }
    copied.insert(table.name().to_owned());
    Ok(())
}

fn write_to<E: Into<redb::Error>>(dest: &Path) -> impl Fn(E) -> StoreError + '_ {
    move |e| StoreError::Write(format!("{}: {}", dest.display(), e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Ticket, Timestamp, UserId};
    use crate::engine::effect::{Counter, Record};
    use crate::store::{Backend, Batch};
    use redb::Database;
    use std::sync::Arc;

    fn batch(records: Vec<Record>) -> Batch {
        Batch {
            records,
            last_update_id: Some(42),
            ..Batch::default()
        }
    }

    async fn populated(dir: &Path) -> Arc<EmbeddedStore> {
        let store = EmbeddedStore::open(dir).unwrap();
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let t = Timestamp(1_700_000_000);
        let records = vec![
            Record::Seen { user: a, at: t },
            Record::Seen { user: b, at: t },
            Record::Seen { user: c, at: t },
            Record::Pair { a, b, since: t },
            Record::Enqueue {
                ticket: Ticket(7),
                user: c,
                since: t,
            },
            Record::Report(Report {
                reporter: a,
                reported: b,
                at: t,
                reason: crate::engine::ReportReason::Spam,
            }),
            Record::Count {
                counter: Counter::Matches,
                delta: 1,
            },
        ];
        store.clone().commit(batch(records)).await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_snapshot_holds_everything_and_reopens_as_a_store() {
        let live = tempfile::tempdir().unwrap();
        let store = populated(live.path()).await;
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("randchat.redb");
        let stats = store.write_snapshot(&dest).unwrap();
        assert_eq!((stats.users, stats.pairs, stats.waiting), (3, 1, 1));
        assert_eq!(stats.reports, 1);
        assert_eq!(stats, store.clone().stats().await.unwrap());
        assert_eq!(verify_file(&dest).unwrap(), stats);

        let copy = EmbeddedStore::open(out.path()).unwrap();
        let (original, restored) = (store.clone().load().await, copy.clone().load().await);
        assert_eq!(original.unwrap(), restored.unwrap());
    }

    #[tokio::test]
    async fn a_snapshot_never_overwrites_and_sees_only_committed_state() {
        let live = tempfile::tempdir().unwrap();
        let store = populated(live.path()).await;
        let dest = live.path().join("taken.redb");
        std::fs::write(&dest, b"precious").unwrap();
        assert!(store.write_snapshot(&dest).is_err());
        assert_eq!(std::fs::read(&dest).unwrap(), b"precious");

        // A write transaction left open is not in the snapshot.
        let open_write = store.with_db(|db| Ok(db.begin_write().unwrap())).unwrap();
        open_write
            .open_table(COUNTERS)
            .unwrap()
            .insert("uncommitted", 1)
            .unwrap();
        let dest = live.path().join("snap.redb");
        let stats = store.write_snapshot(&dest).unwrap();
        assert!(stats.counters.iter().all(|(name, _)| name != "uncommitted"));
        open_write.abort().unwrap();
    }

    #[test]
    fn foreign_and_damaged_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.redb");
        std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
        let e = verify_file(&junk).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");

        let foreign = dir.path().join("foreign.redb");
        let db = Database::create(&foreign).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(TableDefinition::<u64, u64>::new("x"))
            .unwrap()
            .insert(1, 1)
            .unwrap();
        txn.commit().unwrap();
        drop(db);
        let e = verify_file(&foreign).unwrap_err();
        assert!(e.to_string().contains("foreign.redb"), "{e}");

        let missing = verify_file(&dir.path().join("missing.redb")).unwrap_err();
        assert!(missing.to_string().contains("no such file"), "{missing}");
    }

    #[test]
    fn a_newer_schema_is_too_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.redb");
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        crate::store::schema::write_version(&txn, SCHEMA_VERSION + 1).unwrap();
        txn.commit().unwrap();
        drop(db);
        let e = verify_file(&path).unwrap_err();
        assert!(matches!(e, StoreError::TooNew { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_version_1_backup_passes_and_its_outbox_survives_the_upgrade() {
        use crate::store::schema::{write_version, OUTBOX_V1};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::FILE_NAME);
        let send = crate::testing::store_fixtures::tell(5);
        drop(EmbeddedStore::open(dir.path()).unwrap());
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.delete_table(OUTBOX_ROWS).unwrap();
            let raw = postcard::to_stdvec(&send).unwrap();
            txn.open_table(OUTBOX_V1)
                .unwrap()
                .insert(4, raw.as_slice())
                .unwrap();
            write_version(&txn, 1).unwrap();
            txn.commit().unwrap();
        }
        verify_file(&path).unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.clone().load().await.unwrap().outbox, vec![(4, send)]);
    }
}
