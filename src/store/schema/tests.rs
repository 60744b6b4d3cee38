//! The schema runner's tests: fresh files, synthetic and real migrations,
//! gaps, files from the future and foreign files.

use super::*;
use redb::{ReadableDatabase, ReadableTableMetadata};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The shape of `users` before the synthetic version 1: user → last_seen.
const OLD_USERS: TableDefinition<i64, u64> = TableDefinition::new("users_v0");

static V0_RUNS: AtomicUsize = AtomicUsize::new(0);

fn v0_to_v1(txn: &WriteTransaction) -> Result<(), MigrationError> {
    V0_RUNS.fetch_add(1, Ordering::SeqCst);
    let old: Vec<(i64, u64)> = {
        let table = txn.open_table(OLD_USERS)?;
        let rows = table.iter()?;
        rows.map(|r| r.map(|(k, v)| (k.value(), v.value())))
            .collect::<Result<_, _>>()?
    };
    let mut users = txn.open_table(USERS)?;
    for (user, seen) in old {
        let row = UserRow {
            first_seen: seen,
            last_seen: seen,
        };
        users.insert(user, postcard::to_stdvec(&row)?.as_slice())?;
    }
    drop(users);
    txn.delete_table(OLD_USERS)?;
    Ok(())
}

const SYNTHETIC: &[Migration] = &[Migration {
    from: 0,
    description: "split users.last_seen into first_seen and last_seen",
    apply: v0_to_v1,
}];

fn db_with_version(path: &Path, version: u32) -> Database {
    let db = Database::create(path).unwrap();
    let txn = db.begin_write().unwrap();
    write_version(&txn, version).unwrap();
    txn.commit().unwrap();
    db
}

fn stored_version(db: &Database) -> Option<u32> {
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    let raw = meta.get(META_SCHEMA_VERSION).unwrap()?;
    Some(postcard::from_bytes(raw.value()).unwrap())
}

#[test]
fn fresh_file_gets_tables_and_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.redb");
    let db = Database::create(&path).unwrap();
    assert_eq!(prepare(&db, &path).unwrap(), Prepared::Created);
    assert_eq!(stored_version(&db), Some(SCHEMA_VERSION));
    let txn = db.begin_read().unwrap();
    txn.open_table(COUNTERS).unwrap();
    txn.open_table(REPORTS).unwrap();
    drop(txn);
    assert_eq!(prepare(&db, &path).unwrap(), Prepared::UpToDate);
}

#[test]
fn synthetic_migration_runs_once_and_records_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    let db = db_with_version(&path, 0);
    let txn = db.begin_write().unwrap();
    {
        let mut old = txn.open_table(OLD_USERS).unwrap();
        old.insert(7, 100).unwrap();
        old.insert(-3, 250).unwrap();
    }
    txn.commit().unwrap();

    let got = upgrade(&db, &path, SYNTHETIC, 1).unwrap();
    assert_eq!(got, Prepared::Migrated { from: 0, to: 1 });
    assert_eq!(V0_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(stored_version(&db), Some(1));

    let txn = db.begin_read().unwrap();
    let users = txn.open_table(USERS).unwrap();
    let row: UserRow = postcard::from_bytes(users.get(7).unwrap().unwrap().value()).unwrap();
    assert_eq!(
        row,
        UserRow {
            first_seen: 100,
            last_seen: 100
        }
    );
    assert_eq!(users.len().unwrap(), 2);
    assert!(txn.open_table(OLD_USERS).is_err(), "old table dropped");
    drop((users, txn));

    // Running again is a no-op: the migration does not run a second time.
    assert_eq!(
        upgrade(&db, &path, SYNTHETIC, 1).unwrap(),
        Prepared::UpToDate
    );
    assert_eq!(V0_RUNS.load(Ordering::SeqCst), 1);
}

#[test]
fn missing_migration_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.redb");
    let db = db_with_version(&path, 0);
    let err = upgrade(&db, &path, &[], 1).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("no migration from schema version 0"));
    assert_eq!(stored_version(&db), Some(0));
}

#[test]
fn newer_version_is_too_new_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(crate::store::embedded::FILE_NAME);
    let db = db_with_version(&path, SCHEMA_VERSION + 1);
    let err = prepare(&db, &path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found,
                supported,
                ..
            } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ),
        "{err}"
    );
    assert!(err.to_string().contains("randchat.redb"), "{err}");
    assert_eq!(stored_version(&db), Some(SCHEMA_VERSION + 1), "untouched");
}

#[test]
fn foreign_redb_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.redb");
    let db = Database::create(&path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(TableDefinition::<u64, u64>::new("something"))
        .unwrap()
        .insert(1, 1)
        .unwrap();
    txn.commit().unwrap();
    let err = prepare(&db, &path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

/// Pending sends as version 1 kept them: one key each.
fn v1_file_with_outbox(path: &Path, sends: &[(u64, Outbound)]) -> Database {
    let db = db_with_version(path, 1);
    let txn = db.begin_write().unwrap();
    {
        let mut old = txn.open_table(OUTBOX_V1).unwrap();
        for (seq, send) in sends {
            let raw = postcard::to_stdvec(send).unwrap();
            old.insert(*seq, raw.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();
    db
}

fn v1_sends() -> Vec<(u64, Outbound)> {
    use crate::domain::{ChatId, MessageId, UserId};
    vec![
        (3, Outbound::LeaveChat { chat: ChatId(-5) }),
        (
            7,
            Outbound::Relay {
                from: UserId(1),
                to: UserId(2),
                message: MessageId(9),
            },
        ),
        (8, Outbound::AskReportReason { user: UserId(1) }),
    ]
}

#[test]
fn v1_outbox_moves_into_one_row_and_the_old_table_goes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.redb");
    let db = v1_file_with_outbox(&path, &v1_sends());
    let got = prepare(&db, &path).unwrap();
    assert_eq!(got, Prepared::Migrated { from: 1, to: 2 });
    assert_eq!(stored_version(&db), Some(2));
    let txn = db.begin_read().unwrap();
    let rows = txn.open_table(OUTBOX_ROWS).unwrap();
    assert_eq!(rows.len().unwrap(), 1);
    let row: Vec<(u64, Outbound)> =
        postcard::from_bytes(rows.get(3).unwrap().unwrap().value()).unwrap();
    assert_eq!(row, v1_sends());
    assert!(txn.open_table(OUTBOX_V1).is_err(), "old table deleted");
    drop((rows, txn));

    // An empty v1 outbox becomes no row at all.
    let path = dir.path().join("v1-empty.redb");
    let db = v1_file_with_outbox(&path, &[]);
    prepare(&db, &path).unwrap();
    let txn = db.begin_read().unwrap();
    assert_eq!(txn.open_table(OUTBOX_ROWS).unwrap().len().unwrap(), 0);
}

#[tokio::test]
async fn a_migrated_store_loads_its_old_sends_and_can_mark_them_done() {
    use crate::store::{embedded::EmbeddedStore, Backend, Batch};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(crate::store::embedded::FILE_NAME);
    drop(v1_file_with_outbox(&path, &v1_sends()));
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.clone().load().await.unwrap().outbox, v1_sends());
    let done = Batch {
        outbox_done: vec![7],
        ..Batch::default()
    };
    store.clone().commit(done).await.unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let mut left = v1_sends();
    left.remove(1);
    assert_eq!(store.clone().load().await.unwrap().outbox, left);
}

#[test]
fn a_v2_file_is_refused_by_a_build_that_knows_only_v1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(crate::store::embedded::FILE_NAME);
    let db = Database::create(&path).unwrap();
    assert_eq!(prepare(&db, &path).unwrap(), Prepared::Created);
    let err = upgrade(&db, &path, &[], 1).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(stored_version(&db), Some(2), "untouched");
}
