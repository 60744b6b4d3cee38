//! The operator-facing side of a running bot, started with one call from
//! [`crate::app::run`]: the admin HTTP server ([`crate::http`]) and the
//! control socket ([`crate::control`]).
//!
//! Why here and not in `app`: `app` is the product's wiring (store, Telegram,
//! signals). Probes, backups and, later, a dashboard and metrics are about
//! running the product, and grow on their own.
//!
//! The dashboard (on when `ADMIN_TOKEN` is set) also gets its per-minute
//! chart sampler here.
//!
//! Failure policy: a taken `ADMIN_LISTEN` port stops start-up, because the
//! operator asked for it and the platform's health checks rely on it. A
//! control socket that cannot be bound (for instance, a `DATA_DIR` path too
//! long for a Unix socket) only logs a warning: the bot still serves users,
//! and `randchat stats`/`backup` say clearly that they cannot reach it.

use crate::control::server::ControlServer;
use crate::http::auth::Auth;
use crate::http::dashboard::Dashboard;
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
    /// Opens the dashboard (`ADMIN_TOKEN`); `None` leaves it off.
    pub admin_token: Option<crate::config::AdminToken>,
}

/// How often the dashboard's charts get a sample.
const SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The running operator side. Dropping it removes the control socket file;
/// the servers themselves end with the runtime.
pub struct Service {
    pub readiness: Readiness,
    socket: Option<PathBuf>,
}

/// Binds the admin server and the control socket and serves them in
/// background tasks. Call after the store is open, inside the runtime.
/// `submitter` carries dashboard actions into the update loop.
pub async fn start(
    settings: &ServiceSettings,
    store: OpenStore,
    metrics: Arc<crate::metrics::Metrics>,
    submitter: crate::submit::Submitter,
) -> anyhow::Result<Service> {
    let readiness = Readiness::new();
    if let Some(addr) = settings.admin_listen {
        let dashboard = settings.admin_token.as_ref().map(|token| Dashboard {
            auth: Arc::new(Auth::new(token.expose())),
            submitter,
            metrics: metrics.clone(),
        });
        if dashboard.is_some() {
            tokio::spawn(sample_every_minute(metrics.clone()));
        }
        let state = AdminState {
            readiness: readiness.clone(),
            metrics,
            dashboard,
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

/// Feeds the dashboard's charts: a sample now, then once a minute.
async fn sample_every_minute(metrics: Arc<crate::metrics::Metrics>) {
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    loop {
        every.tick().await;
        metrics.sample(crate::domain::Timestamp::now().0);
    }
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
