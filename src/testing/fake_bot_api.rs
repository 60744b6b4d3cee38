//! A stateful, in-process fake of the Telegram Bot API.
//!
//! Why: the bot talks to Telegram over HTTP (teloxide's `Bot` plus its own
//! `getUpdates` loop), and a mock that only replays canned answers cannot check
//! the things that matter for a relay bot: which user received what, that a
//! copied message really existed in the sender's chat, that updates are handed
//! out again until the bot confirms them with a higher `offset`. So this fake
//! keeps the state Telegram would keep (update queue, per-chat message ids,
//! every message it knows of, blocked chats) and records every request.
//!
//! This file is the test-facing API. The HTTP side (routing, parameters,
//! faults, getUpdates) is in `fake_server.rs`, the message methods in
//! `fake_methods.rs`, the state in `fake_state.rs`, simulated users, groups
//! and channels in `sim_user.rs` and message payloads in `sim_kinds.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::fake_lean::Lean;
use super::fake_state::{Shared, State};

/// One HTTP call the bot made, recorded on arrival (before any fault applies).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The method name exactly as the client spelled it: teloxide sends
    /// PascalCase (`SendMessage`), raw clients usually `sendMessage`.
    pub method: String,
    /// `method` in lower case, for matching (Telegram ignores case).
    pub method_lc: String,
    /// Query string, then form or JSON body, merged into one JSON object.
    pub params: Value,
    pub at: Instant,
}

/// What arrived in a chat because of the bot, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// `sendMessage`; `text` is as sent (no parse_mode rendering).
    Text { text: String, sent_id: i64 },
    /// `copyMessage`/`copyMessages`; `message_id` is the source message id.
    Copy {
        from_chat_id: i64,
        message_id: i64,
        caption: Option<String>,
        sent_id: i64,
    },
    /// `forwardMessage` — randchat must never do this (it reveals the sender).
    Forward {
        from_chat_id: i64,
        message_id: i64,
        sent_id: i64,
    },
    /// `editMessageText` of a message in this chat.
    Edit { message_id: i64, text: String },
    /// `setMessageReaction` on a message in this chat (empty: removed).
    Reaction { message_id: i64, emoji: Vec<String> },
    /// `deleteMessage` in this chat.
    Delete { message_id: i64 },
}

/// A one-shot failure injected with [`FakeBotApi::fail_next`].
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `parameters.retry_after` (teloxide: `RequestError::RetryAfter`).
    RetryAfter(u32),
    /// 500 Internal Server Error. NB: teloxide sleeps 10 s on any 5xx before
    /// it returns the error to the caller.
    ServerError,
    /// Any Telegram-shaped error, e.g.
    /// `Api { code: 403, description: "Forbidden: user is deactivated".into() }`.
    Api { code: u16, description: String },
    /// Wait this long, then handle the request normally. If the client gives
    /// up first (teloxide's default client timeout is 17 s), hyper drops the
    /// handler and the request has no effect at all.
    Hang(Duration),
    /// Send a 200 status line, then drop the connection mid-body: the client
    /// sees a network error (teloxide: `RequestError::Network`). No effect.
    Reset,
    /// Carry the request out (message delivered, updates handed out), then
    /// hold the answer back this long: a response lost on the way back.
    ApplyThenHang(Duration),
    /// Carry the request out, then drop the connection as in `Reset`.
    ApplyThenReset,
    /// Answer 200 with a body that is not valid JSON.
    Garbage,
}

struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Handle to a running fake; cheap to clone. The server stops when the last
/// clone (including those inside `SimUser`s) is dropped, or with the runtime.
#[derive(Clone)]
pub struct FakeBotApi {
    pub(super) shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

impl FakeBotApi {
    /// The only token the fake accepts: digits, colon, 36 token characters.
    pub const TOKEN: &'static str = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl";
    /// The bot's user id, which Telegram makes the token's numeric prefix.
    pub const BOT_ID: i64 = 123_456_789;
    pub const BOT_USERNAME: &'static str = "randchat_test_bot";
    /// update_ids start above message ids so the two are never confused.
    pub const FIRST_UPDATE_ID: i64 = 100_001;

    /// Bind 127.0.0.1:0 and serve in a background task of the current runtime.
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    pub(super) async fn serve(lean: Option<Lean>) -> Self {
        let state = State::new(Self::FIRST_UPDATE_ID);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            lean,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake");
        let addr = listener.local_addr().expect("fake addr");
        let app = super::fake_server::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake Bot API server failed");
        });
        Self {
            shared,
            addr,
            _server: Arc::new(ServerTask(task)),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`; the bot calls `{url}/bot{TOKEN}/{method}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same, parsed, for `Bot::set_api_url`.
    pub fn api_url(&self) -> url::Url {
        self.url().parse().expect("fake url")
    }

    /// A teloxide `Bot` pointed at this fake with the right token.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(Self::TOKEN).set_api_url(self.api_url())
    }

    /// The bot as a `User` object (the `from` of everything the bot sends).
    pub fn bot_user_json() -> Value {
        json!({"id": Self::BOT_ID, "is_bot": true, "first_name": "Randchat Test",
               "username": Self::BOT_USERNAME})
    }

    // ---- recording ----

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state.lock().requests.clone()
    }

    /// Requests for one method, matched case-insensitively.
    pub fn requests_for(&self, method: &str) -> Vec<RecordedRequest> {
        let lc = method.to_ascii_lowercase();
        let st = self.shared.state.lock();
        st.requests
            .iter()
            .filter(|r| r.method_lc == lc)
            .cloned()
            .collect()
    }

    /// Wait until `predicate(all requests so far)` holds; panic with
    /// `description` and the latest requests if `timeout` passes first.
    /// Predicates run under the fake's lock: don't call the fake from them.
    pub async fn wait_for(
        &self,
        description: &str,
        timeout: Duration,
        predicate: impl Fn(&[RecordedRequest]) -> bool,
    ) {
        let found = self
            .wait_until(timeout, |st| predicate(&st.requests).then_some(()))
            .await;
        if found.is_none() {
            panic!(
                "timed out after {timeout:?} waiting for: {description}\n{}",
                self.dump(30)
            );
        }
    }

    /// The last `n` requests, one per line, for failure messages.
    pub fn dump(&self, n: usize) -> String {
        let st = self.shared.state.lock();
        let start = st.requests.len().saturating_sub(n);
        let mut out = format!(
            "last {} of {} requests:\n",
            st.requests.len() - start,
            st.requests.len()
        );
        for r in &st.requests[start..] {
            out += &format!("  {} {}\n", r.method, r.params);
        }
        out
    }

    // ---- deliveries ----

    /// Everything the bot put into `chat_id`, in order.
    pub fn received(&self, chat_id: i64) -> Vec<Delivery> {
        self.shared
            .state
            .lock()
            .deliveries
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Just the `sendMessage` texts sent to `chat_id`.
    pub fn texts_to(&self, chat_id: i64) -> Vec<String> {
        let deliveries = self.received(chat_id);
        deliveries
            .into_iter()
            .filter_map(|d| match d {
                Delivery::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    /// Wait for (or find) a delivery to `chat_id` matching `predicate`.
    pub async fn wait_for_delivery(
        &self,
        chat_id: i64,
        timeout: Duration,
        predicate: impl Fn(&Delivery) -> bool,
    ) -> Delivery {
        let found = self
            .wait_until(timeout, |st| {
                st.deliveries
                    .get(&chat_id)?
                    .iter()
                    .find(|d| predicate(d))
                    .cloned()
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "timed out after {timeout:?} waiting for a matching delivery to chat {chat_id}; \
                 it received {:#?}\n{}",
                self.received(chat_id),
                self.dump(30)
            )
        })
    }

    /// Poll `check` under the lock on every change until it yields or time runs out.
    async fn wait_until<T>(
        &self,
        timeout: Duration,
        check: impl Fn(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.shared.changed.subscribe();
        loop {
            rx.borrow_and_update();
            if let Some(found) = check(&self.shared.state.lock()) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return check(&self.shared.state.lock());
            }
        }
    }

    // ---- the update queue ----

    /// Queue a raw update; its `update_id` is assigned (overwritten) and returned.
    /// Chats and messages inside it become known, so they can be copied.
    pub fn push_update(&self, update: Value) -> i64 {
        self.shared.update(|st| st.push_update(update))
    }

    /// The update_id most recently assigned (injected), if any.
    pub fn last_update_id(&self) -> Option<i64> {
        let next = self.shared.state.lock().next_update_id;
        (next > Self::FIRST_UPDATE_ID).then_some(next - 1)
    }

    /// Highest `offset` the bot has sent: every update below it is confirmed.
    pub fn confirmed_offset(&self) -> i64 {
        self.shared.state.lock().confirmed_offset
    }

    /// update_ids that some getUpdates call has returned, ascending.
    pub fn handed_out(&self) -> Vec<i64> {
        self.shared
            .state
            .lock()
            .handed_out
            .keys()
            .copied()
            .collect()
    }

    /// How many getUpdates responses contained `update_id` (>1 means redelivery).
    pub fn times_handed_out(&self, update_id: i64) -> u32 {
        self.shared
            .state
            .lock()
            .handed_out
            .get(&update_id)
            .copied()
            .unwrap_or(0)
    }

    /// update_ids still queued (not yet confirmed).
    pub fn pending_update_ids(&self) -> Vec<i64> {
        let st = self.shared.state.lock();
        st.pending
            .iter()
            .filter_map(|u| u["update_id"].as_i64())
            .collect()
    }

    /// update_ids dropped because the bot's `allowed_updates` excluded their type.
    pub fn filtered_out(&self) -> Vec<i64> {
        self.shared.state.lock().filtered_out.clone()
    }

    /// Wait until the bot confirmed `update_id` (sent an offset above it).
    pub async fn wait_until_confirmed(&self, update_id: i64, timeout: Duration) {
        let description = format!("update {update_id} to be confirmed");
        let ok = self
            .wait_until(timeout, |st| {
                (st.confirmed_offset > update_id).then_some(())
            })
            .await;
        if ok.is_none() {
            panic!(
                "timed out after {timeout:?} waiting for {description}\n{}",
                self.dump(30)
            );
        }
    }

    /// A message the fake knows of (injected, sent, copied or forwarded).
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.shared
            .state
            .lock()
            .messages
            .get(&(chat_id, message_id))
            .cloned()
    }

    // ---- faults ----

    /// Make the next call of `method` (case-insensitive; `"*"` = any method)
    /// fail with `fault`. Queued faults are used first-in, first-out.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        let lc = method.to_ascii_lowercase();
        self.shared.update(|st| st.faults.push((lc, fault)));
    }

    /// From now on anything sent to `chat_id` gets 403 "Forbidden: bot was blocked by the user".
    pub fn block_chat(&self, chat_id: i64) {
        self.shared.update(|st| st.blocked.insert(chat_id));
    }

    /// Hand out every update, whatever the bot asked for in `allowed_updates`.
    pub fn ignore_allowed_updates(&self) {
        self.shared.update(|st| st.ignore_allowed_updates = true);
    }

    pub fn unblock_chat(&self, chat_id: i64) {
        self.shared.update(|st| st.blocked.remove(&chat_id));
    }

    /// Make `chat` (a Chat object) known, so the bot may send to it.
    pub(super) fn register_chat(&self, chat: Value) {
        let id = chat["id"].as_i64().expect("chat id");
        self.shared.update(|st| st.chats.insert(id, chat));
    }

    pub(super) fn alloc_message_id(&self, chat_id: i64) -> i64 {
        self.shared.update(|st| st.alloc_message_id(chat_id))
    }

    pub(super) fn serial(&self) -> u64 {
        self.shared.update(|st| st.serial())
    }
}
