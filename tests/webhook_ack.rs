//! Webhook acknowledgement, in process: the update loop and the webhook
//! server of the library, over a store the test controls (commits held
//! back, failing, or hanging once durable), with the fake Bot API POSTing
//! updates as Telegram does. "No 200 before the commit" is about the timing
//! between a commit and an HTTP answer, which only a store under the
//! test's control can show; `tests/webhook.rs` runs the real binary.

mod support;

use randchat::config::{WebhookConfig, WebhookSecret};
use randchat::i18n::Text;
use randchat::store::{Backend, Batch, BoxFuture, EmbeddedStore, Snapshot, Stats, StoreError};
use randchat::telegram::poller::{LoopSettings, Poller};
use randchat::telegram::source::UpdateSource;
use randchat::telegram::throttle::ThrottleConfig;
use randchat::telegram::webhook::WebhookFeed;
use randchat::telemetry::Pseudonymizer;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::webhook::{wait_for_attempt, PATIENCE};
use support::{FakeBotApi, Inbox};
use tokio::sync::Semaphore;

const SECRET: &str = "test-Secret_0123456789";

/// Permits of the commit gate: taking them all holds every commit back.
const GATE: usize = 1000;

/// The embedded store, with commits that can be held back, made to fail,
/// or made to hang after they are durable (a crash before the answer).
struct Controlled {
    inner: Arc<EmbeddedStore>,
    gate: Semaphore,
    failing: AtomicBool,
    /// Commits applying this update id or a later one hang once durable.
    hang_from_update: AtomicI64,
}

impl Controlled {
    fn open(dir: &std::path::Path) -> Arc<Self> {
        Arc::new(Controlled {
            inner: EmbeddedStore::open(dir).unwrap(),
            gate: Semaphore::new(GATE),
            failing: AtomicBool::new(false),
            hang_from_update: AtomicI64::new(i64::MAX),
        })
    }
}

impl Backend for Controlled {
    fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>> {
        self.inner.clone().load()
    }
    fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move {
            let _pass = self.gate.acquire().await.expect("gate open");
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Write("injected failure".into()));
            }
            let updates = batch.last_update_id;
            self.inner.clone().commit(batch).await?;
            let hang_from = self.hang_from_update.load(Ordering::SeqCst);
            if updates.is_some_and(|id| id >= hang_from) {
                std::future::pending::<()>().await;
            }
            Ok(())
        })
    }
    fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>> {
        self.inner.clone().stats()
    }
    fn linked(
        self: Arc<Self>,
        messages: Vec<randchat::engine::effect::Counterpart>,
    ) -> BoxFuture<'static, Result<Vec<Option<randchat::engine::event::Linked>>, StoreError>> {
        self.inner.clone().linked(messages)
    }
}

/// The webhook server, serving on a free port; its feed names that port.
async fn webhook_server() -> WebhookFeed {
    let config = WebhookConfig {
        url: "http://127.0.0.1/hook".parse().unwrap(),
        secret: WebhookSecret::parse(SECRET).unwrap(),
        listen: "127.0.0.1:0".parse().unwrap(),
    };
    let (server, mut feed) = randchat::telegram::webhook::bind(&config).await.unwrap();
    feed.url = format!("http://{}/hook", server.local_addr().unwrap())
        .parse()
        .unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    feed
}

/// The update loop in this process, over `store`, fed by `feed`. Runs
/// until the returned sender is used or dropped (or the task is aborted).
async fn run_loop(
    fake: &FakeBotApi,
    store: Arc<Controlled>,
    feed: WebhookFeed,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let settings = LoopSettings {
        poll_timeout: Duration::from_secs(1),
        throttle: ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        },
        engine: Default::default(),
        protect_content: false,
        moderation: Default::default(),
        metrics: Default::default(),
        antispam: Default::default(),
        moderator: None,
        broadcast_rate: 10,
        matching: Default::default(),
        inbox_dir: None,
    };
    let names = Pseudonymizer::from_secret(FakeBotApi::TOKEN);
    let source = UpdateSource::Webhook(feed);
    let poller = Poller::start_with_source(fake.bot(), store.clone(), names, settings, source)
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(poller.run(async move {
        let _ = stopped.await;
    }));
    (stop, running)
}

/// How many times `chat` was told a partner was found.
fn partner_found(fake: &FakeBotApi, chat: i64) -> usize {
    let found = Text::PartnerFound.render();
    fake.texts_to(chat).iter().filter(|t| **t == found).count()
}

#[tokio::test]
async fn the_200_waits_for_the_commit_and_a_failed_commit_is_retried() {
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Controlled::open(dir.path());
    let (stop, running) = run_loop(&fake, store.clone(), webhook_server().await).await;

    let (a, b) = (fake.user(7301, "Ann", None), fake.user(7302, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 7301), Inbox::new(&fake, 7302));

    // Held commit: the POST gets no answer and nobody is told anything.
    let held = store.gate.acquire_many(GATE as u32).await.unwrap();
    a.send_command("/chat");
    let search = fake.last_update_id().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fake.webhook_attempts().iter().all(|(id, _)| *id != search),
        "answered before the commit: {:?}",
        fake.webhook_attempts()
    );
    assert!(fake.received(7301).is_empty(), "told before the commit");
    drop(held);
    wait_for_attempt(&fake, search, 200).await;
    to_a.expect_text(Text::Searching).await;

    // Failing commits: 5xx, nothing sent, nothing applied; Telegram retries.
    store.failing.store(true, Ordering::SeqCst);
    b.send_command("/chat");
    let pairing = fake.last_update_id().unwrap();
    wait_for_attempt(&fake, pairing, 500).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.received(7302).is_empty(), "{:?}", fake.received(7302));
    assert_eq!(fake.texts_to(7301), vec![Text::Searching.render()]);
    store.failing.store(false, Ordering::SeqCst);
    wait_for_attempt(&fake, pairing, 200).await;
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("after the store came back");
    to_b.expect_copy(7301, hello).await;
    assert_eq!(
        (partner_found(&fake, 7301), partner_found(&fake, 7302)),
        (1, 1),
        "paired once"
    );
    let failures = fake.webhook_attempts();
    assert!(failures
        .iter()
        .all(|(id, s)| *s == 200 || (*id == pairing && *s == 500)));

    let _ = stop.send(());
    running.await.unwrap().unwrap();
    let snapshot = store.inner.clone().load().await.unwrap();
    assert_eq!(snapshot.pairs.len(), 1, "the pair is durable");
    assert!(snapshot.last_update_id >= Some(pairing));
}

#[tokio::test]
async fn a_crash_between_the_commit_and_the_200_repeats_nothing() {
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Controlled::open(dir.path());
    let feed = webhook_server().await;
    let (_stop, first) = run_loop(&fake, store.clone(), feed.clone()).await;
    let (a, b) = (fake.user(7501, "Ann", None), fake.user(7502, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 7501), Inbox::new(&fake, 7502));
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;

    // B's /chat is committed (pair and sends in the outbox), then the loop
    // dies before it can answer or send: Telegram sees no 200.
    let next_update = fake.last_update_id().unwrap() + 1;
    store.hang_from_update.store(next_update, Ordering::SeqCst);
    b.send_command("/chat");
    let pairing = fake.last_update_id().unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while store.inner.clone().load().await.unwrap().pairs.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never committed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.abort();
    let _ = first.await;
    assert!(fake.received(7502).is_empty(), "sent before the crash");
    assert!(!fake.webhook_attempts().contains(&(pairing, 200)));

    // The restart finds the pair and its sends; Telegram's retry of the
    // same update is recognised and answered 200 without applying it again.
    store.hang_from_update.store(i64::MAX, Ordering::SeqCst);
    let (stop, second) = run_loop(&fake, store.clone(), feed).await;
    wait_for_attempt(&fake, pairing, 200).await;
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("after the crash");
    to_b.expect_copy(7501, hello).await;
    assert_eq!(
        (partner_found(&fake, 7501), partner_found(&fake, 7502)),
        (1, 1),
        "told once each"
    );
    let _ = stop.send(());
    second.await.unwrap().unwrap();
}
