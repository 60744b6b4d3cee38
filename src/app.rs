//! Wiring: open the store, connect to Telegram, run until a signal.

use crate::store::{Backend, OpenStore};
use crate::telegram::poller::{LoopSettings, Poller};
use crate::telegram::source::UpdateSource;
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
    /// Send copies with protect_content (PROTECT_CONTENT).
    pub protect_content: bool,
    /// Admin HTTP server and control socket (see [`crate::service`]).
    pub service: crate::service::ServiceSettings,
    pub moderation: crate::engine::ModerationConfig,
    /// Anti-spam rules, the AI moderator and the broadcast pace.
    pub antispam: crate::engine::AntispamConfig,
    pub moderator: Option<crate::moderation_ai::ModeratorSettings>,
    pub broadcast_rate: u32,
    pub matching: crate::engine::MatchConfig,
    /// Where state lives: the embedded file in `data_dir`, or Redis.
    pub store: crate::config::StoreChoice,
    /// This instance's name on a shared Redis prefix (`INSTANCE_ID`).
    pub instance_id: String,
    /// Webhook mode (`WEBHOOK_URL`); `None` long-polls.
    pub webhook: Option<crate::config::WebhookConfig>,
}

/// Runs the bot until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let instance = Some(settings.instance_id.as_str());
    let opened = OpenStore::open_as(&settings.store, &settings.data_dir, instance).await?;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let (submitter, requests) = crate::submit::channel();
    let service = crate::service::start(
        &settings.service,
        opened.clone(),
        metrics.clone(),
        submitter,
    )
    .await?;
    let store: Arc<dyn Backend> = opened.backend();
    let names = Pseudonymizer::from_secret(&settings.token);
    let bot = crate::telegram::bot(&settings.token, settings.api_url, settings.poll_timeout)?;
    let loop_settings = LoopSettings {
        poll_timeout: settings.poll_timeout,
        throttle: settings.throttle,
        engine: settings.engine,
        protect_content: settings.protect_content,
        moderation: settings.moderation,
        matching: settings.matching,
        inbox_dir: Some(settings.data_dir.clone()),
        metrics,
        antispam: settings.antispam,
        moderator: settings.moderator,
        broadcast_rate: settings.broadcast_rate,
    };
    let source = update_source(&settings.webhook, settings.poll_timeout).await?;
    let poller = Poller::start_with_source(bot, store, names, loop_settings, source)
        .await?
        .accept(requests);
    service.readiness.set_ready();
    let readiness = service.readiness.clone();
    let stopping = async move {
        shutdown_signal().await;
        readiness.set_stopping();
    };
    // On a worker of the multi-threaded runtime, not on the thread that
    // called `block_on`: that thread is not a worker, so every wake-up of a
    // loop living there crossed threads, and the loop could not share a
    // worker's local queue with the tasks it talks to (dispatch, commits).
    tokio::spawn(poller.run(stopping))
        .await
        .map_err(|error| anyhow::anyhow!("the update loop panicked: {error}"))?
}

/// Long polling, or a bound and serving webhook server (bound before
/// setWebhook, so Telegram's first delivery finds it listening).
async fn update_source(
    webhook: &Option<crate::config::WebhookConfig>,
    poll_timeout: Duration,
) -> anyhow::Result<UpdateSource> {
    let Some(config) = webhook else {
        return Ok(UpdateSource::LongPolling {
            timeout: poll_timeout,
        });
    };
    let (server, feed) = crate::telegram::webhook::bind(config).await?;
    tracing::info!(addr = %server.local_addr()?, "webhook server listening");
    tokio::spawn(server.serve(std::future::pending()));
    Ok(UpdateSource::Webhook(feed))
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
