//! The admin HTTP server: what orchestrators ask a running bot.
//!
//! Why a server at all, when the bot only makes outgoing calls: every
//! platform randchat runs on (Docker, Kubernetes, Fly.io, Render, systemd
//! watchdogs, load balancers) decides "restart it?" and "is it up yet?" by
//! probing HTTP. Two probes, with the usual split:
//!
//! - `GET /healthz` — liveness: 200 `ok` as long as the process is serving
//!   requests at all. A failing liveness probe means "restart me".
//! - `GET /readyz` — readiness: 200 `ready` once the bot has reached Telegram
//!   (getMe, deleteWebhook, setMyCommands) and restored its state from the
//!   store, 503 `starting` before that and `stopping` after a shutdown
//!   signal. A failing readiness probe means "not yet / not any more", not
//!   "restart me".
//!
//! Routes are grouped by concern: the probes and `/metrics` here, the admin
//! dashboard (behind `ADMIN_TOKEN`) in [`dashboard`] with its pages
//! ([`page`], [`chart`]), sign-in ([`auth`]) and actions ([`api`]). The
//! dashboard reads and changes the bot only through the update loop
//! ([`crate::submit`]), never the store directly.

pub mod api;
pub mod auth;
pub mod chart;
pub mod dashboard;
pub mod page;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Where the bot is in its life, as the readiness probe reports it. Shared
/// between the app (which moves it forward) and the server (which reads it).
#[derive(Clone, Debug)]
pub struct Readiness(Arc<AtomicU8>);

const STARTING: u8 = 0;
const READY: u8 = 1;
const STOPPING: u8 = 2;

impl Default for Readiness {
    fn default() -> Self {
        Readiness(Arc::new(AtomicU8::new(STARTING)))
    }
}

impl Readiness {
    /// Starting: not ready until [`Readiness::set_ready`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Connected to Telegram and state restored: ready for traffic.
    pub fn set_ready(&self) {
        self.0.store(READY, Ordering::Release);
    }

    /// A shutdown has begun; stays so until the process exits.
    pub fn set_stopping(&self) {
        self.0.store(STOPPING, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire) == READY
    }

    fn describe(&self) -> &'static str {
        match self.0.load(Ordering::Acquire) {
            READY => "ready",
            STOPPING => "stopping",
            _ => "starting",
        }
    }
}

/// Everything handlers can reach. Cheap to clone (axum clones it per request).
#[derive(Clone)]
pub struct AdminState {
    pub readiness: Readiness,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// The dashboard, when `ADMIN_TOKEN` is set.
    pub dashboard: Option<dashboard::Dashboard>,
}

/// Every route of the admin server.
pub fn router(state: AdminState) -> Router {
    let pages = match state.dashboard.clone() {
        Some(enabled) => dashboard::routes(enabled),
        None => dashboard::disabled(),
    };
    Router::new().merge(probes()).with_state(state).merge(pages)
}

/// Liveness and readiness.
fn probes() -> Router<AdminState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AdminState>) -> ([(&'static str, &'static str); 1], String) {
    let content_type = ("content-type", "text/plain; version=0.0.4; charset=utf-8");
    ([content_type], state.metrics.render())
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AdminState>) -> (StatusCode, &'static str) {
    let status = match state.readiness.is_ready() {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, state.readiness.describe())
}

/// A bound, not yet serving, admin server. Binding is separate from serving
/// so a taken port is a start-up error, not a log line from a background task.
pub struct AdminServer {
    listener: TcpListener,
    state: AdminState,
}

impl AdminServer {
    /// Binds `addr`. The error names `ADMIN_LISTEN`, the key to change.
    pub async fn bind(addr: SocketAddr, state: AdminState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await.map_err(|error| {
            anyhow::anyhow!("cannot listen on ADMIN_LISTEN={addr}: {error}; pick another address or set ADMIN_LISTEN=off")
        })?;
        Ok(AdminServer { listener, state })
    }

    /// The address actually bound (differs from the request for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let app = router(self.state);
        if let Err(error) = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "admin server failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn probes_follow_readiness() {
        let readiness = Readiness::new();
        let state = AdminState {
            readiness: readiness.clone(),
            metrics: Default::default(),
            dashboard: None,
        };
        let server = AdminServer::bind("127.0.0.1:0".parse().unwrap(), state)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(server.serve(std::future::pending()));

        let health = get(addr, "/healthz").await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(health.ends_with("ok"), "{health}");
        let ready = get(addr, "/readyz").await;
        assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
        assert!(ready.ends_with("starting"), "{ready}");

        readiness.set_ready();
        let ready = get(addr, "/readyz").await;
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

        readiness.set_stopping();
        let ready = get(addr, "/readyz").await;
        assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
        assert!(ready.ends_with("stopping"), "{ready}");
        assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));
    }

    #[tokio::test]
    async fn a_taken_port_names_the_key() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let state = AdminState {
            readiness: Readiness::new(),
            metrics: Default::default(),
            dashboard: None,
        };
        let error = AdminServer::bind(addr, state).await.err().unwrap();
        assert!(error.to_string().contains("ADMIN_LISTEN="), "{error}");
    }
}
