//! Webhook mode: Telegram POSTs each update to `WEBHOOK_URL`, served here.
//!
//! Why a server of its own (on `WEBHOOK_LISTEN`) rather than a route on the
//! admin server: the admin server is loopback-only by default and says
//! things (metrics) that must not face the internet, while the webhook
//! faces the internet by design. Two listeners keep that line sharp.
//!
//! Each request goes:
//!
//! 1. the `X-Telegram-Bot-Api-Secret-Token` header is compared with
//!    `WEBHOOK_SECRET` in constant time; absent or different → 401, and the
//!    update is not looked at;
//! 2. the body is parsed as an update (unparsable → 400);
//! 3. the update is handed to the update loop through a bounded queue, the
//!    same loop that serves long polling ([`super::source`]);
//! 4. the handler waits for the loop's answer: 200 once the update's effects
//!    (records, its update id and its sends in the outbox) are committed,
//!    500 if the commit failed or the store can't be read (Telegram
//!    retries), 503 if the bot is stopping. An update already applied (a retry whose first 200 got
//!    lost) is recognised by its update id and answered 200 unapplied.
//!
//! `setWebhook` is called with `max_connections = 1`: Telegram then sends
//! one update at a time, in order, so "an id at or below the last applied
//! one is a duplicate" stays true, as it is for long polling.
//! With several instances behind a load balancer that no longer holds (a
//! retry may reach another instance); the Redis store then marks every
//! applied update id instead (see `src/store/redis/shared.rs`).

use super::source::{Applied, Arrival};
use crate::config::{WebhookConfig, WebhookSecret};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use teloxide::types::Update;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Mutex};

/// The header Telegram puts the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Updates waiting for the loop; more wait in their HTTP requests.
const QUEUE: usize = 256;
/// The most waiting updates folded into one batch (one commit).
const MAX_BATCH: usize = 100;

/// An update from Telegram and the reply its request waits for.
struct Delivered {
    update: Update,
    ack: oneshot::Sender<Applied>,
}

/// The loop's end of the queue. Cheap to clone.
#[derive(Clone)]
pub struct WebhookFeed {
    /// Where Telegram should deliver, with the secret to demand.
    pub url: url::Url,
    pub secret: WebhookSecret,
    queue: Arc<Mutex<mpsc::Receiver<Delivered>>>,
}

impl WebhookFeed {
    /// Waits for the next update, then takes whatever else is waiting.
    /// Cancel-safe: dropping the future loses nothing.
    pub fn next(&self) -> Pin<Box<dyn Future<Output = Arrival> + Send>> {
        let queue = self.queue.clone();
        Box::pin(async move {
            let mut queue = queue.lock().await;
            let mut arrival = Arrival::default();
            let Some(first) = queue.recv().await else {
                // The server is gone; nothing more will come.
                drop(queue);
                return std::future::pending().await;
            };
            arrival.pushed(first.update, first.ack);
            while arrival.updates.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(more) => arrival.pushed(more.update, more.ack),
                    Err(_) => break,
                }
            }
            arrival
        })
    }
}

#[derive(Clone)]
struct Hook {
    secret: WebhookSecret,
    queue: mpsc::Sender<Delivered>,
}

/// A bound, not yet serving, webhook server.
pub struct WebhookServer {
    listener: TcpListener,
    router: Router,
}

/// Binds `WEBHOOK_LISTEN` and returns the server and the loop's feed.
pub async fn bind(config: &WebhookConfig) -> anyhow::Result<(WebhookServer, WebhookFeed)> {
    let listener = TcpListener::bind(config.listen).await.map_err(|error| {
        anyhow::anyhow!(
            "cannot listen on WEBHOOK_LISTEN={}: {error}; pick another address",
            config.listen
        )
    })?;
    let (sender, receiver) = mpsc::channel(QUEUE);
    let hook = Hook {
        secret: config.secret.clone(),
        queue: sender,
    };
    let router = Router::new()
        .route(config.url.path(), post(receive))
        .with_state(hook);
    let feed = WebhookFeed {
        url: config.url.clone(),
        secret: config.secret.clone(),
        queue: Arc::new(Mutex::new(receiver)),
    };
    Ok((WebhookServer { listener, router }, feed))
}

impl WebhookServer {
    /// The address actually bound (differs from the request for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        if let Err(error) = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "webhook server failed");
        }
    }
}

/// Whether the request carries the right secret, compared in constant time.
fn authentic(headers: &HeaderMap, secret: &WebhookSecret) -> bool {
    headers.get(SECRET_HEADER).is_some_and(|given| {
        constant_time_eq::constant_time_eq(given.as_bytes(), secret.expose().as_bytes())
    })
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !authentic(&headers, &hook.secret) {
        tracing::warn!("webhook request without the right secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            // Position only: the message could quote the content.
            tracing::warn!(
                line = error.line(),
                column = error.column(),
                "unparsable webhook update"
            );
            return StatusCode::BAD_REQUEST;
        }
    };
    let (ack, answer) = oneshot::channel();
    if hook.queue.send(Delivered { update, ack }).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match answer.await {
        Ok(Applied::Durable) => StatusCode::OK,
        Ok(Applied::NotDurable) => StatusCode::INTERNAL_SERVER_ERROR,
        // The loop stopped before reaching it: Telegram will retry.
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(secret: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(secret) = secret {
            headers.insert(SECRET_HEADER, secret.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_the_exact_secret_is_authentic() {
        let secret = WebhookSecret::parse("abc-DEF_123").unwrap();
        assert!(authentic(&headers(Some("abc-DEF_123")), &secret));
        for wrong in [
            None,
            Some(""),
            Some("abc-DEF_12"),
            Some("abc-DEF_1234"),
            Some("ABC-DEF_123"),
        ] {
            assert!(!authentic(&headers(wrong), &secret), "{wrong:?}");
        }
    }
}
