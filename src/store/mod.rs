//! Where the engine's decisions become durable.
//!
//! The [`Backend`] trait is modelled on teloxide's dialogue `Storage`: object
//! safe, `Arc<Self>` receivers, boxed futures. That lets the embedded redb
//! store (blocking, run on a blocking thread) and a Redis store (async) sit
//! behind one `Arc<dyn Backend>`.
//!
//! A [`Batch`] is the unit of durability: every record of a batch of updates,
//! the id of the last update applied, and the messages still owed to users
//! (the outbox) are committed in one transaction. Only after that commit does
//! the shell send anything or acknowledge the updates to Telegram.

mod choice;
pub mod embedded;
pub mod export;
pub mod group_commit;
pub mod redis;
pub mod schema;

pub use self::redis::RedisStore;
pub use choice::{OpenStore, REDIS_BACKUP_HINT};
pub use embedded::EmbeddedStore;

use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Outbound, Record, Report};
use crate::engine::event::Linked;
use crate::engine::{Ban, Profile};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// How far back [`Backend::load`] returns reports in
/// [`Snapshot::recent_reports`]: a week, the longest allowed `REPORT_WINDOW`.
pub const RECENT_REPORTS_SECS: u64 = 7 * 24 * 3600;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One atomic commit.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// State changes, in the order the engine made them.
    pub records: Vec<Record>,
    /// The highest Telegram update id whose effects are in this batch.
    /// `None` leaves the stored value unchanged.
    pub last_update_id: Option<i64>,
    /// Sends now owed to users, each under a sequence number that is unique
    /// for the life of the database.
    pub outbox_add: Vec<(u64, Outbound)>,
    /// Sequence numbers of sends that have been performed.
    pub outbox_done: Vec<u64>,
    /// The Telegram updates whose effects are in this batch, for stores
    /// shared by several instances (which mark each applied; see
    /// [`Backend::begin`]). Others go by `last_update_id`.
    pub update_ids: Vec<i64>,
}

impl Batch {
    /// Whether committing this batch would change nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.last_update_id.is_none()
            && self.outbox_add.is_empty()
            && self.outbox_done.is_empty()
            && self.update_ids.is_empty()
    }

    /// Folds a later batch into this one, as if both were committed in
    /// order. Used by the group commit.
    pub fn absorb(&mut self, later: Batch) {
        self.records.extend(later.records);
        self.last_update_id = match (self.last_update_id, later.last_update_id) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.outbox_add.extend(later.outbox_add);
        self.outbox_done.extend(later.outbox_done);
        self.update_ids.extend(later.update_ids);
    }
}

/// The state a backend hands back at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Each active pair once, with the time it was made.
    pub pairs: Vec<(UserId, UserId, Timestamp)>,
    /// The waiting queue, oldest (smallest ticket) first.
    pub waiting: Vec<(Ticket, UserId, Timestamp)>,
    /// For users whose last chat has ended: (user, partner, ended_at).
    pub last_partners: Vec<(UserId, UserId, Timestamp)>,
    /// Every user's latest ban, in force or expired (for repeat bans).
    pub bans: Vec<(UserId, Ban)>,
    /// Reports recent enough to count towards a ban (the store keeps those
    /// of the longest allowed window; the engine applies its own).
    pub recent_reports: Vec<Report>,
    /// Albums being gathered: (user, media group, parts so far, first part).
    pub albums: Vec<(UserId, String, Vec<MessageId>, Timestamp)>,
    /// The highest update id already applied, if any.
    pub last_update_id: Option<i64>,
    /// Whether maintenance mode is on.
    pub maintenance: bool,
    /// Sends committed but perhaps not performed before the last stop, in
    /// sequence order.
    pub outbox: Vec<(u64, Outbound)>,
    /// Settings of every user who chose any.
    pub profiles: Vec<(UserId, Profile)>,
    /// The last broadcast recorded, finished or not.
    pub broadcast: Option<crate::engine::Broadcast>,
    /// Reports still open, oldest first.
    pub open_reports: Vec<crate::engine::OpenReport>,
    /// The highest report id ever used (0: none).
    pub last_report_id: u64,
}

/// What [`Backend::begin`] found before a decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Begun {
    /// State records other instances committed since this one last synced,
    /// in commit order: apply them to the engine before deciding.
    pub changes: Vec<Record>,
    /// The change log can't bring this instance up to date (it was
    /// trimmed): reload the whole state instead.
    pub reload: bool,
    /// Which of the batch's update ids are already applied, by any
    /// instance; `None` for a store that goes by `last_update_id` alone.
    pub applied: Option<Vec<i64>>,
}

/// Counts for operators (`randchat stats`, /stats, metrics). Serializable
/// so the control socket can carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub users: u64,
    pub pairs: u64,
    pub waiting: u64,
    pub reports: u64,
    /// Named counters, e.g. "matches", "relayed".
    pub counters: Vec<(String, u64)>,
}

/// Failures at the store boundary. Each variant's message is one line that
/// names the file (where there is one) and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path} is locked by another running randchat instance; stop the other instance or use a different DATA_DIR")]
    Locked { path: PathBuf },
    #[error("database {path} is corrupt ({detail}); restore it from a backup or move it aside to start afresh")]
    Corrupt { path: PathBuf, detail: String },
    #[error("database {path} has schema version {found}, but this randchat understands up to {supported}; upgrade randchat or use a different DATA_DIR")]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot open database {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error("database write failed: {0}")]
    Write(String),
    #[error("database read failed: {0}")]
    Read(String),
    #[error(
        "cannot reach Redis at {url} ({detail}); check REDIS_URL and that the server is running"
    )]
    Unreachable { url: String, detail: String },
}

impl StoreError {
    /// Errors that make start-up impossible until an operator acts. An
    /// unreachable Redis is not one: it may simply not be up yet, so the
    /// bot exits 1 and its supervisor starts it again.
    pub fn is_fatal_at_startup(&self) -> bool {
        matches!(
            self,
            StoreError::Locked { .. }
                | StoreError::Corrupt { .. }
                | StoreError::TooNew { .. }
                | StoreError::Open { .. }
        )
    }
}

/// Durable state, behind one interface for every backend.
/// How long a relayed message stays linked to its copy, so edits, replies,
/// reactions and /delete can reach the other side: 48 hours.
pub const LINK_TTL_SECS: u64 = 48 * 3600;

/// A stored value's postcard bytes. Both stores keep rows in this one
/// encoding, so an export, an import or a switch of store moves bytes that
/// mean the same in either.
pub(crate) fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(value).map_err(|e| StoreError::Write(format!("encoding failed: {e}")))
}

/// An album being gathered, as both stores keep it: postcard
/// `(group, parts as message ids, first part's time)`.
pub(crate) fn album_row(
    group: &str,
    parts: &[MessageId],
    since: Timestamp,
) -> Result<Vec<u8>, StoreError> {
    let parts: Vec<i32> = parts.iter().map(|m| m.0).collect();
    encode(&(group, parts, since.0))
}

pub trait Backend: Send + Sync + 'static {
    /// Everything the engine needs to resume where it stopped.
    fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>>;

    /// Commits a batch atomically and durably. When this returns `Ok`, the
    /// batch survives a crash or power loss.
    fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Whether [`Backend::commit_in_place`] commits (the embedded store,
    /// whose commit is blocking work anyway): then the group commit runs
    /// on a thread of its own and commits there, without handing each
    /// transaction to the blocking pool and back.
    fn commits_in_place(&self) -> bool {
        false
    }

    /// [`Backend::commit`] on the calling thread, blocking it until the
    /// batch is durable, for backends whose [`Backend::commits_in_place`]
    /// says so.
    fn commit_in_place(&self, batch: &Batch) -> Result<(), StoreError> {
        let _ = batch;
        Err(StoreError::Write(
            "this store commits asynchronously".into(),
        ))
    }

    /// Counts for operators.
    fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>>;

    /// The other side of each message: its copy, or the original it is a
    /// copy of; `None` where there is no live link.
    fn linked(
        self: Arc<Self>,
        messages: Vec<Counterpart>,
    ) -> BoxFuture<'static, Result<Vec<Option<Linked>>, StoreError>>;

    /// Up to `limit` known users (anyone who ever sent the bot anything)
    /// with ids above `after`, in id order: the user list a broadcast
    /// walks. A backend without a user list has nobody to broadcast to.
    fn users_after(
        self: Arc<Self>,
        after: Option<UserId>,
        limit: usize,
    ) -> BoxFuture<'static, Result<Vec<UserId>, StoreError>> {
        let _ = (after, limit);
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Before the engine decides anything: makes this process the one
    /// deciding (several instances on one store take turns) and reports
    /// what other instances changed since and which of `updates` are
    /// already applied. The next commit of a decision, or [`Backend::end`],
    /// ends the turn. A store with one process is always up to date: the
    /// default does nothing.
    fn begin(self: Arc<Self>, updates: Vec<i64>) -> BoxFuture<'static, Result<Begun, StoreError>> {
        let _ = updates;
        Box::pin(async { Ok(Begun::default()) })
    }

    /// Ends a turn that [`Backend::begin`] started and no commit ended
    /// (nothing needed committing).
    fn end(self: Arc<Self>) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    /// A running instance's sign of life, every second or so. Returns the
    /// sends of instances that stopped giving one, now moved into this
    /// instance's outbox under numbers from `next_seq` on, for it to send.
    fn heartbeat(
        self: Arc<Self>,
        next_seq: u64,
    ) -> BoxFuture<'static, Result<Vec<(u64, Outbound)>, StoreError>> {
        let _ = next_seq;
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Whether [`Backend::begin`] says which updates are applied (several
    /// instances); otherwise the last applied update id tells.
    fn tracks_updates(&self) -> bool {
        false
    }

    /// Which of `updates` are applied, for a store that tracks update ids
    /// (`None`: it goes by `last_update_id`).
    fn applied_updates(
        self: Arc<Self>,
        updates: Vec<i64>,
    ) -> BoxFuture<'static, Result<Option<Vec<i64>>, StoreError>> {
        let _ = updates;
        Box::pin(async { Ok(None) })
    }

    /// Every piece of durable data, for `randchat export`: sent to `sink`
    /// as [`export::Item`]s (without the header), from one consistent view,
    /// in an order that is the same for the same data. Returns when all
    /// are sent. A backend that cannot export says so instead of sending a
    /// partial export.
    fn export(
        self: Arc<Self>,
        sink: tokio::sync::mpsc::Sender<export::Item>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        drop(sink);
        Box::pin(async {
            Err(StoreError::Read(
                "this backend cannot export its data".into(),
            ))
        })
    }
}
