//! Several bot instances on one prefix: the lease, the versioned change
//! log, the applied-update keys and the per-instance outboxes.
//!
//! Why this shape: every instance keeps a whole engine in memory (a
//! replica), because the rules live there and a round trip per rule would
//! be slow and would write every rule twice. What must not happen is two
//! instances deciding on different views at once, so decisions are taken in
//! turns:
//!
//! 1. [`RedisStore::begin_shared`] (`begin.lua`) takes the **lease**
//!    (`SET lease <token> NX PX`), and hands back the **change log**
//!    entries other instances appended since this one's version, and which
//!    of the batch's update ids are already applied (`update:<id>`, so a
//!    webhook update redelivered to another instance is applied once). The
//!    shell applies the entries to its engine
//!    ([`crate::engine::Engine::apply_replicated`]) and then decides.
//! 2. The commit (`apply.lua`, "fenced") writes only if the lease is still
//!    this instance's (or free) and `version` is still the one decided on;
//!    otherwise nothing is written and the commit fails like any failed
//!    commit (the shell reloads and the update is retried). On success it
//!    bumps `version`, appends the batch's state records to the log
//!    (`XADD changes <version>-1`), marks the updates applied and releases
//!    the lease, so instances take turns batch by batch.
//!
//! The token is the instance id plus a random suffix per process start, so
//! a restarted instance never mistakes its previous life's lease for its
//! own. Bookkeeping-only batches (finished sends, links, counters) commute
//! and are committed unfenced.
//!
//! **Outboxes.** Each instance commits its sends to `outbox:<id>` and renews
//! `alive:<id>` in [`RedisStore::heartbeat_shared`]; the same script moves
//! the outbox of any instance whose sign of life has expired into the
//! caller's own, which then sends it (`heartbeat.lua`).

use super::keys::Keys;
use super::RedisStore;
use crate::engine::effect::{Outbound, Record};
use crate::store::{Batch, Begun, StoreError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a lease lasts unless released: the longest another instance
/// waits after a holder died mid-decision.
pub const LEASE_MS: u64 = 2000;
/// How long `begin` waits for another instance's lease before giving up
/// (the batch then counts as not committed).
pub const LEASE_WAIT: Duration = Duration::from_millis(2500);
/// How many change-log entries the server keeps (roughly: `MAXLEN ~`). An
/// instance further behind reloads everything instead.
pub const LOG_KEEP: u64 = 10_000;
/// How long a sign of life lasts; an instance silent for longer has its
/// outbox adopted. Renewed every second by the update loop.
pub const ALIVE_MS: u64 = 5000;
/// How long an applied update id is remembered (Telegram gives up
/// redelivering long before).
pub const UPDATE_TTL_SECS: u64 = 86_400;

/// This process's part in a shared prefix.
#[derive(Debug)]
pub(super) struct Shared {
    /// `INSTANCE_ID`.
    pub instance: String,
    /// The lease value: the instance id and a random suffix.
    pub token: String,
    /// The change-log version the engine replica reflects.
    pub version: AtomicU64,
    /// Whether `begin` took the lease and no fenced commit released it yet.
    pub holding: AtomicBool,
    /// Whether the last heartbeat found no other instance alive: `begin`
    /// then only reads (see [`RedisStore::begin_shared`]).
    pub alone: AtomicBool,
}

impl Shared {
    pub fn new(instance: &str) -> Self {
        Shared {
            instance: instance.to_owned(),
            token: format!("{instance}:{:016x}", random_u64()),
            version: AtomicU64::new(0),
            holding: AtomicBool::new(false),
            alone: AtomicBool::new(false),
        }
    }
}

/// Whether a batch carries a decision of the engine (so it must be fenced)
/// rather than only bookkeeping that commutes with anything.
pub(super) fn is_decision(batch: &Batch) -> bool {
    !batch.outbox_add.is_empty()
        || !batch.update_ids.is_empty()
        || batch.records.iter().any(is_replicated)
}

/// Records other replicas must apply. Links, their pruning and counters
/// live only in the store.
pub(super) fn is_replicated(record: &Record) -> bool {
    !matches!(
        record,
        Record::Link { .. } | Record::PruneLinks { .. } | Record::Count { .. }
    )
}

/// The arguments in front of a fenced batch's ops (see `apply.lua`): the
/// lease and version to check, the change-log entry (its replicated
/// records; empty if it has none) and the update ids to mark.
pub(super) fn fence_args(
    keys: &Keys,
    shared: &Shared,
    batch: &Batch,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let replicated: Vec<&Record> = batch.records.iter().filter(|r| is_replicated(r)).collect();
    let entry = if replicated.is_empty() {
        Vec::new()
    } else {
        crate::store::encode(&replicated)?
    };
    let mut args: Vec<Vec<u8>> = vec![
        b"fenced".to_vec(),
        keys.lease().into_bytes(),
        shared.token.clone().into_bytes(),
        keys.version().into_bytes(),
        shared
            .version
            .load(Ordering::SeqCst)
            .to_string()
            .into_bytes(),
        keys.changes().into_bytes(),
        entry,
        LOG_KEEP.to_string().into_bytes(),
        keys.update_prefix().into_bytes(),
        batch.update_ids.len().to_string().into_bytes(),
    ];
    args.extend(
        batch
            .update_ids
            .iter()
            .map(|id| id.to_string().into_bytes()),
    );
    Ok(args)
}

/// `begin.lua`'s reply when it got the lease.
type BeginReply = (u64, u64, u64, Vec<String>, Vec<Vec<u8>>);

impl RedisStore {
    /// Takes the lease (waiting for another instance's for up to
    /// [`LEASE_WAIT`]) and reports what changed since this instance's
    /// version and which of `updates` are already applied.
    ///
    /// An instance that found no other alive at its last heartbeat first
    /// only reads: if no lease is held and the version is its own, it
    /// decides without taking the lease (the fenced commit still refuses
    /// the decision if another instance took a turn meanwhile). So a single
    /// instance writes nothing to begin a decision, and a stalled server
    /// fails the commit, as before, rather than the begin.
    pub(super) async fn begin_shared(&self, updates: &[i64]) -> Result<Begun, StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(Begun::default());
        };
        if shared.alone.load(Ordering::SeqCst) {
            if let Some(begun) = self.begin_alone(shared, updates).await? {
                return Ok(begun);
            }
        }
        let deadline = Instant::now() + LEASE_WAIT;
        loop {
            let reply = self.begin_once(shared, updates).await?;
            match reply {
                Ok((_, version, reload, applied, entries)) => {
                    shared.holding.store(true, Ordering::SeqCst);
                    return self.begun(shared, version, reload == 1, applied, entries);
                }
                Err(pttl) if Instant::now() < deadline => {
                    // Another instance decides: wait a moment (its batch
                    // usually takes a millisecond or two), a little longer
                    // the longer its lease still runs.
                    let ms = (pttl.max(1) as u64).min(3) + random_u64() % 2;
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Err(_) => {
                    return Err(StoreError::Read(format!(
                        "Redis at {}: another instance held the lease for longer than {} ms",
                        self.shown_url,
                        LEASE_WAIT.as_millis()
                    )))
                }
            }
        }
    }

    /// The read-only begin of an instance alone: `None` if another
    /// instance holds the lease or committed since (then the lease it is).
    async fn begin_alone(
        &self,
        shared: &Shared,
        updates: &[i64],
    ) -> Result<Option<Begun>, StoreError> {
        let k = &self.keys;
        let mut pipe = ::redis::pipe();
        pipe.get(k.lease()).get(k.version());
        for id in updates {
            pipe.exists(format!("{}{id}", k.update_prefix()));
        }
        let mut conn = self.conn.clone();
        let (holder, version, found): (Option<String>, Option<u64>, Vec<bool>) = {
            let reply: Vec<::redis::Value> = pipe
                .query_async(&mut conn)
                .await
                .map_err(|e| self.read_error(e))?;
            let mut reply = reply.into_iter();
            let mut next = || reply.next().unwrap_or(::redis::Value::Nil);
            let holder = ::redis::from_redis_value(next()).map_err(|e| self.read_error(e))?;
            let version = ::redis::from_redis_value(next()).map_err(|e| self.read_error(e))?;
            let found = updates
                .iter()
                .map(|_| ::redis::from_redis_value(next()))
                .collect::<Result<_, _>>()
                .map_err(|e| self.read_error(e))?;
            (holder, version, found)
        };
        let current = version.unwrap_or(0) == shared.version.load(Ordering::SeqCst);
        if holder.is_some_and(|h| h != shared.token) || !current {
            return Ok(None);
        }
        let applied = updates
            .iter()
            .zip(found)
            .filter_map(|(id, yes)| yes.then_some(*id))
            .collect();
        Ok(Some(Begun {
            changes: Vec::new(),
            reload: false,
            applied: Some(applied),
        }))
    }

    /// One run of `begin.lua`: the reply, or how long the other
    /// instance's lease still runs.
    async fn begin_once(
        &self,
        shared: &Shared,
        updates: &[i64],
    ) -> Result<Result<BeginReply, i64>, StoreError> {
        let k = &self.keys;
        let mut invocation = self.begin.prepare_invoke();
        invocation
            .arg(k.lease())
            .arg(&shared.token)
            .arg(LEASE_MS)
            .arg(k.version())
            .arg(k.changes())
            .arg(shared.version.load(Ordering::SeqCst))
            .arg(LOG_KEEP)
            .arg(k.update_prefix());
        for id in updates {
            invocation.arg(*id);
        }
        let mut conn = self.conn.clone();
        let reply: ::redis::Value = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let busy: Result<(u64, i64), _> = ::redis::from_redis_value_ref(&reply);
        match busy {
            Ok((0, pttl)) => Ok(Err(pttl)),
            _ => ::redis::from_redis_value(reply)
                .map(Ok)
                .map_err(|e| self.read_error(e)),
        }
    }

    fn begun(
        &self,
        shared: &Shared,
        version: u64,
        reload: bool,
        applied: Vec<String>,
        entries: Vec<Vec<u8>>,
    ) -> Result<Begun, StoreError> {
        let applied = applied
            .iter()
            .map(|id| self.id::<i64>(id))
            .collect::<Result<_, _>>()?;
        if reload {
            // The caller reloads; `load` sets the version it reads.
            return Ok(Begun {
                changes: Vec::new(),
                reload: true,
                applied: Some(applied),
            });
        }
        let mut changes = Vec::new();
        for entry in &entries {
            changes.extend(self.decode::<Vec<Record>>(entry, "change log entry")?);
        }
        shared.version.store(version, Ordering::SeqCst);
        Ok(Begun {
            changes,
            reload: false,
            applied: Some(applied),
        })
    }

    /// Releases the lease if `begin` took it and no commit released it.
    pub(super) async fn end_shared(&self) -> Result<(), StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        if !shared.holding.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let _: i64 = self
            .release
            .key(self.keys.lease())
            .arg(&shared.token)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        Ok(())
    }

    /// Renews this instance's sign of life and adopts dead instances'
    /// outboxes under send numbers from `next_seq` on.
    pub(super) async fn heartbeat_shared(
        &self,
        next_seq: u64,
    ) -> Result<Vec<(u64, Outbound)>, StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(Vec::new());
        };
        let k = &self.keys;
        let mut conn = self.conn.clone();
        let (others, moved): (u64, Vec<(u64, Vec<u8>)>) = self
            .heartbeat
            .arg(k.alive_prefix())
            .arg(&shared.instance)
            .arg(ALIVE_MS)
            .arg(k.instances())
            .arg(k.outbox_prefix())
            .arg(k.legacy_outbox())
            .arg(next_seq)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        shared.alone.store(others == 0, Ordering::SeqCst);
        moved
            .into_iter()
            .map(|(seq, raw)| Ok((seq, self.decode(&raw, "outbox")?)))
            .collect()
    }

    /// Which of `updates` are marked applied.
    pub(super) async fn applied_shared(&self, updates: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut pipe = ::redis::pipe();
        for id in updates {
            pipe.exists(format!("{}{id}", self.keys.update_prefix()));
        }
        let mut conn = self.conn.clone();
        let found: Vec<bool> = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        Ok(updates
            .iter()
            .zip(found)
            .filter_map(|(id, yes)| yes.then_some(*id))
            .collect())
    }

    /// After a fenced commit: the version it left, and the lease released.
    pub(super) fn committed_at(&self, version: u64) {
        if let Some(shared) = &self.shared {
            shared.version.store(version, Ordering::SeqCst);
            shared.holding.store(false, Ordering::SeqCst);
        }
    }

    /// After a load: the engine rebuilt from it reflects `version`.
    pub(super) fn loaded_at(&self, version: u64) {
        if let Some(shared) = &self.shared {
            shared.version.store(version, Ordering::SeqCst);
        }
    }
}

/// Random enough for tokens and jitter, without another dependency.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return nanos as u64 ^ u64::from(std::process::id());
    }
    u64::from_le_bytes(bytes)
}
