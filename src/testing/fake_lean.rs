//! The fake Bot API's lean mode, for the load generator.
//!
//! Why a second mode: the normal fake records every request with its JSON
//! parameters and keeps every message as a `serde_json::Value`, all under
//! one lock. That is what the tests want, and at 20,000 messages a second
//! it would be the bottleneck being measured. In lean mode the hot methods
//! (`getUpdates`, `copyMessage`, `sendMessage`) take a fast path that keeps
//! only what the load generator needs:
//! - the update queue, as pre-serialized JSON (no re-encoding per poll);
//! - for each tracked user message (sender's chat, message id): when it was
//!   injected, when a getUpdates call first handed it out, and every
//!   `copyMessage` of it (where to, when, how many times);
//! - per-method counters.
//!
//! It checks nothing a real Telegram would (known chats, existing messages):
//! the load generator checks delivery itself, from the tracks. Every other
//! method (getMe, setMyCommands, ...) goes through the normal fake and is
//! recorded as usual.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Deserialize;

use super::fake_bot_api::FakeBotApi;
use super::fake_server::now;
use super::fake_state::Shared;

/// One user message the load generator injected and wants to follow.
#[derive(Clone, Debug)]
pub struct Track {
    /// The sender's chat (= user id) and the message id in it.
    pub from: i64,
    pub message_id: i64,
    /// Where the load generator expects the copy, if anywhere.
    pub expected_to: Option<i64>,
    pub injected: Instant,
    /// When a getUpdates answer first contained it.
    pub handed_out: Option<Instant>,
    /// Every copyMessage of it: destination chat and arrival time.
    pub copies: Vec<(i64, Instant)>,
}

/// Calls served on the fast path since the last reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeanCounts {
    pub get_updates: u64,
    pub updates_handed_out: u64,
    pub copy_message: u64,
    /// copyMessage calls for messages nobody tracks (e.g. the ceiling run).
    pub copy_untracked: u64,
    pub send_message: u64,
}

struct Queued {
    id: i64,
    json: String,
    track: Option<usize>,
}

#[derive(Default)]
struct LeanState {
    next_update_id: i64,
    pending: VecDeque<Queued>,
    poll_generation: u64,
    tracks: Vec<Track>,
    index: HashMap<(i64, i64), usize>,
    counts: LeanCounts,
    next_message_id: i64,
    first_poll: Option<Instant>,
}

pub(super) struct Lean {
    state: Mutex<LeanState>,
}

impl Lean {
    pub fn new(first_update_id: i64) -> Self {
        let state = LeanState {
            next_update_id: first_update_id,
            next_message_id: 1,
            ..LeanState::default()
        };
        Lean {
            state: Mutex::new(state),
        }
    }
}

/// An update to queue: its JSON without `update_id` (an object, e.g.
/// `{"message":{...}}`) and, for a user message to follow, its sender's
/// chat, message id and expected destination.
pub struct LeanUpdate {
    pub json: String,
    pub track: Option<(i64, i64, Option<i64>)>,
}

impl FakeBotApi {
    /// A fake in lean mode (see the module docs): the load generator's.
    pub async fn start_lean() -> Self {
        Self::serve(Some(Lean::new(Self::FIRST_UPDATE_ID))).await
    }

    fn lean(&self) -> &Lean {
        self.shared.lean.as_ref().expect("not a lean fake")
    }

    /// Queues updates in order, under one lock; returns the last update_id.
    pub fn lean_push(&self, updates: impl IntoIterator<Item = LeanUpdate>) -> i64 {
        let now = Instant::now();
        let last = {
            let mut st = self.lean().state.lock();
            for update in updates {
                let id = st.next_update_id;
                st.next_update_id += 1;
                let body = update.json.trim_start().strip_prefix('{').unwrap_or("}");
                let json = format!("{{\"update_id\":{id},{body}");
                let track = update.track.map(|(from, message_id, expected_to)| {
                    st.tracks.push(Track {
                        from,
                        message_id,
                        expected_to,
                        injected: now,
                        handed_out: None,
                        copies: Vec::new(),
                    });
                    let i = st.tracks.len() - 1;
                    st.index.insert((from, message_id), i);
                    i
                });
                st.pending.push_back(Queued { id, json, track });
            }
            st.next_update_id - 1
        };
        self.shared.changed.send_modify(|n| *n += 1);
        last
    }

    /// Updates queued and not yet confirmed by the bot.
    pub fn lean_pending(&self) -> usize {
        self.lean().state.lock().pending.len()
    }

    pub fn lean_counts(&self) -> LeanCounts {
        self.lean().state.lock().counts
    }

    /// Forgets counters and tracks (not the queue: updates still queued
    /// are no longer followed).
    pub fn lean_reset(&self) {
        let mut st = self.lean().state.lock();
        st.counts = LeanCounts::default();
        st.tracks.clear();
        st.index.clear();
        st.pending.iter_mut().for_each(|u| u.track = None);
    }

    /// When the first getUpdates call arrived.
    pub fn lean_first_poll(&self) -> Option<Instant> {
        self.lean().state.lock().first_poll
    }

    /// Every tracked message so far, in injection order.
    pub fn lean_tracks(&self) -> Vec<Track> {
        self.lean().state.lock().tracks.clone()
    }
}

#[derive(Deserialize)]
struct PollParams {
    offset: Option<i64>,
    limit: Option<i64>,
    timeout: Option<u64>,
}

#[derive(Deserialize)]
struct CopyParams {
    chat_id: i64,
    from_chat_id: i64,
    message_id: i64,
}

#[derive(Deserialize)]
struct SendParams {
    chat_id: i64,
    text: String,
}

/// Serves a hot method; `None` sends the call down the normal path.
pub(super) async fn handle(
    shared: &Arc<Shared>,
    lean: &Lean,
    token: &str,
    method: &str,
    body: &Bytes,
) -> Option<Response> {
    if token != FakeBotApi::TOKEN {
        return None;
    }
    let (status, json) = match method.to_ascii_lowercase().as_str() {
        "getupdates" => get_updates(shared, lean, serde_json::from_slice(body).ok()?).await,
        "copymessage" => (
            StatusCode::OK,
            copy_message(lean, serde_json::from_slice(body).ok()?),
        ),
        "sendmessage" => (
            StatusCode::OK,
            send_message(lean, serde_json::from_slice(body).ok()?),
        ),
        _ => return None,
    };
    let response = (status, [(header::CONTENT_TYPE, "application/json")], json);
    Some(response.into_response())
}

fn copy_message(lean: &Lean, p: CopyParams) -> String {
    let arrived = Instant::now();
    let mut guard = lean.state.lock();
    let st = &mut *guard;
    st.counts.copy_message += 1;
    match st.index.get(&(p.from_chat_id, p.message_id)) {
        Some(&i) => st.tracks[i].copies.push((p.chat_id, arrived)),
        None => st.counts.copy_untracked += 1,
    }
    let id = st.next_message_id;
    st.next_message_id += 1;
    format!("{{\"ok\":true,\"result\":{{\"message_id\":{id}}}}}")
}

fn send_message(lean: &Lean, p: SendParams) -> String {
    let id = {
        let mut st = lean.state.lock();
        st.counts.send_message += 1;
        st.next_message_id += 1;
        st.next_message_id - 1
    };
    let bot = FakeBotApi::bot_user_json();
    let text = serde_json::to_string(&p.text).expect("a string encodes");
    format!(
        "{{\"ok\":true,\"result\":{{\"message_id\":{id},\"from\":{bot},\"chat\":{{\"id\":{},\
         \"type\":\"private\",\"first_name\":\"U\"}},\"date\":{},\"text\":{text}}}}}",
        p.chat_id,
        now()
    )
}

/// Confirms everything below `offset`, then long-polls; a newer call ends a
/// waiting one with 409, as in the normal fake.
async fn get_updates(shared: &Arc<Shared>, lean: &Lean, p: PollParams) -> (StatusCode, String) {
    let limit = p.limit.unwrap_or(100).clamp(1, 100) as usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(p.timeout.unwrap_or(0));
    let generation = {
        let mut st = lean.state.lock();
        st.first_poll.get_or_insert_with(Instant::now);
        if let Some(offset) = p.offset {
            while st.pending.front().is_some_and(|u| u.id < offset) {
                st.pending.pop_front();
            }
        }
        st.poll_generation += 1;
        st.poll_generation
    };
    // Wakes an older poll, which then ends with 409.
    shared.changed.send_modify(|n| *n += 1);
    let mut rx = shared.changed.subscribe();
    loop {
        rx.borrow_and_update();
        {
            let mut guard = lean.state.lock();
            let st = &mut *guard;
            if st.poll_generation != generation {
                let conflict = r#"{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request"}"#;
                return (StatusCode::CONFLICT, conflict.into());
            }
            if !st.pending.is_empty() || tokio::time::Instant::now() >= deadline {
                let handed = Instant::now();
                let mut out = String::from(r#"{"ok":true,"result":["#);
                for (n, update) in st.pending.iter().take(limit).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&update.json);
                    if let Some(track) = update.track.and_then(|i| st.tracks.get_mut(i)) {
                        track.handed_out.get_or_insert(handed);
                    }
                    st.counts.updates_handed_out += 1;
                }
                st.counts.get_updates += 1;
                out.push_str("]}");
                return (StatusCode::OK, out);
            }
        }
        let _ = tokio::time::timeout_at(deadline, rx.changed()).await;
    }
}
