//! Wiring: open the store, connect to Telegram, run until a signal.

use crate::store::embedded::EmbeddedStore;
use crate::store::Backend;
use crate::telegram::poller::{LoopSettings, Poller};
use crate::telemetry::Pseudonymizer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the bot needs to run. `main` builds it from the configuration.
pub struct Settings {
    pub token: String,
    pub api_url: url::Url,
    pub data_dir: PathBuf,
    pub poll_timeout: Duration,
    pub throttle: crate::telegram::throttle::ThrottleConfig,
    pub engine: crate::engine::EngineConfig,
    pub moderation: crate::engine::ModerationConfig,
}

/// Runs the bot until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let store: Arc<dyn Backend> = EmbeddedStore::open(&settings.data_dir)?;
    let names = Pseudonymizer::from_secret(&settings.token);
    let bot = crate::telegram::bot(&settings.token, settings.api_url, settings.poll_timeout)?;
    let loop_settings = LoopSettings {
        poll_timeout: settings.poll_timeout,
        throttle: settings.throttle,
        engine: settings.engine,
        moderation: settings.moderation,
    };
    let poller = Poller::start(bot, store, names, loop_settings).await?;
    poller.run(shutdown_signal()).await
}

/// Completes on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown signal received");
}
