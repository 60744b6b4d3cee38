//! The operator-facing side of a running bot, started with one call from
//! [`crate::app::run`]: the admin HTTP server ([`crate::http`]) and the
//! control socket ([`crate::control`]).
//!
//! Why here and not in `app`: `app` is the product's wiring (store, Telegram,
//! signals). Probes, backups and, later, a dashboard and metrics are about
//! running the product, and grow on their own.
//!
//! Failure policy: a taken `ADMIN_LISTEN` port stops start-up, because the
//! operator asked for it and the platform's health checks rely on it. A
//! control socket that cannot be bound (for instance, a `DATA_DIR` path too
//! long for a Unix socket) only logs a warning: the bot still serves users,
//! and `randchat stats`/`backup` say clearly that they cannot reach it.

use crate::control::server::ControlServer;
use crate::http::{AdminServer, AdminState, Readiness};
use crate::store::OpenStore;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the operator side needs from the configuration.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    pub admin_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
}

/// The running operator side. Dropping it removes the control socket file;
/// the servers themselves end with the runtime.
pub struct Service {
    pub readiness: Readiness,
    socket: Option<PathBuf>,
}

/// Binds the admin server and the control socket and serves them in
/// background tasks. Call after the store is open, inside the runtime.
pub async fn start(
    settings: &ServiceSettings,
    store: OpenStore,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<Service> {
    let readiness = Readiness::new();
    if let Some(addr) = settings.admin_listen {
        let state = AdminState {
            readiness: readiness.clone(),
            metrics,
        };
        let server = AdminServer::bind(addr, state).await?;
        let bound = server.local_addr()?;
        // Tests (and operators using port 0) read the port from this line.
        tracing::info!(addr = %bound, "admin server listening");
        tokio::spawn(server.serve(std::future::pending()));
    } else {
        tracing::info!("admin server disabled (ADMIN_LISTEN=off)");
    }
    let socket = bind_control(&settings.data_dir, store);
    Ok(Service { readiness, socket })
}

fn bind_control(data_dir: &Path, store: OpenStore) -> Option<PathBuf> {
    match ControlServer::bind(data_dir, store) {
        Ok(server) => {
            let path = server.path().to_path_buf();
            tracing::info!(path = %path.display(), "control socket listening");
            tokio::spawn(server.serve());
            Some(path)
        }
        Err(error) => {
            let path = crate::control::socket_path(data_dir);
            tracing::warn!(
                path = %path.display(),
                %error,
                "control socket unavailable; `randchat stats` and `randchat backup` cannot reach this bot"
            );
            None
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}
