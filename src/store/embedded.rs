//! The embedded backend: one redb file, `DATA_DIR/randchat.redb`.
//!
//! Why redb: a single-process bot needs crash-safe transactions and nothing
//! else, and redb gives them without a server or C dependency. Each
//! [`Batch`] is one write transaction with redb's default immediate
//! durability, so once [`Backend::commit`] returns `Ok` the batch survives a
//! crash, and a failed commit leaves nothing half-applied.
//!
//! redb is blocking, so every call runs on tokio's blocking pool. Values that
//! are not plain integers are encoded with postcard; the table layout is
//! defined in [`super::schema`] and documented in `migrations/`.
//!
//! No path here panics on I/O failure (disk full, read-only file system):
//! every redb error becomes a [`StoreError`]. After an I/O error redb refuses
//! every further write on that handle ("Previous I/O error occurred"), even
//! once the disk recovers, so the shell should treat a `Write` error as "stop
//! and restart", not "retry". redb can also panic on damaged page contents
//! instead of reporting corruption; `open` catches that and blocking tasks
//! turn it into an error (both rely on the default `panic = "unwind"`).

use super::schema::{
    self, UserRow, ALBUMS, BANS, COUNTERS, LAST_PARTNER, LINKS, META, META_BROADCAST,
    META_LAST_UPDATE_ID, META_MAINTENANCE, OUTBOX, PAIRS, PROFILES, REPORTS, REPORT_STATUS, USERS,
    WAITING,
};
use super::{Backend, Batch, BoxFuture, Snapshot, Stats, StoreError};
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Outbound, Record};
use crate::engine::event::Linked;
use crate::engine::ReportStatus;
use parking_lot::RwLock;
use redb::{
    Builder, Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    Table, WriteTransaction,
};
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The database file inside the data directory.
pub const FILE_NAME: &str = "randchat.redb";

/// redb's page cache. Its default is 1 GiB, which would let a small bot grow
/// far beyond its working set. The live state (pairs, queue, last partners)
/// is a few dozen bytes per user, so 16 MiB keeps hundreds of thousands of
/// users hot while staying modest on a small VPS.
pub const CACHE_SIZE: usize = 16 * 1024 * 1024;

/// The embedded redb store. Cheap to share: clone the `Arc`.
pub struct EmbeddedStore {
    /// `None` only while a broken handle is being replaced.
    db: RwLock<Option<Database>>,
    /// Set after a failed write: redb refuses every later write on the same
    /// handle ("Previous I/O error occurred"), so the next operation reopens
    /// the file, which also repairs it, and service resumes once the disk
    /// has room again.
    broken: AtomicBool,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) `data_dir/randchat.redb` and brings its
    /// schema up to date. Blocking; call it at start-up.
    pub fn open(data_dir: &Path) -> Result<Arc<Self>, StoreError> {
        let path = data_dir.join(FILE_NAME);
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            detail: format!("cannot create directory {}: {e}", data_dir.display()),
        })?;
        // redb trusts page contents on the normal read path, and some damaged
        // files make it panic (`unreachable!` on an unknown page type) rather
        // than return `Corrupted`. Opening reads the file, so a panic here is
        // reported as corruption instead of taking the process down.
        let opened = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let db = Builder::new()
                .set_cache_size(CACHE_SIZE)
                .create(&path)
                .map_err(|e| classify(&path, e))?;
            Self::with_database(db, path.clone())
        }));
        opened.unwrap_or_else(|panic| {
            Err(StoreError::Corrupt {
                detail: format!("redb panicked reading it: {}", panic_message(&*panic)),
                path,
            })
        })
    }

    fn with_database(db: Database, path: PathBuf) -> Result<Arc<Self>, StoreError> {
        match schema::prepare(&db, &path)? {
            schema::Prepared::Created => tracing::info!(path = %path.display(), "created database"),
            schema::Prepared::Migrated { from, to } => {
                tracing::info!(path = %path.display(), from, to, "migrated database")
            }
            schema::Prepared::UpToDate => {}
        }
        Ok(Arc::new(Self {
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
            path,
        }))
    }

    /// Runs `f` with the database, first replacing a handle that a failed
    /// write left broken.
    fn with_db<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            self.reopen()?;
        }
        let guard = self.db.read();
        let db = guard
            .as_ref()
            .ok_or_else(|| StoreError::Write("the database is being reopened".into()))?;
        f(db)
    }

    fn reopen(&self) -> Result<(), StoreError> {
        let mut guard = self.db.write();
        if !self.broken.load(Ordering::SeqCst) {
            return Ok(());
        }
        drop(guard.take()); // release the file lock before opening again
        let db = Builder::new()
            .set_cache_size(CACHE_SIZE)
            .create(&self.path)
            .map_err(|e| {
                StoreError::Write(format!(
                    "reopening {} after a failed write: {e}",
                    self.path.display()
                ))
            })?;
        *guard = Some(db);
        self.broken.store(false, Ordering::SeqCst);
        tracing::info!("database reopened after a failed write");
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, what: &str, e: impl Display) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("{what}: {e}"),
        }
    }

    fn decode<T: DeserializeOwned>(&self, what: &str, bytes: &[u8]) -> Result<T, StoreError> {
        postcard::from_bytes(bytes).map_err(|e| self.corrupt(what, e))
    }

    fn commit_blocking(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let result = self.with_db(|db| {
            let txn = db.begin_write().map_err(write)?;
            match self.apply(&txn, batch) {
                Ok(()) => txn.commit().map_err(write),
                Err(e) => {
                    if let Err(abort) = txn.abort() {
                        tracing::warn!("aborting failed commit: {abort}");
                    }
                    Err(e)
                }
            }
        });
        if result.is_err() {
            self.broken.store(true, Ordering::SeqCst);
        }
        result
    }

    fn apply(&self, txn: &WriteTransaction, batch: &Batch) -> Result<(), StoreError> {
        let mut users = txn.open_table(USERS).map_err(write)?;
        let mut pairs = txn.open_table(PAIRS).map_err(write)?;
        let mut waiting = txn.open_table(WAITING).map_err(write)?;
        let mut last_partner = txn.open_table(LAST_PARTNER).map_err(write)?;
        let mut links = txn.open_table(LINKS).map_err(write)?;
        let mut albums = txn.open_table(ALBUMS).map_err(write)?;
        let mut reports = txn.open_table(REPORTS).map_err(write)?;
        let mut bans = txn.open_table(BANS).map_err(write)?;
        let mut profiles = txn.open_table(PROFILES).map_err(write)?;
        let mut report_status = txn.open_table(REPORT_STATUS).map_err(write)?;
        let mut counters = txn.open_table(COUNTERS).map_err(write)?;
        let mut meta = txn.open_table(META).map_err(write)?;

        // `Seen` and `Count` records touch tables nothing else touches and
        // commute, so each user row and each counter is written once per
        // transaction, with the same result as writing them in turn: a new
        // user's first_seen is their first record's time, last_seen the
        // latest, a counter the sum.
        let mut seen: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        for record in &batch.records {
            match record {
                Record::Seen { user, at } => {
                    let (_, last) = seen.entry(user.0).or_insert((at.0, at.0));
                    *last = (*last).max(at.0);
                }
                Record::Pair { a, b, since } => {
                    // A user is in at most one pair: if either side still
                    // points at someone else, drop that stale reverse entry.
                    for (x, y) in [(a.0, b.0), (b.0, a.0)] {
                        match partner_of(&pairs, x)? {
                            Some(old) if old != y && partner_of(&pairs, old)? == Some(x) => {
                                pairs.remove(old).map_err(write)?;
                            }
                            _ => {}
                        }
                    }
                    pairs.insert(a.0, (b.0, since.0)).map_err(write)?;
                    pairs.insert(b.0, (a.0, since.0)).map_err(write)?;
                }
                Record::Unpair { a, b } => {
                    let a_to_b = partner_of(&pairs, a.0)? == Some(b.0);
                    let b_to_a = partner_of(&pairs, b.0)? == Some(a.0);
                    if a_to_b {
                        pairs.remove(a.0).map_err(write)?;
                    }
                    if b_to_a {
                        pairs.remove(b.0).map_err(write)?;
                    }
                }
                Record::Enqueue {
                    ticket,
                    user,
                    since,
                } => {
                    waiting.insert(ticket.0, (user.0, since.0)).map_err(write)?;
                }
                Record::Dequeue { ticket, .. } => {
                    waiting.remove(ticket.0).map_err(write)?;
                }
                Record::LastPartner {
                    user,
                    partner,
                    ended_at,
                } => {
                    last_partner
                        .insert(user.0, (partner.0, ended_at.0))
                        .map_err(write)?;
                }
                Record::ForgetLastPartner { user } => {
                    last_partner.remove(user.0).map_err(write)?;
                }
                Record::Link { original, copy, at } => {
                    let (o, c) = (key_of(original), key_of(copy));
                    links.insert(o, (c.0, c.1, at.0, true)).map_err(write)?;
                    links.insert(c, (o.0, o.1, at.0, false)).map_err(write)?;
                }
                Record::Album {
                    user,
                    group,
                    parts,
                    since,
                } => {
                    let parts: Vec<i32> = parts.iter().map(|m| m.0).collect();
                    let row = encode(&(group, parts, since.0))?;
                    albums.insert(user.0, row.as_slice()).map_err(write)?;
                }
                Record::Maintenance { on } => {
                    meta.insert(META_MAINTENANCE, encode(on)?.as_slice())
                        .map_err(write)?;
                }
                Record::AlbumDone { user } => {
                    albums.remove(user.0).map_err(write)?;
                }
                Record::PruneLinks { before } => {
                    links
                        .retain(|_, (_, _, at, _)| at >= before.0)
                        .map_err(write)?;
                }
                Record::Report(report) => {
                    let last = reports.last().map_err(write)?.map(|(k, _)| k.value());
                    let id = match last {
                        None => 1,
                        Some(last) => last
                            .checked_add(1)
                            .ok_or_else(|| StoreError::Write("report ids exhausted".into()))?,
                    };
                    reports
                        .insert(id, encode(report)?.as_slice())
                        .map_err(write)?;
                }
                Record::FiledReport { id, report } => {
                    reports
                        .insert(id.0, encode(report)?.as_slice())
                        .map_err(write)?;
                    let open = encode(&ReportStatus::Open)?;
                    report_status.insert(id.0, open.as_slice()).map_err(write)?;
                }
                Record::ReportStatus { id, status } => {
                    report_status
                        .insert(id.0, encode(status)?.as_slice())
                        .map_err(write)?;
                }
                Record::Ban { user, ban } => {
                    bans.insert(user.0, encode(ban)?.as_slice())
                        .map_err(write)?;
                }
                Record::Unban { user } => {
                    bans.remove(user.0).map_err(write)?;
                }
                Record::Broadcast(broadcast) => {
                    meta.insert(META_BROADCAST, encode(broadcast)?.as_slice())
                        .map_err(write)?;
                }
                Record::Profile { user, profile } => {
                    profiles
                        .insert(user.0, encode(profile)?.as_slice())
                        .map_err(write)?;
                }
                Record::Count { counter, delta } => {
                    let sum = counts.entry(counter.name()).or_insert(0);
                    *sum = sum.saturating_add(*delta);
                }
            }
        }
        for (user, (first, last)) in seen {
            let old = users.get(user).map_err(write)?;
            let old = old.map(|raw| self.decode::<UserRow>("users row", raw.value()));
            let old = old.transpose()?;
            let row = UserRow {
                first_seen: old.map_or(first, |old| old.first_seen),
                last_seen: old.map_or(last, |old| old.last_seen.max(last)),
            };
            users
                .insert(user, encode(&row)?.as_slice())
                .map_err(write)?;
        }
        for (name, delta) in counts {
            let old = counters.get(name).map_err(write)?.map(|v| v.value());
            let new = old.unwrap_or(0).saturating_add(delta);
            counters.insert(name, new).map_err(write)?;
        }

        if let Some(id) = batch.last_update_id {
            meta.insert(META_LAST_UPDATE_ID, encode(&id)?.as_slice())
                .map_err(write)?;
        }
        let mut outbox = txn.open_table(OUTBOX).map_err(write)?;
        for (seq, send) in &batch.outbox_add {
            outbox
                .insert(*seq, encode(send)?.as_slice())
                .map_err(write)?;
        }
        for seq in &batch.outbox_done {
            outbox.remove(*seq).map_err(write)?;
        }
        Ok(())
    }

    fn load_blocking(&self) -> Result<Snapshot, StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let mut snapshot = Snapshot {
            pairs: pairs_once(&txn)?,
            ..Snapshot::default()
        };
        let waiting = txn.open_table(WAITING).map_err(read)?;
        for entry in waiting.iter().map_err(read)? {
            let (ticket, value) = entry.map_err(read)?;
            let (user, since) = value.value();
            snapshot
                .waiting
                .push((Ticket(ticket.value()), UserId(user), Timestamp(since)));
        }
        let last_partner = txn.open_table(LAST_PARTNER).map_err(read)?;
        for entry in last_partner.iter().map_err(read)? {
            let (user, value) = entry.map_err(read)?;
            let (partner, ended_at) = value.value();
            snapshot.last_partners.push((
                UserId(user.value()),
                UserId(partner),
                Timestamp(ended_at),
            ));
        }
        snapshot.bans = self.load_bans(&txn)?;
        snapshot.recent_reports = self.load_recent_reports(&txn, Timestamp::now())?;
        let meta = txn.open_table(META).map_err(read)?;
        if let Some(raw) = meta.get(META_MAINTENANCE).map_err(read)? {
            snapshot.maintenance = self.decode::<bool>("maintenance", raw.value())?;
        }
        if let Some(raw) = meta.get(META_LAST_UPDATE_ID).map_err(read)? {
            snapshot.last_update_id = Some(self.decode::<i64>("last_update_id", raw.value())?);
        }
        let albums = txn.open_table(ALBUMS).map_err(read)?;
        for entry in albums.iter().map_err(read)? {
            let (user, raw) = entry.map_err(read)?;
            let (group, parts, since) =
                self.decode::<(String, Vec<i32>, u64)>("album", raw.value())?;
            let parts = parts.into_iter().map(MessageId).collect();
            snapshot
                .albums
                .push((UserId(user.value()), group, parts, Timestamp(since)));
        }
        snapshot.profiles = self.load_profiles(&txn)?;
        snapshot.broadcast = self.load_broadcast(&txn)?;
        (snapshot.open_reports, snapshot.last_report_id) = self.load_open_reports(&txn)?;
        let outbox = txn.open_table(OUTBOX).map_err(read)?;
        for entry in outbox.iter().map_err(read)? {
            let (seq, raw) = entry.map_err(read)?;
            let send = self.decode::<Outbound>("outbox", raw.value())?;
            snapshot.outbox.push((seq.value(), send));
        }
        Ok(snapshot)
    }

    fn linked_blocking(&self, messages: &[Counterpart]) -> Result<Vec<Option<Linked>>, StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let links = txn.open_table(LINKS).map_err(read)?;
        messages
            .iter()
            .map(|message| {
                let found = links.get(key_of(message)).map_err(read)?;
                Ok(found.map(|entry| {
                    let (chat, message, _, original) = entry.value();
                    Linked {
                        other: Counterpart {
                            chat: UserId(chat),
                            message: MessageId(message),
                        },
                        original,
                    }
                }))
            })
            .collect()
    }

    fn stats_blocking(&self) -> Result<Stats, StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let len = |n: Result<u64, redb::StorageError>| n.map_err(read);
        let mut stats = Stats {
            users: len(txn.open_table(USERS).map_err(read)?.len())?,
            pairs: pairs_once(&txn)?.len() as u64,
            waiting: len(txn.open_table(WAITING).map_err(read)?.len())?,
            reports: len(txn.open_table(REPORTS).map_err(read)?.len())?,
            counters: Vec::new(),
        };
        let counters = txn.open_table(COUNTERS).map_err(read)?;
        for entry in counters.iter().map_err(read)? {
            let (name, value) = entry.map_err(read)?;
            stats
                .counters
                .push((name.value().to_owned(), value.value()));
        }
        Ok(stats)
    }
}

impl Backend for EmbeddedStore {
    fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>> {
        Box::pin(blocking(move || self.load_blocking(), StoreError::Read))
    }

    fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(blocking(
            move || self.commit_blocking(&batch),
            StoreError::Write,
        ))
    }

    fn commits_in_place(&self) -> bool {
        true
    }

    /// A redb panic (a damaged file) becomes an error here too, as it does
    /// through the blocking pool in [`Backend::commit`].
    fn commit_in_place(&self, batch: &Batch) -> Result<(), StoreError> {
        let commit = std::panic::AssertUnwindSafe(|| self.commit_blocking(batch));
        std::panic::catch_unwind(commit).unwrap_or_else(|panic| {
            Err(StoreError::Write(format!(
                "redb panicked: {}",
                panic_message(&*panic)
            )))
        })
    }

    fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>> {
        Box::pin(blocking(move || self.stats_blocking(), StoreError::Read))
    }

    fn linked(
        self: Arc<Self>,
        messages: Vec<Counterpart>,
    ) -> BoxFuture<'static, Result<Vec<Option<Linked>>, StoreError>> {
        Box::pin(blocking(
            move || self.linked_blocking(&messages),
            StoreError::Read,
        ))
    }

    fn users_after(
        self: Arc<Self>,
        after: Option<UserId>,
        limit: usize,
    ) -> BoxFuture<'static, Result<Vec<UserId>, StoreError>> {
        Box::pin(blocking(
            move || self.users_after_blocking(after, limit),
            StoreError::Read,
        ))
    }

    fn export(
        self: Arc<Self>,
        sink: tokio::sync::mpsc::Sender<super::export::Item>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(blocking(
            move || self.export_blocking(&sink),
            StoreError::Read,
        ))
    }
}

/// A message as a `links` key.
fn key_of(message: &Counterpart) -> (i64, i32) {
    (message.chat.0, message.message.0)
}

/// Runs `f` on the blocking pool; a task that could not finish (it panicked
/// or the runtime is shutting down) becomes `lost`.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
    lost: fn(String) -> StoreError,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| match e.try_into_panic() {
            Ok(panic) => lost(format!("redb panicked: {}", panic_message(&*panic))),
            Err(e) => lost(format!("store task did not complete: {e}")),
        })?
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "unknown panic"
    }
}

/// Each pair once, `a < b`, in order of `a`.
fn pairs_once(txn: &ReadTransaction) -> Result<Vec<(UserId, UserId, Timestamp)>, StoreError> {
    let mut out = Vec::new();
    let pairs = txn.open_table(PAIRS).map_err(read)?;
    for entry in pairs.iter().map_err(read)? {
        let (user, value) = entry.map_err(read)?;
        let (user, (partner, since)) = (user.value(), value.value());
        if user < partner {
            out.push((UserId(user), UserId(partner), Timestamp(since)));
        }
    }
    Ok(out)
}

fn partner_of(pairs: &Table<i64, (i64, u64)>, user: i64) -> Result<Option<i64>, StoreError> {
    Ok(pairs.get(user).map_err(write)?.map(|v| v.value().0))
}

fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(value).map_err(|e| StoreError::Write(format!("encoding failed: {e}")))
}

fn write(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Write(e.into().to_string())
}

fn read(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Read(e.into().to_string())
}

/// Sorts a redb failure at open time into the operator-facing categories.
pub(crate) fn classify(path: &Path, e: impl Into<redb::Error>) -> StoreError {
    let path = path.to_path_buf();
    match e.into() {
        redb::Error::DatabaseAlreadyOpen => StoreError::Locked { path },
        // Older redb versions reported a held flock as a plain I/O error.
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
            StoreError::Locked { path }
        }
        // redb 4 reports a wrong magic number as `Io(InvalidData)`, not
        // `Corrupted`; a short read means the file was cut off.
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Corrupt {
                path,
                detail: io.to_string(),
            }
        }
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            StoreError::Corrupt {
                path,
                detail: format!("file is truncated: {io}"),
            }
        }
        redb::Error::Corrupted(detail) => StoreError::Corrupt { path, detail },
        e @ (redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => StoreError::Corrupt {
            path,
            detail: format!("unexpected table layout, not a randchat database? ({e})"),
        },
        e => StoreError::Open {
            path,
            detail: e.to_string(),
        },
    }
}

pub mod backup;
mod broadcast;
mod export;
#[cfg(test)]
mod failure_tests;
mod moderation;
#[cfg(test)]
mod tests;
