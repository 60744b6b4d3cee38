//! The Redis backend: the same records as the embedded store, kept on a
//! Redis-protocol server (Redis 6 or newer, Valkey, KeyDB).
//!
//! Why: the embedded store ties the bot's state to one machine's disk. With
//! Redis the state lives on a server the operator already runs, backs up and
//! monitors, and a restarted or moved bot picks it up from there.
//!
//! **Atomic batches.** A [`Batch`] becomes one call of `apply.lua` (through
//! redis-rs [`Script`]: `EVALSHA`, loading the script when the server does
//! not know it, e.g. after a restart). Redis runs a script without letting
//! any other command in, and the script checks every key's type before it
//! writes anything, so a batch is applied whole or not at all.
//!
//! **Durability** is whatever the server is configured for: with
//! `appendonly yes` and `appendfsync always` a committed batch survives a
//! power loss, as with the embedded store; with the defaults it may lose
//! the last second. See docs/redis.md.
//!
//! **Outages.** The connection is a redis-rs [`ConnectionManager`], which
//! reconnects by itself after the server restarts or the network drops.
//! While the server can't be reached, every call fails within
//! [`RESPONSE_TIMEOUT`] with a [`StoreError`]; the update loop then tells
//! users the bot is temporarily unavailable (its degraded mode) and carries
//! on when the server answers again.
//!
//! **Several instances.** A store opened with [`RedisStore::open_instance`]
//! (the running bot, named by `INSTANCE_ID`) takes turns with the other
//! instances on its prefix: [`Backend::begin`] before a decision, a fenced
//! commit after it, and an outbox of its own ([`shared`]). A store opened
//! with [`RedisStore::open`] (the CLI, the tests of the store itself)
//! commits as before.
//!
//! The key layout is in [`keys`]; the mapping from records to script
//! operations in [`ops`]; loading, stats and links in [`load`].

mod export;
pub mod keys;
mod load;
mod ops;
pub mod shared;

use super::{Backend, Batch, Begun, BoxFuture, Snapshot, Stats, StoreError};
use crate::engine::effect::Counterpart;
use crate::engine::effect::Outbound;
use crate::engine::event::Linked;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{AsyncCommands, Script};
use keys::Keys;
use std::sync::Arc;
use std::time::Duration;

pub use keys::DEFAULT_PREFIX;

/// The key layout version this build reads and writes (`meta` field
/// `schema_version`). A server holding a newer one is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// How long one call may wait for the server before it counts as failed.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis store. Cheap to share: clone the `Arc`.
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    apply: Script,
    /// Several instances on one prefix ([`shared`]).
    begin: Script,
    heartbeat: Script,
    release: Script,
    /// Set when this process is a named instance (`INSTANCE_ID`).
    shared: Option<shared::Shared>,
    /// The server's URL with any password masked, for messages.
    shown_url: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown_url)
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url`, checks the key layout version under `prefix`
    /// (recording it on a fresh server) and returns the store. Fails with
    /// [`StoreError::Unreachable`] if the server does not answer.
    pub async fn open(url: &str, prefix: &str) -> Result<Arc<Self>, StoreError> {
        Self::open_with(url, prefix, None).await
    }

    /// [`RedisStore::open`] for a running bot instance named `instance`
    /// (`INSTANCE_ID`): it decides in turns with any other instance on the
    /// prefix and keeps its own outbox ([`shared`]).
    pub async fn open_instance(
        url: &str,
        prefix: &str,
        instance: &str,
    ) -> Result<Arc<Self>, StoreError> {
        Self::open_with(url, prefix, Some(instance)).await
    }

    async fn open_with(
        url: &str,
        prefix: &str,
        instance: Option<&str>,
    ) -> Result<Arc<Self>, StoreError> {
        let shown_url = mask_password(url);
        let unreachable = |e: ::redis::RedisError| StoreError::Unreachable {
            url: shown_url.clone(),
            detail: e.to_string(),
        };
        let client = ::redis::Client::open(url).map_err(unreachable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            // Reconnect attempts within one call; later calls try again.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unreachable)?;
        let store = Arc::new(RedisStore {
            conn,
            keys: match instance {
                Some(id) => Keys::for_instance(prefix, id),
                None => Keys::new(prefix),
            },
            apply: Script::new(include_str!("redis/apply.lua")),
            begin: Script::new(include_str!("redis/begin.lua")),
            heartbeat: Script::new(include_str!("redis/heartbeat.lua")),
            release: Script::new(RELEASE_LUA),
            shared: instance.map(shared::Shared::new),
            shown_url,
        });
        store.check_version().await?;
        Ok(store)
    }

    /// Whether the server at `url` answers PING, without writing anything
    /// (for `randchat check-config`).
    pub async fn ping(url: &str) -> Result<(), StoreError> {
        let unreachable = |e: ::redis::RedisError| StoreError::Unreachable {
            url: mask_password(url),
            detail: e.to_string(),
        };
        let client = ::redis::Client::open(url).map_err(unreachable)?;
        let config = ::redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(unreachable)?;
        let _: String = ::redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The server's URL, password masked.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    async fn check_version(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let meta = self.keys.meta();
        let field = keys::META_SCHEMA_VERSION;
        let found: Option<u32> = conn
            .hget(&meta, field)
            .await
            .map_err(|e| self.open_error(e))?;
        match found {
            None => {
                let _: () = conn
                    .hset(&meta, field, SCHEMA_VERSION)
                    .await
                    .map_err(|e| self.open_error(e))?;
                tracing::info!(prefix = self.keys.prefix(), "initialised the Redis store");
                Ok(())
            }
            Some(found) if found > SCHEMA_VERSION => Err(StoreError::Open {
                path: format!("{} (prefix {})", self.shown_url, self.keys.prefix()).into(),
                detail: format!(
                    "its data has layout version {found}, but this randchat understands up to {SCHEMA_VERSION}; upgrade randchat or use another REDIS_PREFIX"
                ),
            }),
            Some(_) => Ok(()),
        }
    }

    fn open_error(&self, e: ::redis::RedisError) -> StoreError {
        StoreError::Unreachable {
            url: self.shown_url.clone(),
            detail: e.to_string(),
        }
    }

    async fn commit_batch(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let fence = match &self.shared {
            Some(shared) if shared::is_decision(&batch) => {
                Some(shared::fence_args(&self.keys, shared, &batch)?)
            }
            _ => None,
        };
        let fenced = fence.is_some();
        let mut args = fence.unwrap_or_else(|| vec![b"plain".to_vec()]);
        args.extend(ops::batch_args(&self.keys, &batch)?);
        let mut invocation = self.apply.prepare_invoke();
        for arg in &args {
            invocation.arg(arg.as_slice());
        }
        let mut conn = self.conn.clone();
        let reply: u64 = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| StoreError::Write(format!("Redis at {}: {e}", self.shown_url)))?;
        if fenced {
            self.committed_at(reply);
        }
        Ok(())
    }

    fn read_error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Read(format!("Redis at {}: {e}", self.shown_url))
    }
}

impl Backend for RedisStore {
    fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>> {
        Box::pin(async move { self.load_snapshot().await })
    }

    fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move { self.commit_batch(batch).await })
    }

    fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>> {
        Box::pin(async move { self.load_stats().await })
    }

    fn linked(
        self: Arc<Self>,
        messages: Vec<Counterpart>,
    ) -> BoxFuture<'static, Result<Vec<Option<Linked>>, StoreError>> {
        Box::pin(async move { self.load_links(&messages).await })
    }

    fn users_after(
        self: Arc<Self>,
        after: Option<crate::domain::UserId>,
        limit: usize,
    ) -> BoxFuture<'static, Result<Vec<crate::domain::UserId>, StoreError>> {
        Box::pin(async move { self.load_users_after(after, limit).await })
    }

    fn export(
        self: Arc<Self>,
        sink: tokio::sync::mpsc::Sender<crate::store::export::Item>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move { self.export_items(sink).await })
    }

    fn begin(self: Arc<Self>, updates: Vec<i64>) -> BoxFuture<'static, Result<Begun, StoreError>> {
        Box::pin(async move { self.begin_shared(&updates).await })
    }

    fn end(self: Arc<Self>) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move { self.end_shared().await })
    }

    fn heartbeat(
        self: Arc<Self>,
        next_seq: u64,
    ) -> BoxFuture<'static, Result<Vec<(u64, Outbound)>, StoreError>> {
        Box::pin(async move { self.heartbeat_shared(next_seq).await })
    }

    fn tracks_updates(&self) -> bool {
        self.shared.is_some()
    }

    fn applied_updates(
        self: Arc<Self>,
        updates: Vec<i64>,
    ) -> BoxFuture<'static, Result<Option<Vec<i64>>, StoreError>> {
        Box::pin(async move {
            match self.shared {
                Some(_) => self.applied_shared(&updates).await.map(Some),
                None => Ok(None),
            }
        })
    }
}

/// Deletes the lease only if it is still the caller's.
const RELEASE_LUA: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

/// `url` with its password, if any, replaced by the mask.
fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some(crate::config::MASK));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => crate::config::MASK.to_owned(),
    }
}
