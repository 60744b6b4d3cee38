//! The fake Bot API's mutable state, behind one lock.
//!
//! Why one lock: Telegram's invariants here span several tables (an update
//! carries a message, which must become copyable, whose chat must become
//! known, in the same step the update is queued), and tests are small enough
//! that contention does not matter.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::fake_bot_api::{Delivery, Fault, RecordedRequest};

pub(super) struct State {
    pub next_update_id: i64,
    /// Unconfirmed updates, ascending update_id.
    pub pending: VecDeque<Value>,
    pub confirmed_offset: i64,
    pub handed_out: BTreeMap<i64, u32>,
    pub filtered_out: Vec<i64>,
    pub poll_generation: u64,
    pub allowed_updates: Option<Vec<String>>,
    /// Hand out every update whatever `allowed_updates` says (robustness tests).
    pub ignore_allowed_updates: bool,
    pub chats: HashMap<i64, Value>,
    pub next_message_id: HashMap<i64, i64>,
    pub messages: HashMap<(i64, i64), Value>,
    pub requests: Vec<RecordedRequest>,
    pub deliveries: HashMap<i64, Vec<Delivery>>,
    pub faults: Vec<(String, Fault)>,
    pub blocked: HashSet<i64>,
    pub commands: Value,
    pub next_serial: u64,
    /// Set by setWebhook: getUpdates is refused and updates are POSTed.
    pub webhook: Option<super::fake_webhook::Webhook>,
    /// Every webhook POST the fake made: (update_id, HTTP status, 0 if none).
    pub webhook_attempts: Vec<(i64, u16)>,
}

impl State {
    pub fn new(first_update_id: i64) -> Self {
        Self {
            next_update_id: first_update_id,
            pending: VecDeque::new(),
            confirmed_offset: 0,
            handed_out: BTreeMap::new(),
            filtered_out: Vec::new(),
            poll_generation: 0,
            allowed_updates: None,
            ignore_allowed_updates: false,
            chats: HashMap::new(),
            next_message_id: HashMap::new(),
            messages: HashMap::new(),
            requests: Vec::new(),
            deliveries: HashMap::new(),
            faults: Vec::new(),
            blocked: HashSet::new(),
            commands: json!([]),
            next_serial: 0,
            webhook: None,
            webhook_attempts: Vec::new(),
        }
    }

    /// Assign the next update_id, remember the chats and messages inside, queue it.
    pub fn push_update(&mut self, update: Value) -> i64 {
        let update = self.prepare_update(update);
        let id = update["update_id"].as_i64().expect("assigned");
        self.pending.push_back(update);
        id
    }

    /// Assign the next update_id and remember the chats and messages
    /// inside, without queueing it.
    pub fn prepare_update(&mut self, mut update: Value) -> Value {
        let id = self.next_update_id;
        self.next_update_id += 1;
        update["update_id"] = json!(id);
        for key in [
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post",
        ] {
            if update[key].is_object() {
                self.store_message(&update[key]);
            }
        }
        let chats = [
            &update["my_chat_member"]["chat"],
            &update["callback_query"]["message"]["chat"],
        ];
        for chat in chats {
            if let Some(chat_id) = chat["id"].as_i64() {
                self.chats.entry(chat_id).or_insert_with(|| chat.clone());
            }
        }
        update
    }

    pub fn alloc_message_id(&mut self, chat_id: i64) -> i64 {
        let next = self.next_message_id.entry(chat_id).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    pub fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    pub fn deliver(&mut self, chat_id: i64, delivery: Delivery) {
        self.deliveries.entry(chat_id).or_default().push(delivery);
    }

    /// Remember a message (and its chat) so it can later be copied, edited...
    pub fn store_message(&mut self, msg: &Value) {
        let (Some(chat_id), Some(mid)) = (msg["chat"]["id"].as_i64(), msg["message_id"].as_i64())
        else {
            return;
        };
        self.chats
            .entry(chat_id)
            .or_insert_with(|| msg["chat"].clone());
        let next = self.next_message_id.entry(chat_id).or_insert(1);
        *next = (*next).max(mid + 1);
        self.messages.insert((chat_id, mid), msg.clone());
    }
}

pub(super) struct Shared {
    pub state: Mutex<State>,
    /// Bumped on every change; long polls and `wait_for*` subscribe to it.
    pub changed: watch::Sender<u64>,
    /// Set in lean mode (`fake_lean.rs`): the hot methods' fast path.
    pub lean: Option<super::fake_lean::Lean>,
}

impl Shared {
    /// Mutate the state and wake every waiter.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.state.lock());
        self.changed.send_modify(|n| *n += 1);
        r
    }
}
