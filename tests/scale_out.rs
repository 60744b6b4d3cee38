//! Issue 8's scale-out test: two bot processes in webhook mode share one
//! redis-server behind a load balancer, while 1,000 simulated users churn
//! through /chat, /next, /stop and messages; one process is killed with
//! SIGKILL half-way and the other carries on.
//!
//! How "the invariants hold and nothing is lost" is checked: the fake
//! delivers updates one at a time, in order, retrying a refused one (as
//! Telegram does with `max_connections = 1`); the balancer sends each POST
//! to the next process in turn, and a retry therefore to the other one. So
//! the updates are applied in one known order, and one engine handling the
//! same updates in that order (the reference, in this test) decides what
//! the bot should have sent. Every copy the bot made must be one the
//! reference made (to the same partner), every notice ("partner found",
//! "partner left", …) too, and nothing the reference sent may be missing.
//! Only sends that sat in the killed process's outbox may arrive twice.
//! At the end, what Redis holds passes the engine's invariants and matches
//! the reference: the same pairs and the same queue.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use randchat::domain::{Timestamp, UserId};
use randchat::engine::{Engine, EngineConfig, Outbound, Presence};
use randchat::i18n::Text;
use randchat::store::{Backend, RedisStore};
use randchat::testing::RedisServer;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use support::app::{app_on_with, skip_on_redis};
use support::{Delivery, FakeBotApi, Fault, TestApp};

const SECRET: &str = "scale-Out_secret";
const PREFIX: &str = "randchat:";
const USERS: i64 = 1000;
const FIRST_USER: i64 = 500_000;
/// Updates per user, on average.
const ACTIONS_PER_USER: usize = 4;
const PATIENCE: Duration = Duration::from_secs(120);

/// A load balancer: each POST goes to the next backend in turn; one that
/// can't be reached is skipped (as nginx's `proxy_next_upstream error`).
/// Its backends are set once they listen: each bot binds port 0 and logs
/// where it landed.
#[derive(Clone)]
struct Balancer {
    backends: Arc<OnceLock<Vec<String>>>,
    next: Arc<AtomicUsize>,
    /// POSTs answered, per backend.
    served: Arc<Vec<AtomicUsize>>,
    client: reqwest::Client,
}

async fn balance(State(lb): State<Balancer>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(backends) = lb.backends.get() else {
        return StatusCode::BAD_GATEWAY;
    };
    let first = lb.next.fetch_add(1, Ordering::SeqCst);
    for attempt in 0..backends.len() {
        let index = (first + attempt) % backends.len();
        let mut request = lb.client.post(&backends[index]).body(body.clone());
        for (name, value) in &headers {
            if name == "x-telegram-bot-api-secret-token" || name == "content-type" {
                request = request.header(name, value);
            }
        }
        if let Ok(response) = request.send().await {
            lb.served[index].fetch_add(1, Ordering::SeqCst);
            return StatusCode::from_u16(response.status().as_u16()).unwrap();
        }
    }
    StatusCode::BAD_GATEWAY
}

async fn start_balancer(backends: usize) -> (String, Balancer) {
    let lb = Balancer {
        served: Arc::new((0..backends).map(|_| AtomicUsize::new(0)).collect()),
        backends: Arc::new(OnceLock::new()),
        next: Arc::new(AtomicUsize::new(0)),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/telegram", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/telegram", post(balance))
        .with_state(lb.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, lb)
}

/// A process of the bot, listening on a port of its own choosing behind
/// the balancer.
fn instance(fake: &FakeBotApi, redis: &str, lb_url: &str, id: &str) -> TestApp {
    app_on_with(
        fake,
        &[
            ("REDIS_URL", redis),
            ("REDIS_PREFIX", PREFIX),
            ("INSTANCE_ID", id),
            ("WEBHOOK_URL", lb_url),
            ("WEBHOOK_SECRET", SECRET),
            ("WEBHOOK_LISTEN", "127.0.0.1:0"),
            ("LOG_LEVEL", "info"),
        ],
    )
}

/// The simulated users: what they send, and the same updates as the bot
/// gets them, for the reference.
struct Crowd {
    fake: FakeBotApi,
    next_message: i64,
    rng: u64,
    /// Every update pushed, in update-id order.
    updates: Vec<teloxide::types::Update>,
}

impl Crowd {
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn push(&mut self, user: i64, text: &str) {
        self.next_message += 1;
        let mut message = json!({
            "message_id": self.next_message,
            "from": {"id": user, "is_bot": false, "first_name": "Sim", "language_code": "en"},
            "chat": {"id": user, "type": "private", "first_name": "Sim"},
            "date": Timestamp::now().0,
            "text": text,
        });
        if text.starts_with('/') {
            message["entities"] =
                json!([{"type": "bot_command", "offset": 0, "length": text.len()}]);
        }
        let mut update = json!({ "message": message });
        update["update_id"] = json!(self.fake.push_update(update.clone()));
        // As the webhook parses it (from text: teloxide's update kinds
        // don't parse from a `Value`).
        let parsed = serde_json::from_str(&update.to_string()).expect("a valid update");
        self.updates.push(parsed);
    }

    /// One random action of a random user.
    fn act(&mut self) {
        let user = FIRST_USER + (self.random() % USERS as u64) as i64;
        match self.random() % 20 {
            0..=6 => self.push(user, "/chat"),
            7..=13 => {
                let text = format!("hello {}", self.next_message);
                self.push(user, &text)
            }
            14..=17 => self.push(user, "/next"),
            _ => self.push(user, "/stop"),
        }
    }
}

/// What the bot sent that this test compares: copies (recipient, sender,
/// message) and notices (recipient, text), counted.
#[derive(Default, Debug, PartialEq, Eq)]
struct Sent {
    copies: HashMap<(i64, i64, i64), i64>,
    notices: HashMap<(i64, String), i64>,
}

/// The notices compared: those that say where a user is.
fn notices() -> Vec<String> {
    [
        Text::PartnerFound,
        Text::PartnerLeft,
        Text::YouLeftChat,
        Text::Searching,
        Text::SearchStopped,
        Text::NotInChat,
        Text::AlreadySearching,
        Text::AlreadyChatting,
    ]
    .iter()
    .map(|t| t.render().to_owned())
    .collect()
}

impl Sent {
    fn add(&mut self, send: &Outbound, watched: &[String]) {
        match send {
            Outbound::Relay { from, to, message } => {
                *self
                    .copies
                    .entry((to.0, from.0, i64::from(message.0)))
                    .or_default() += 1
            }
            Outbound::Tell { user, text } if watched.contains(&text.render().to_owned()) => {
                *self
                    .notices
                    .entry((user.0, text.render().to_owned()))
                    .or_default() += 1
            }
            _ => {}
        }
    }

    /// What the fake saw delivered to the simulated users.
    fn delivered(fake: &FakeBotApi, watched: &[String]) -> Sent {
        let mut sent = Sent::default();
        for user in FIRST_USER..FIRST_USER + USERS {
            for delivery in fake.received(user) {
                match delivery {
                    Delivery::Copy {
                        from_chat_id,
                        message_id,
                        ..
                    } => {
                        *sent
                            .copies
                            .entry((user, from_chat_id, message_id))
                            .or_default() += 1
                    }
                    Delivery::Text { text, .. } if watched.contains(&text) => {
                        *sent.notices.entry((user, text)).or_default() += 1
                    }
                    _ => {}
                }
            }
        }
        sent
    }
}

/// The reference: one engine, the same updates, in the same order.
fn reference(updates: &[teloxide::types::Update]) -> (Engine, Sent) {
    let engine = Engine::with_config(EngineConfig {
        message_rate_limit: 10_000,
        next_rate_limit: 10_000,
        ..EngineConfig::default()
    });
    let watched = notices();
    let mut sent = Sent::default();
    let now = Timestamp::now();
    for update in updates {
        let hint = randchat::telegram::inbound::spoken_language(update);
        let event = randchat::telegram::inbound::classify(update, FakeBotApi::BOT_USERNAME);
        for event in hint.into_iter().chain(event) {
            for send in engine.handle(&event, now).sends {
                sent.add(&send, &watched);
            }
        }
    }
    (engine, sent)
}

/// Waits until `done` holds, or fails with `what`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn outbox_len(conn: &mut redis::aio::MultiplexedConnection, id: &str) -> usize {
    redis::cmd("HLEN")
        .arg(format!("{PREFIX}outbox:{id}"))
        .query_async(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_redis_and_survive_losing_one() {
    if skip_on_redis("runs on its own redis-server in both suites; once is enough") {
        return;
    }
    let redis = RedisServer::start();
    let fake = FakeBotApi::start().await;
    let (lb_url, lb) = start_balancer(2).await;
    let mut alpha = instance(&fake, &redis.url(), &lb_url, "alpha");
    let mut beta = instance(&fake, &redis.url(), &lb_url, "beta");
    alpha.start().await;
    beta.start().await;
    lb.backends
        .set(vec![alpha.webhook_url(), beta.webhook_url()])
        .unwrap();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();

    let mut crowd = Crowd {
        fake: fake.clone(),
        next_message: 1_000_000,
        rng: 0x2545_F491_4F6C_DD1D,
        updates: Vec::new(),
    };
    let total = USERS as usize * ACTIONS_PER_USER;
    for _ in 0..total / 2 {
        crowd.act();
    }
    // Half-way through the first half: make some copies hang, so the
    // instance killed has sends in its outbox, then kill it.
    until("half of the first half is applied", || {
        fake.pending_update_ids().len() < total / 4
    })
    .await;
    for _ in 0..20 {
        fake.fail_next("copyMessage", Fault::Hang(Duration::from_secs(3)));
    }
    let deadline = Instant::now() + PATIENCE;
    while outbox_len(&mut conn, "alpha").await == 0 {
        assert!(
            Instant::now() < deadline,
            "alpha never had a send in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    alpha.kill();
    let orphaned: HashMap<String, Vec<u8>> = redis::cmd("HGETALL")
        .arg(format!("{PREFIX}outbox:alpha"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let before_kill = lb.served[0].load(Ordering::SeqCst);
    assert!(before_kill > 100, "alpha served only {before_kill} updates");

    // The other half goes to beta alone.
    for _ in total / 2..total {
        crowd.act();
    }
    until("every update is answered 200", || {
        fake.pending_update_ids().is_empty()
    })
    .await;
    let deadline = Instant::now() + PATIENCE;
    while outbox_len(&mut conn, "alpha").await + outbox_len(&mut conn, "beta").await > 0 {
        assert!(Instant::now() < deadline, "sends are left in an outbox");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        beta.logs().contains("adopted the unsent messages"),
        "beta never adopted alpha's outbox"
    );
    assert!(
        lb.served[1].load(Ordering::SeqCst) > total / 2,
        "beta served too little"
    );

    // Everything the reference sent arrived; nothing else did, except
    // sends that may repeat because they were in alpha's outbox.
    let watched = notices();
    let (engine, expected) = reference(&crowd.updates);
    let mut may_repeat = Sent::default();
    for raw in orphaned.values() {
        let send: Outbound = postcard::from_bytes(raw).expect("an outbox entry");
        may_repeat.add(&send, &watched);
    }
    let delivered = Sent::delivered(&fake, &watched);
    eprintln!(
        "expected {} copies, {} notices; delivered {} copies, {} notices",
        expected.copies.values().sum::<i64>(),
        expected.notices.values().sum::<i64>(),
        delivered.copies.values().sum::<i64>(),
        delivered.notices.values().sum::<i64>()
    );
    compare(
        "notice",
        &expected.notices,
        &delivered.notices,
        &may_repeat.notices,
    );
    compare(
        "copy",
        &expected.copies,
        &delivered.copies,
        &may_repeat.copies,
    );
    let found = expected
        .notices
        .iter()
        .filter(|((_, text), _)| *text == Text::PartnerFound.render())
        .count();
    assert!(found > 200, "too little matching to mean much: {found}");
    assert!(
        expected.copies.len() > 500,
        "too few relays: {}",
        expected.copies.len()
    );

    // What Redis holds is consistent and is what the reference holds.
    let store = RedisStore::open(&redis.url(), PREFIX).await.unwrap();
    let stored = Engine::restore(&store.clone().load().await.unwrap());
    stored
        .check_invariants()
        .expect("the state in Redis is consistent");
    for user in (FIRST_USER..FIRST_USER + USERS).map(UserId) {
        assert_eq!(
            stored.presence_of(user),
            engine.presence_of(user),
            "{user:?}"
        );
    }
    let (searching, chats) = stored.counts();
    assert_eq!((searching, chats), engine.counts());
    assert!(
        (FIRST_USER..FIRST_USER + USERS)
            .any(|u| matches!(stored.presence_of(UserId(u)), Presence::Chatting(_))),
        "nobody ends in a chat"
    );
    beta.kill();
}

/// `delivered` holds what `expected` holds, plus at most `extra` more.
fn compare<K: std::hash::Hash + Eq + std::fmt::Debug>(
    what: &str,
    expected: &HashMap<K, i64>,
    delivered: &HashMap<K, i64>,
    extra: &HashMap<K, i64>,
) {
    let mut missing = Vec::new();
    let mut unexpected = Vec::new();
    for (key, want) in expected {
        let got = delivered.get(key).copied().unwrap_or(0);
        if got < *want {
            missing.push((key, want, got));
        }
    }
    for (key, got) in delivered {
        let want = expected.get(key).copied().unwrap_or(0);
        let allowed = want + extra.get(key).copied().unwrap_or(0);
        if *got > allowed {
            unexpected.push((key, want, got));
        }
    }
    assert!(
        missing.is_empty(),
        "{} {what}s lost (key, expected, delivered), e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        unexpected.is_empty(),
        "{} {what}s delivered that one engine would not have sent, e.g. {:?}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(5)]
    );
}
