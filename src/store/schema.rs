//! The on-disk schema of the embedded store, its version, and migrations.
//!
//! Everything that fixes the shape of `randchat.redb` lives here: the table
//! definitions, the meta keys, the row types and [`SCHEMA_VERSION`]. Keeping
//! them in one place makes a format change visible in review: touching this
//! file means either the change is compatible or it needs a [`Migration`] and
//! a `migrations/vN.md` (see `migrations/README.md`).
//!
//! The version is kept in the `meta` table. At open, [`prepare`] compares it
//! with the version this build understands: a fresh file gets every table and
//! the current version; an older file is migrated step by step inside one
//! write transaction (so a crash mid-upgrade leaves the old version intact);
//! a newer file is refused rather than misread.

use super::embedded::classify;
use super::StoreError;
use crate::engine::effect::Outbound;
use redb::{Database, ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Small values keyed by name; each value is postcard-encoded. The types of
/// this table and the encoding of `schema_version` must never change, or an
/// older randchat could no longer tell that a file is too new for it.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// user id → postcard [`UserRow`].
pub const USERS: TableDefinition<i64, &[u8]> = TableDefinition::new("users");
/// user id → (partner id, since). Every pair is stored in both directions.
pub const PAIRS: TableDefinition<i64, (i64, u64)> = TableDefinition::new("pairs");
/// ticket → (user id, since). Key order is queue order.
pub const WAITING: TableDefinition<u64, (i64, u64)> = TableDefinition::new("waiting");
/// user id → (last partner id, ended_at).
pub const LAST_PARTNER: TableDefinition<i64, (i64, u64)> = TableDefinition::new("last_partner");
/// sequential id (from 1) → postcard `Report`.
pub const REPORTS: TableDefinition<u64, &[u8]> = TableDefinition::new("reports");
/// user id → postcard `Ban`: the user's latest ban, in force or expired.
pub const BANS: TableDefinition<i64, &[u8]> = TableDefinition::new("bans");
/// user id → postcard [`crate::engine::Profile`]: a user's settings.
pub const PROFILES: TableDefinition<i64, &[u8]> = TableDefinition::new("profiles");
/// report id → postcard [`crate::engine::ReportStatus`]: whether a report
/// filed with an id by the engine is open, dismissed or acted on. Reports
/// from before report handling have no row and are not open.
pub const REPORT_STATUS: TableDefinition<u64, &[u8]> = TableDefinition::new("report_status");
/// counter name (`Counter::name`) → value.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// `meta` key: postcard `u32`.
pub const META_SCHEMA_VERSION: &str = "schema_version";
/// `meta` key: postcard `bool`, whether maintenance mode is on.
pub const META_MAINTENANCE: &str = "maintenance";
/// `meta` key: postcard [`crate::engine::Broadcast`], the last broadcast.
pub const META_BROADCAST: &str = "broadcast";
/// `meta` key: postcard `i64`, the highest Telegram update id applied.
pub const META_LAST_UPDATE_ID: &str = "last_update_id";
/// `meta` key: postcard `((i64, i32), u64)`, the pass of sliced link
/// prunes in progress (`Record::PruneLinks`): the `links` key the next one
/// starts from, and how many links each looks at. Absent: the next prune
/// starts a pass, from the first key.
pub const META_LINK_PRUNE_FROM: &str = "link_prune_from";
/// first send's sequence number → postcard `Vec<(u64, Outbound)>`: sends
/// committed but not yet performed, one row per commit that added some, each
/// send with its sequence number, in the order they were decided in. A row
/// some of whose sends are done holds only the rest (under its old key); a
/// row with none left is removed. New in version 2; why is in
/// `src/store/embedded/outbox.rs`.
pub const OUTBOX_ROWS: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox_rows");
/// Version 1's outbox, one send per key: sequence number → postcard
/// `Outbound`. Only the v1→v2 migration (and reading a backup not yet
/// migrated) uses it; version 2 has no such table.
pub const OUTBOX_V1: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// (chat, message) → (chat, message, when linked, whether the key is the
/// original): a relayed message and its copy in the partner's chat, stored
/// in both directions, so edits, replies, reactions and deletions can find
/// the other side. Pruned after [`crate::store::LINK_TTL_SECS`].
pub const LINKS: TableDefinition<(i64, i32), (i64, i32, u64, bool)> = TableDefinition::new("links");
/// user id → postcard (media group id, parts as message ids, first part's
/// time): an album being gathered, so a restart relays it instead of
/// losing it.
pub const ALBUMS: TableDefinition<i64, &[u8]> = TableDefinition::new("albums");

/// A row of the `users` table. Plain integers rather than domain newtypes,
/// so a change to a domain type cannot silently change the file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub first_seen: u64,
    pub last_seen: u64,
}

/// What a migration may fail with: redb errors, decode errors, anything.
pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// One upgrade step, from schema version `from` to `from + 1`.
pub struct Migration {
    pub from: u32,
    /// One line, logged when the migration runs.
    pub description: &'static str,
    /// Rewrites the data inside the upgrade's write transaction. It must not
    /// commit; the runner records the new version and commits once, after the
    /// last step.
    pub apply: fn(&WriteTransaction) -> Result<(), MigrationError>,
}

/// Every upgrade step, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    from: 1,
    description: "the outbox becomes one row per commit (outbox → outbox_rows)",
    apply: v1_to_v2,
}];

/// Version 1 → 2: every pending send of the old `outbox` table moves, in
/// order, into one row of `outbox_rows`, and the old table is deleted.
fn v1_to_v2(txn: &WriteTransaction) -> Result<(), MigrationError> {
    let sends: Vec<(u64, Outbound)> = {
        let old = txn.open_table(OUTBOX_V1)?;
        let mut sends = Vec::new();
        for entry in old.iter()? {
            let (seq, raw) = entry?;
            sends.push((seq.value(), postcard::from_bytes(raw.value())?));
        }
        sends
    };
    if let Some(&(first, _)) = sends.first() {
        let row = postcard::to_stdvec(&sends)?;
        txn.open_table(OUTBOX_ROWS)?.insert(first, row.as_slice())?;
    }
    txn.delete_table(OUTBOX_V1)?;
    Ok(())
}

/// What [`prepare`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// A new, empty file: tables created, version recorded.
    Created,
    /// Already at the current version; nothing written.
    UpToDate,
    /// Migrated from an older version.
    Migrated { from: u32, to: u32 },
}

/// Brings the database to [`SCHEMA_VERSION`] using [`MIGRATIONS`].
pub(crate) fn prepare(db: &Database, path: &Path) -> Result<Prepared, StoreError> {
    upgrade(db, path, MIGRATIONS, SCHEMA_VERSION)
}

/// Brings the database to `target` using `migrations`. Separate from
/// [`prepare`] so tests can feed it synthetic migrations.
pub(crate) fn upgrade(
    db: &Database,
    path: &Path,
    migrations: &[Migration],
    target: u32,
) -> Result<Prepared, StoreError> {
    let txn = db.begin_write().map_err(|e| classify(path, e))?;
    let fresh = txn
        .list_tables()
        .map_err(|e| classify(path, e))?
        .next()
        .is_none();
    let stored = if fresh {
        None
    } else {
        Some(
            read_version(&txn, path)?.ok_or_else(|| StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: "tables present but no schema version; not a randchat database?".into(),
            })?,
        )
    };
    let outcome = match stored {
        None => Prepared::Created,
        Some(found) if found == target => {
            // Tables added without a version bump (new, empty tables change
            // nothing an older randchat reads) are created here.
            if missing_tables(&txn).map_err(|e| classify(path, e))? {
                create_tables(&txn).map_err(|e| classify(path, e))?;
                txn.commit().map_err(|e| classify(path, e))?;
            } else {
                abort(txn);
            }
            return Ok(Prepared::UpToDate);
        }
        Some(found) if found > target => {
            abort(txn);
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: target,
            });
        }
        Some(from) => {
            let mut version = from;
            while version < target {
                let Some(step) = migrations.iter().find(|m| m.from == version) else {
                    abort(txn);
                    return Err(StoreError::Open {
                        path: path.to_path_buf(),
                        detail: format!("no migration from schema version {version}"),
                    });
                };
                tracing::info!(from = version, "migrating database: {}", step.description);
                if let Err(e) = (step.apply)(&txn) {
                    abort(txn);
                    return Err(StoreError::Open {
                        path: path.to_path_buf(),
                        detail: format!("migration from schema version {version} failed: {e}"),
                    });
                }
                version += 1;
            }
            Prepared::Migrated { from, to: target }
        }
    };
    // Creating is idempotent, so this also adds tables a migration introduces.
    create_tables(&txn).map_err(|e| classify(path, e))?;
    write_version(&txn, target).map_err(|e| classify(path, e))?;
    txn.commit().map_err(|e| classify(path, e))?;
    Ok(outcome)
}

fn read_version(txn: &WriteTransaction, path: &Path) -> Result<Option<u32>, StoreError> {
    let meta = txn.open_table(META).map_err(|e| classify(path, e))?;
    let Some(raw) = meta
        .get(META_SCHEMA_VERSION)
        .map_err(|e| classify(path, e))?
    else {
        return Ok(None);
    };
    postcard::from_bytes(raw.value())
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("unreadable schema version: {e}"),
        })
}

/// Records `version` in `meta`. Public to the crate for tests that fake
/// older or newer files.
pub(crate) fn write_version(txn: &WriteTransaction, version: u32) -> Result<(), redb::Error> {
    let bytes = postcard::to_stdvec(&version).map_err(|e| redb::Error::Corrupted(e.to_string()))?;
    txn.open_table(META)?
        .insert(META_SCHEMA_VERSION, bytes.as_slice())?;
    Ok(())
}

/// Tables every database of this version has; [`create_tables`] makes them.
const TABLE_NAMES: [&str; 13] = [
    "meta",
    "users",
    "pairs",
    "waiting",
    "last_partner",
    "outbox_rows",
    "links",
    "albums",
    "reports",
    "bans",
    "counters",
    "profiles",
    "report_status",
];

fn missing_tables(txn: &WriteTransaction) -> Result<bool, redb::Error> {
    let present: Vec<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
    Ok(TABLE_NAMES
        .iter()
        .any(|name| !present.iter().any(|p| p == name)))
}

fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(META)?;
    txn.open_table(USERS)?;
    txn.open_table(PAIRS)?;
    txn.open_table(WAITING)?;
    txn.open_table(LAST_PARTNER)?;
    txn.open_table(OUTBOX_ROWS)?;
    txn.open_table(LINKS)?;
    txn.open_table(ALBUMS)?;
    txn.open_table(REPORTS)?;
    txn.open_table(BANS)?;
    txn.open_table(COUNTERS)?;
    txn.open_table(PROFILES)?;
    txn.open_table(REPORT_STATUS)?;
    Ok(())
}

/// Rolls back an upgrade that will not commit. Nothing was written that a
/// failed abort could leave behind (redb discards uncommitted pages), so a
/// failure is only logged.
fn abort(txn: WriteTransaction) {
    if let Err(e) = txn.abort() {
        tracing::warn!("aborting schema transaction failed: {e}");
    }
}

#[cfg(test)]
mod tests;
