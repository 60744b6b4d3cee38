//! Webhook mode end to end: the fake Bot API POSTs updates to the bot the
//! way Telegram does, with the secret header, retrying until it gets a 2xx.
//!
//! The first tests run the real binary. The acknowledgement test runs the
//! same update loop in process, over a store that can be held or made to
//! fail, because "no 200 before the commit" is about timing between the
//! commit and the HTTP answer, which only a store under the test's control
//! can show.

mod support;

use randchat::config::{WebhookConfig, WebhookSecret};
use randchat::i18n::Text;
use randchat::store::{Backend, Batch, BoxFuture, EmbeddedStore, Snapshot, Stats, StoreError};
use randchat::telegram::poller::{LoopSettings, Poller};
use randchat::telegram::source::UpdateSource;
use randchat::telegram::throttle::ThrottleConfig;
use randchat::telegram::webhook::WebhookFeed;
use randchat::telemetry::Pseudonymizer;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{spawn_app_with, Delivery, FakeBotApi, Inbox, SimUser, TestApp};
use teloxide::prelude::Requester;
use tokio::sync::Semaphore;

const SECRET: &str = "test-Secret_0123456789";
const PATIENCE: Duration = Duration::from_secs(15);

/// A port nobody listens on at the moment (the bot binds it right after).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn webhook_app() -> TestApp {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/telegram");
    let listen = format!("127.0.0.1:{port}");
    spawn_app_with(&[
        ("WEBHOOK_URL", &url),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_LISTEN", &listen),
    ])
    .await
}

/// Waits until the fake has POSTed `update_id` and got `status` back.
async fn wait_for_attempt(fake: &FakeBotApi, update_id: i64, status: u16) {
    wait_for_attempts(fake, update_id, status, 1).await
}

/// Waits until `update_id` got `status` back `times` times.
async fn wait_for_attempts(fake: &FakeBotApi, update_id: i64, status: u16, times: usize) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let seen = || {
        let attempts = fake.webhook_attempts();
        attempts
            .iter()
            .filter(|a| **a == (update_id, status))
            .count()
    };
    while seen() < times {
        assert!(
            tokio::time::Instant::now() < deadline,
            "update {update_id} never got {status}; attempts: {:?}",
            fake.webhook_attempts()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A private-chat text message from `user`, as Telegram would POST it.
fn text_update(user: &SimUser, message_id: i64, text: &str) -> serde_json::Value {
    let mut message = json!({"message_id": message_id, "from": user.user_json(),
                             "chat": user.chat_json(), "date": 1_700_000_000, "text": text});
    if text.starts_with('/') {
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": text.len()}]);
    }
    json!({ "message": message })
}

#[tokio::test]
async fn a_whole_chat_runs_over_the_webhook_and_survives_a_crash() {
    let mut app = webhook_app().await;
    let fake = app.fake.clone();
    let set = fake.requests_for("setWebhook");
    let params = &set.last().expect("setWebhook was called").params;
    assert_eq!(params["secret_token"], json!(SECRET));
    assert_eq!(params["max_connections"], json!(1));
    let allowed = params["allowed_updates"].to_string();
    for kind in [
        "message",
        "edited_message",
        "message_reaction",
        "callback_query",
    ] {
        assert!(allowed.contains(kind), "{kind} missing from {allowed}");
    }
    assert!(fake.webhook_url().unwrap().ends_with("/telegram"));

    let (a, b) = (fake.user(7001, "Ann", None), fake.user(7002, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 7001), Inbox::new(&fake, 7002));
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("hello over a webhook");
    to_b.expect_copy(7001, hello).await;
    let photo = b.send_photo("a photo back");
    to_a.expect_copy(7002, photo).await;

    app.restart().await; // kill -9, then start again on the same data
    let after = a.send_text("still paired after the crash");
    to_b.expect_copy(7001, after).await;
    a.send_command("/stop");
    to_a.expect_text(Text::YouLeftChat).await;
    to_b.expect_text(Text::PartnerLeft).await;

    assert!(
        fake.webhook_attempts()
            .iter()
            .all(|(_, status)| *status == 200),
        "every delivery answered 200: {:?}",
        fake.webhook_attempts()
    );
    let polled = fake.requests_for("getUpdates");
    assert!(polled.is_empty(), "webhook mode never polls: {polled:?}");
    let info = fake.bot().get_webhook_info().await.unwrap();
    assert!(info.url.unwrap().as_str().ends_with("/telegram"));
    assert_eq!(info.max_connections, Some(1));
    assert_eq!(info.pending_update_count, 0, "everything was acknowledged");
    assert!(fake.requests_for("forwardMessage").is_empty());
}

#[tokio::test]
async fn a_wrong_or_missing_secret_gets_401_and_changes_nothing() {
    let app = webhook_app().await;
    let fake = &app.fake;
    let (x, y) = (fake.user(7101, "Xan", None), fake.user(7102, "Yul", None));
    for secret in [Some("not-the-secret"), Some(""), None] {
        let (_, status) = fake
            .post_to_webhook(text_update(&x, 1, "/chat"), secret)
            .await;
        assert_eq!(status, 401, "secret {secret:?}");
    }
    // Had any of them been applied, X would be waiting and Y paired at once.
    let mut to_y = Inbox::new(fake, 7102);
    y.send_command("/chat");
    to_y.expect_text(Text::Searching).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.received(7101).is_empty(), "{:?}", fake.received(7101));
    assert!(
        !to_y.unread().iter().any(
            |d| matches!(d, Delivery::Text { text, .. } if *text == Text::PartnerFound.render())
        ),
        "{:?}",
        to_y.unread()
    );
    // The right secret, sent by hand, is accepted.
    let (_, status) = fake
        .post_to_webhook(text_update(&x, 2, "/chat"), Some(SECRET))
        .await;
    assert_eq!(status, 200);
    Inbox::new(fake, 7101).expect_text(Text::PartnerFound).await;
}

#[tokio::test]
async fn an_update_delivered_twice_is_applied_once() {
    let app = webhook_app().await;
    let fake = &app.fake;
    let (a, b) = (fake.user(7201, "Ann", None), fake.user(7202, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(fake, 7201), Inbox::new(fake, 7202));
    a.send_command("/chat");
    let search = fake.last_update_id().unwrap();
    to_a.expect_text(Text::Searching).await;
    fake.deliver_again(search);
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("only once, please");
    let relay = fake.last_update_id().unwrap();
    to_b.expect_copy(7201, hello).await;
    fake.deliver_again(relay);
    wait_for_attempts(fake, relay, 200, 2).await;
    let attempts = fake.webhook_attempts();
    let twice = |id| {
        attempts
            .iter()
            .filter(|(u, s)| *u == id && *s == 200)
            .count()
    };
    assert_eq!(twice(relay), 2, "{attempts:?}");
    assert_eq!(twice(search), 2, "{attempts:?}");
    // Something after the duplicate proves the duplicate was processed.
    let later = b.send_text("after the duplicate");
    to_a.expect_copy(7202, later).await;
    let copies = fake
        .received(7202)
        .into_iter()
        .filter(|d| matches!(d, Delivery::Copy { message_id, .. } if *message_id == hello))
        .count();
    assert_eq!(copies, 1, "the retried relay was copied again");
    let searching = fake.texts_to(7201);
    let searching = searching.iter().filter(|t| **t == Text::Searching.render());
    assert_eq!(searching.count(), 1, "the retried /chat was answered again");
}

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
    let found = |chat| {
        let texts = fake.texts_to(chat);
        texts
            .iter()
            .filter(|t| **t == Text::PartnerFound.render())
            .count()
    };
    assert_eq!((found(7301), found(7302)), (1, 1), "paired once");
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
async fn long_polling_deletes_a_leftover_webhook() {
    let fake = FakeBotApi::start().await;
    // A webhook someone left on the token, pointing nowhere.
    let nowhere = format!("http://127.0.0.1:{}/gone", free_port());
    fake.bot()
        .set_webhook(nowhere.parse().unwrap())
        .await
        .unwrap();
    let mut app = support::app::app_on(&fake);
    app.start().await;
    assert_eq!(fake.webhook_url(), None, "the webhook is still set");
    let user = fake.user(7401, "Ann", None);
    user.send_command("/chat");
    Inbox::new(&fake, 7401).expect_text(Text::Searching).await;
    let refused = fake.requests_for("getUpdates");
    assert!(!refused.is_empty());
}

#[tokio::test]
async fn a_bad_or_missing_secret_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            vec![("WEBHOOK_URL", "https://bot.example.com/tg")],
            "WEBHOOK_SECRET is missing",
        ),
        (
            vec![
                ("WEBHOOK_URL", "https://bot.example.com/tg"),
                ("WEBHOOK_SECRET", "no spaces"),
            ],
            "WEBHOOK_SECRET: expected 1 to 256 characters",
        ),
        (
            vec![
                ("WEBHOOK_URL", "http://bot.example.com/tg"),
                ("WEBHOOK_SECRET", "ok"),
            ],
            "WEBHOOK_URL: Telegram delivers only to https://",
        ),
    ];
    for (env, expected) in cases {
        let output = support::app::bot_command("http://127.0.0.1:9", dir.path())
            .envs(env)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!err.contains("no spaces"), "the secret is echoed: {err}");
    }
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
    let found = |chat| {
        let texts = fake.texts_to(chat);
        texts
            .iter()
            .filter(|t| **t == Text::PartnerFound.render())
            .count()
    };
    assert_eq!((found(7501), found(7502)), (1, 1), "told once each");
    let _ = stop.send(());
    second.await.unwrap().unwrap();
}
