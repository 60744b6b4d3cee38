//! The bot's side of the control socket.
//!
//! Only the process holding the database lock binds the socket, so a
//! `randchat.sock` found at start-up was left by a bot that died, and is
//! replaced. The file is made 0600 right after binding, and every connection
//! is checked against the peer's uid as well (the two together leave no
//! window in which another user could get in).

use super::{socket_path, Reply, Request};
use crate::store::{OpenStore, StoreError, REDIS_BACKUP_HINT};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// A request line longer than this is not one of ours.
const MAX_REQUEST: u64 = 4096;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound control socket, ready to serve.
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    owner: u32,
    store: OpenStore,
    data_dir: PathBuf,
}

impl ControlServer {
    /// Binds `DATA_DIR/randchat.sock`. Call only while holding the database
    /// (after [`crate::store::EmbeddedStore::open`]), and inside the runtime.
    /// With the Redis store there is no file lock; the socket belongs to
    /// the last bot started on this `DATA_DIR`.
    pub fn bind(data_dir: &Path, store: OpenStore) -> std::io::Result<Self> {
        let path = socket_path(data_dir);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let owner = std::fs::metadata(&path)?.uid();
        Ok(ControlServer {
            listener,
            path,
            owner,
            store,
            data_dir: data_dir.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves connections, each in its own task, until the task is dropped.
    pub async fn serve(self) {
        let this = Arc::new(self);
        loop {
            let stream = match this.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let uid = stream.peer_cred().map(|cred| cred.uid());
            if !matches!(uid, Ok(uid) if uid == this.owner || uid == 0) {
                tracing::warn!(
                    ?uid,
                    "control socket: refused a connection from another user"
                );
                continue;
            }
            let server = this.clone();
            tokio::spawn(async move {
                if let Err(error) = server.handle(stream).await {
                    tracing::debug!(%error, "control connection ended early");
                }
            });
        }
    }

    async fn handle(&self, stream: UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        let mut reader = BufReader::new(read.take(MAX_REQUEST));
        let request = match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await
        {
            Ok(Ok(_)) => serde_json::from_str::<Request>(line.trim()),
            Ok(Err(error)) => return Err(error),
            Err(_) => return Ok(()),
        };
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                let reply = Reply::failed(format!("bad request: {error}"));
                return send(&mut write, &reply).await;
            }
        };
        match request {
            // Every CLI command starts with a ping; keep it out of info logs.
            Request::Ping => tracing::debug!(?request, "control request"),
            _ => tracing::info!(?request, "control request"),
        }
        match request {
            Request::Ping => {
                let reply = Reply {
                    ok: true,
                    pid: Some(std::process::id()),
                    version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                    ..Reply::default()
                };
                send(&mut write, &reply).await
            }
            Request::Stats => {
                let reply = match self.store.backend().stats().await {
                    Ok(stats) => Reply {
                        ok: true,
                        stats: Some(stats),
                        ..Reply::default()
                    },
                    Err(error) => Reply::failed(error.to_string()),
                };
                send(&mut write, &reply).await
            }
            Request::Backup => self.backup(&mut write).await,
        }
    }

    /// Snapshots the database into a temporary file in the data directory
    /// (where the bot may always write, even under systemd's
    /// `ProtectSystem=strict`), then streams it; the client writes it where
    /// it wants with its own permissions.
    async fn backup(&self, write: &mut (impl AsyncWriteExt + Unpin)) -> std::io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!(".backup-{}-{n}.redb.tmp", std::process::id());
        let Some(store) = self.store.embedded().cloned() else {
            return send(write, &Reply::failed(REDIS_BACKUP_HINT)).await;
        };
        let temp = TempFile(self.data_dir.join(name));
        let path = temp.0.clone();
        let taken = tokio::task::spawn_blocking(move || store.write_snapshot(&path))
            .await
            .unwrap_or_else(|e| Err(StoreError::Read(format!("backup task failed: {e}"))));
        let stats = match taken {
            Ok(stats) => stats,
            Err(error) => {
                tracing::error!(%error, "backup failed");
                return send(write, &Reply::failed(format!("backup failed: {error}"))).await;
            }
        };
        let mut file = tokio::fs::File::open(&temp.0).await?;
        let bytes = file.metadata().await?.len();
        let reply = Reply {
            ok: true,
            stats: Some(stats),
            bytes: Some(bytes),
            ..Reply::default()
        };
        send(write, &reply).await?;
        let sent = tokio::io::copy(&mut (&mut file).take(bytes), write).await?;
        write.flush().await?;
        tracing::info!(bytes = sent, "backup sent");
        Ok(())
    }
}

async fn send(write: &mut (impl AsyncWriteExt + Unpin), reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    write.flush().await
}

/// Removes the file when dropped, whatever happened.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
