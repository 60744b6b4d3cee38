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
    self, ALBUMS, COUNTERS, LAST_PARTNER, LINKS, META, META_LAST_UPDATE_ID, META_MAINTENANCE,
    PAIRS, REPORTS, USERS, WAITING,
};
use super::{encode, Backend, Batch, BoxFuture, Snapshot, Stats, StoreError};
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::Counterpart;
use crate::engine::event::Linked;
use outbox::OutboxIndex;
use parking_lot::{Mutex, RwLock};
use redb::{
    Builder, Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
};
use serde::de::DeserializeOwned;
use std::any::Any;
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
    /// The outbox table in memory, to find a done send's row without
    /// reading it. Held for a whole commit: it also orders the writers.
    outbox: Mutex<OutboxIndex>,
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
        let store = Self {
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
            path,
            outbox: Mutex::new(OutboxIndex::stale()),
        };
        store.with_db(|db| store.refresh_outbox(db, &mut store.outbox.lock()))?;
        Ok(Arc::new(store))
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
        snapshot.outbox = self.load_outbox(&txn)?;
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
mod commit;
mod export;
#[cfg(test)]
mod failure_tests;
mod moderation;
mod outbox;
#[cfg(test)]
mod tests;
