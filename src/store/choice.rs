//! Opening the backend the configuration chose (`STORE`, `REDIS_URL`).
//!
//! The update loop only needs `Arc<dyn Backend>`; the operator side also
//! needs to know which store it has, because backups are a feature of the
//! embedded redb file (a Redis server is backed up with Redis's own tools).

use super::{Backend, EmbeddedStore, RedisStore, StoreError};
use crate::config::StoreChoice;
use std::path::Path;
use std::sync::Arc;

/// An open store of either kind.
#[derive(Clone, Debug)]
pub enum OpenStore {
    Embedded(Arc<EmbeddedStore>),
    Redis(Arc<RedisStore>),
}

impl OpenStore {
    /// Opens what `choice` names: the redb file in `data_dir`, or the Redis
    /// server. Call inside the runtime.
    pub async fn open(choice: &StoreChoice, data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_as(choice, data_dir, None).await
    }

    /// [`OpenStore::open`] for the running bot: on Redis, as instance
    /// `instance` (`INSTANCE_ID`), which takes turns with other instances on
    /// the prefix and keeps its own outbox (see `redis/shared.rs`). The
    /// embedded store is one process's; `instance` changes nothing there.
    pub async fn open_as(
        choice: &StoreChoice,
        data_dir: &Path,
        instance: Option<&str>,
    ) -> Result<Self, StoreError> {
        match choice {
            StoreChoice::Embedded => {
                let data_dir = data_dir.to_path_buf();
                let opened = tokio::task::spawn_blocking(move || EmbeddedStore::open(&data_dir))
                    .await
                    .map_err(|e| StoreError::Read(format!("opening the store failed: {e}")))?;
                Ok(OpenStore::Embedded(opened?))
            }
            StoreChoice::Redis { url, prefix } => {
                // Nothing but the control socket lives in DATA_DIR now;
                // without the directory, the socket is simply unavailable.
                let _ = std::fs::create_dir_all(data_dir);
                let store = match instance {
                    Some(id) => RedisStore::open_instance(url, prefix, id).await?,
                    None => RedisStore::open(url, prefix).await?,
                };
                tracing::info!(
                    url = store.shown_url(),
                    prefix,
                    instance,
                    "using the Redis store"
                );
                Ok(OpenStore::Redis(store))
            }
        }
    }

    /// The store as the update loop sees it.
    pub fn backend(&self) -> Arc<dyn Backend> {
        match self {
            OpenStore::Embedded(store) => store.clone(),
            OpenStore::Redis(store) => store.clone(),
        }
    }

    /// The embedded store, which alone can write a backup file.
    pub fn embedded(&self) -> Option<&Arc<EmbeddedStore>> {
        match self {
            OpenStore::Embedded(store) => Some(store),
            OpenStore::Redis(_) => None,
        }
    }

    /// Where the data is, for operators: a file, or a server and prefix.
    pub fn describe(&self) -> String {
        match self {
            OpenStore::Embedded(store) => store.path().display().to_string(),
            OpenStore::Redis(store) => {
                format!("Redis at {} (prefix {})", store.shown_url(), store.prefix())
            }
        }
    }
}

/// Why `backup` and `restore` refuse on the Redis store.
pub const REDIS_BACKUP_HINT: &str = "backup and restore work on the embedded store only; \
    this bot keeps its state in Redis, so back up the Redis server itself \
    (BGSAVE, or copy its RDB/AOF files); see docs/redis.md";
