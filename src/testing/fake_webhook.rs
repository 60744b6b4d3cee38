//! The fake Bot API's webhook side: setWebhook, deleteWebhook,
//! getWebhookInfo, and delivery by POST.
//!
//! Why: webhook mode's promises (a 401 for a wrong secret, no 200 before the
//! commit, a retried update applied once) can only be checked against
//! something that behaves like Telegram's delivery. So once a webhook is
//! set, a task POSTs the queued updates to it one at a time, in order (as
//! `max_connections = 1` makes Telegram do), with the
//! `X-Telegram-Bot-Api-Secret-Token` header, and removes an update from the
//! queue only on a 2xx. Anything else (an error status, no answer) is
//! recorded and retried after [`RETRY_AFTER`], where Telegram would back off
//! for longer. While a webhook is set, getUpdates answers 409, as Telegram's
//! does.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::fake_bot_api::FakeBotApi;
use super::fake_server::{allowed, string, update_kind, ApiErr};
use super::fake_state::{Shared, State};

/// How long the fake waits before POSTing a refused update again.
pub const RETRY_AFTER: Duration = Duration::from_millis(200);
/// How long one POST may take before it counts as failed.
const POST_TIMEOUT: Duration = Duration::from_secs(20);
const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// The webhook as set.
#[derive(Debug)]
pub(super) struct Webhook {
    pub url: String,
    pub secret: Option<String>,
    pub max_connections: Option<i64>,
    /// Which setWebhook call this is; an older delivery task stops.
    generation: u64,
    /// Updates delivered (answered 2xx), for [`FakeBotApi::deliver_again`].
    delivered: Vec<Value>,
}

pub(super) fn set_webhook(shared: &Arc<Shared>, p: &Value) -> Result<Value, ApiErr> {
    let url = string(p, "url").unwrap_or_default();
    if url.trim().is_empty() {
        return Ok(shared.update(|st| delete_webhook(st, p)));
    }
    let secret = string(p, "secret_token");
    let allowed_chars = |s: &String| {
        (1..=256).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if secret.as_ref().is_some_and(|s| !allowed_chars(s)) {
        return Err(ApiErr::bad("secret token contains unallowed characters"));
    }
    let allowed_updates = p["allowed_updates"].as_array().map(|a| {
        a.iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect::<Vec<_>>()
    });
    let generation = shared.update(|st| {
        if allowed_updates.is_some() {
            st.allowed_updates = allowed_updates;
        }
        let generation = st.serial();
        st.webhook = Some(Webhook {
            url,
            secret,
            max_connections: super::fake_server::int(p, "max_connections"),
            generation,
            delivered: Vec::new(),
        });
        generation
    });
    tokio::spawn(deliver(shared.clone(), generation));
    Ok(json!(true))
}

pub(super) fn delete_webhook(st: &mut State, p: &Value) -> Value {
    st.webhook = None;
    if p["drop_pending_updates"] == json!(true) {
        st.pending.clear();
    }
    json!(true)
}

pub(super) fn webhook_info(st: &State) -> Value {
    let url = st.webhook.as_ref().map_or("", |w| w.url.as_str());
    let mut info = json!({"url": url, "has_custom_certificate": false,
                          "pending_update_count": st.pending.len()});
    if let Some(max) = st.webhook.as_ref().and_then(|w| w.max_connections) {
        info["max_connections"] = json!(max);
    }
    if let Some(list) = &st.allowed_updates {
        info["allowed_updates"] = json!(list);
    }
    info
}

/// Where and how to POST: the URL and the secret.
type Target = (String, Option<String>);

/// The next update to POST, with where and how; `None` if there is none.
/// Returns `Err` once this task's webhook is gone or replaced.
fn next_delivery(st: &mut State, generation: u64) -> Result<Option<(Value, Target)>, ()> {
    let target = match &st.webhook {
        Some(hook) if hook.generation == generation => (hook.url.clone(), hook.secret.clone()),
        _ => return Err(()),
    };
    let (setting, filtered) = (&st.allowed_updates, &mut st.filtered_out);
    let everything = st.ignore_allowed_updates;
    st.pending.retain(|u| {
        let keep = everything || allowed(setting, update_kind(u));
        if !keep {
            filtered.push(u["update_id"].as_i64().unwrap_or(0));
        }
        keep
    });
    Ok(st.pending.front().cloned().map(|u| (u, target)))
}

async fn deliver(shared: Arc<Shared>, generation: u64) {
    let client = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .build()
        .expect("the fake's HTTP client");
    let mut changes = shared.changed.subscribe();
    loop {
        changes.borrow_and_update();
        let next = next_delivery(&mut shared.state.lock(), generation);
        let (update, (url, secret)) = match next {
            Err(()) => return,
            Ok(Some(found)) => found,
            Ok(None) => {
                let _ = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
                continue;
            }
        };
        let status = post(&client, &url, secret.as_deref(), &update).await;
        let id = update["update_id"].as_i64().unwrap_or(0);
        let delivered = (200..300).contains(&status);
        shared.update(|st| {
            st.webhook_attempts.push((id, status));
            *st.handed_out.entry(id).or_default() += 1;
            if delivered {
                if st.pending.front() == Some(&update) {
                    st.pending.pop_front();
                }
                st.confirmed_offset = st.confirmed_offset.max(id + 1);
                if let Some(hook) = st.webhook.as_mut() {
                    hook.delivered.push(update.clone());
                }
            }
        });
        if !delivered {
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }
}

/// One POST; the status, or 0 if no answer came.
async fn post(client: &reqwest::Client, url: &str, secret: Option<&str>, update: &Value) -> u16 {
    let mut request = client.post(url).json(update);
    if let Some(secret) = secret {
        request = request.header(SECRET_HEADER, secret);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

/// The text fields of a `multipart/form-data` body: enough for setWebhook
/// without a certificate (file parts are not expected and not supported).
pub(super) fn multipart_fields(
    content_type: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .ok_or("multipart body without a boundary")?;
    let body = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break; // the closing delimiter
        }
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a multipart part without a blank line")?;
        let name = head
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))
            .map(|n| n.trim_matches('"').to_owned())
            .ok_or("a multipart part without a name")?;
        fields.push((name, value.trim_end_matches("\r\n").to_owned()));
    }
    Ok(fields)
}

impl FakeBotApi {
    /// The URL the bot set with setWebhook, if a webhook is set.
    pub fn webhook_url(&self) -> Option<String> {
        let st = self.shared.state.lock();
        st.webhook.as_ref().map(|w| w.url.clone())
    }

    /// The secret token the bot set with setWebhook.
    pub fn webhook_secret(&self) -> Option<String> {
        let st = self.shared.state.lock();
        st.webhook.as_ref().and_then(|w| w.secret.clone())
    }

    /// Every webhook POST so far: (update_id, status; 0 = no answer).
    pub fn webhook_attempts(&self) -> Vec<(i64, u16)> {
        self.shared.state.lock().webhook_attempts.clone()
    }

    /// Queues an update that was already delivered once more, unchanged,
    /// as Telegram does when its first 200 got lost on the way back.
    pub fn deliver_again(&self, update_id: i64) {
        self.shared.update(|st| {
            let delivered = st.webhook.as_ref().map(|w| w.delivered.clone());
            let update = delivered
                .into_iter()
                .flatten()
                .find(|u| u["update_id"].as_i64() == Some(update_id))
                .expect("deliver_again: that update was never delivered");
            st.pending.push_back(update);
        });
    }

    /// POSTs `update` (given the next update id) straight to the webhook
    /// with `secret` as the header (none if `None`), once, outside the
    /// queue: what a stranger who found the URL could do. Returns the
    /// update id and the status.
    pub async fn post_to_webhook(&self, update: Value, secret: Option<&str>) -> (i64, u16) {
        let (update, url) = self.shared.update(|st| {
            let url = st.webhook.as_ref().map(|w| w.url.clone());
            (st.prepare_update(update), url)
        });
        let url = url.expect("post_to_webhook: no webhook is set");
        let id = update["update_id"].as_i64().expect("assigned");
        (
            id,
            post(&reqwest::Client::new(), &url, secret, &update).await,
        )
    }
}
