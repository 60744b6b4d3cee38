//! HTTP side of the fake Bot API: routing, token check, parameter parsing,
//! fault injection, `getUpdates` long polling and the simple methods.
//!
//! Why a separate file: keeps `fake_bot_api.rs` (the test-facing API) short,
//! and keeps Telegram's wire quirks (case-insensitive method names, GET with a
//! query string, form bodies, `{"ok":false,...}` errors) in one place.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::fake_bot_api::{FakeBotApi, Fault, RecordedRequest};
use super::fake_state::{Shared, State as FakeState};
use super::{fake_lean, fake_methods};

/// A Telegram error answer.
#[derive(Debug)]
pub(super) struct ApiErr {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
}

impl ApiErr {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 with "Bad Request: " prefixed, as Telegram words it.
    pub fn bad(what: &str) -> Self {
        Self::new(400, format!("Bad Request: {what}"))
    }

    fn not_found() -> Self {
        Self::new(404, "Not Found")
    }
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{token}/{method}", any(handle))
        .fallback(|| async { error(ApiErr::not_found()) })
        .with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((token, method)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Some(token) = token.strip_prefix("bot") else {
        return error(ApiErr::not_found());
    };
    if let Some(lean) = &shared.lean {
        if let Some(response) = fake_lean::handle(&shared, lean, token, &method, &body).await {
            return response;
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = parse_params(query.as_deref(), content_type, &body);
    let method_lc = method.to_ascii_lowercase();
    shared.update(|st| {
        st.requests.push(RecordedRequest {
            method: method.clone(),
            method_lc: method_lc.clone(),
            params: parsed
                .as_ref()
                .cloned()
                .unwrap_or_else(|e| json!({ "_unparsed": e })),
            at: std::time::Instant::now(),
        })
    });
    if token != FakeBotApi::TOKEN {
        return error(ApiErr::new(401, "Unauthorized"));
    }
    let fault = shared.update(|st| {
        let pos = st
            .faults
            .iter()
            .position(|(m, _)| *m == method_lc || m == "*");
        pos.map(|i| st.faults.remove(i).1)
    });
    match fault {
        None => {}
        Some(Fault::Hang(d)) => tokio::time::sleep(d).await,
        Some(Fault::RetryAfter(secs)) => {
            let description = format!("Too Many Requests: retry after {secs}");
            return error(ApiErr {
                retry_after: Some(secs),
                ..ApiErr::new(429, description)
            });
        }
        Some(Fault::ServerError) => return error(ApiErr::new(500, "Internal Server Error")),
        Some(Fault::Api { code, description }) => return error(ApiErr::new(code, description)),
        Some(Fault::Reset) => return reset(),
        Some(Fault::Garbage) => {
            let body = r#"{"ok":true,"result":[{"update_id":"#;
            return (StatusCode::OK, [("content-type", "application/json")], body).into_response();
        }
        Some(Fault::ApplyThenHang(_) | Fault::ApplyThenReset) => {}
    }
    let params = match parsed {
        Ok(p) => p,
        Err(e) => return error(ApiErr::bad(&e)),
    };
    let result = match method_lc.as_str() {
        "getupdates" => get_updates(&shared, &params).await,
        "setwebhook" => super::fake_webhook::set_webhook(&shared, &params),
        _ => shared.update(|st| call(st, &method_lc, &params)),
    };
    match fault {
        Some(Fault::ApplyThenHang(d)) => tokio::time::sleep(d).await,
        Some(Fault::ApplyThenReset) => return reset(),
        _ => {}
    }
    match result {
        Ok(result) => Json(json!({"ok": true, "result": result})).into_response(),
        Err(e) => error(e),
    }
}

fn error(e: ApiErr) -> Response {
    let mut body = json!({"ok": false, "error_code": e.code, "description": e.description});
    if let Some(secs) = e.retry_after {
        body["parameters"] = json!({ "retry_after": secs });
    }
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

/// Send the status line and a partial body, then fail the body stream: hyper
/// drops the connection mid-response.
fn reset() -> Response {
    let chunks: [Result<Bytes, std::io::Error>; 2] = [
        Ok(Bytes::from_static(br#"{"ok":tr"#)),
        Err(std::io::Error::other("injected reset")),
    ];
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("reset response")
}

/// Query string first, then the body (JSON or form), merged into one object.
fn parse_params(query: Option<&str>, content_type: &str, body: &[u8]) -> Result<Value, String> {
    let mut map = serde_json::Map::new();
    let form = |map: &mut serde_json::Map<String, Value>, bytes: &[u8]| {
        for (k, v) in url::form_urlencoded::parse(bytes) {
            map.insert(k.into_owned(), form_value(&v));
        }
    };
    if let Some(q) = query {
        form(&mut map, q.as_bytes());
    }
    let ct = content_type.to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        // GET, or a POST without parameters.
    } else if ct.starts_with("application/json") || (ct.is_empty() && body[0] == b'{') {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => map.extend(obj),
            Ok(_) => return Err("JSON body must be an object".into()),
            Err(e) => return Err(format!("can't parse JSON: {e}")),
        }
    } else if ct.starts_with("multipart/form-data") {
        // teloxide sends setWebhook (which may carry a certificate) this way.
        for (k, v) in super::fake_webhook::multipart_fields(content_type, body)? {
            map.insert(k, form_value(&v));
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") || ct.is_empty() {
        form(&mut map, body);
    } else {
        return Err(format!("the fake does not parse {ct} bodies"));
    }
    Ok(Value::Object(map))
}

/// Form and query values are strings; Telegram reads numbers, booleans and
/// JSON-serialized arrays/objects out of them.
fn form_value(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    if v == "true" || v == "false" {
        return json!(v == "true");
    }
    if v.starts_with('[') || v.starts_with('{') {
        if let Ok(parsed) = serde_json::from_str(v) {
            return parsed;
        }
    }
    json!(v)
}

/// An integer parameter given as a number or a numeric string.
pub(super) fn int(p: &Value, key: &str) -> Option<i64> {
    match &p[key] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string parameter; numbers and booleans (from forms) are stringified back.
pub(super) fn string(p: &Value, key: &str) -> Option<String> {
    match &p[key] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn call(st: &mut FakeState, method: &str, p: &Value) -> Result<Value, ApiErr> {
    match method {
        "getme" => Ok(me()),
        "deletewebhook" => Ok(super::fake_webhook::delete_webhook(st, p)),
        "getwebhookinfo" => Ok(super::fake_webhook::webhook_info(st)),
        "answercallbackquery" | "logout" | "close" => Ok(json!(true)),
        "setmycommands" => {
            st.commands = p["commands"].clone();
            Ok(json!(true))
        }
        "getmycommands" => Ok(st.commands.clone()),
        "deletemycommands" => {
            st.commands = json!([]);
            Ok(json!(true))
        }
        "leavechat" => fake_methods::known_chat(st, p, "chat_id").map(|_| json!(true)),
        "sendchataction" => fake_methods::sendable(st, p).map(|_| json!(true)),
        "sendmessage" => fake_methods::send_message(st, p),
        "copymessage" => fake_methods::copy_message(st, p),
        "copymessages" => fake_methods::copy_messages(st, p),
        "forwardmessage" => fake_methods::forward_message(st, p),
        "editmessagetext" => fake_methods::edit_message_text(st, p),
        "deletemessage" => fake_methods::delete_message(st, p),
        "editmessagecaption" => super::fake_extras::edit_message_caption(st, p),
        "editmessagemedia" => super::fake_extras::edit_message_media(st, p),
        "setmessagereaction" => super::fake_extras::set_message_reaction(st, p),
        _ => Err(ApiErr::not_found()),
    }
}

fn me() -> Value {
    let mut me = FakeBotApi::bot_user_json();
    let extra = json!({"can_join_groups": true, "can_read_all_group_messages": false,
                       "supports_inline_queries": false, "can_connect_to_business": false,
                       "has_main_web_app": false});
    me.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    me
}

/// The update's type: its one key besides `update_id`.
pub(super) fn update_kind(u: &Value) -> &str {
    let keys = u.as_object().into_iter().flat_map(|o| o.keys());
    keys.map(String::as_str)
        .find(|k| *k != "update_id")
        .unwrap_or("")
}

pub(super) fn allowed(setting: &Option<Vec<String>>, kind: &str) -> bool {
    match setting {
        Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
        // Telegram's default: everything but these three.
        _ => !matches!(
            kind,
            "chat_member" | "message_reaction" | "message_reaction_count"
        ),
    }
}

/// Confirm everything below `offset`, then long-poll for up to `timeout`
/// seconds. A newer getUpdates call ends a waiting one with 409, as Telegram does.
async fn get_updates(shared: &Arc<Shared>, p: &Value) -> Result<Value, ApiErr> {
    let limit = int(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(int(p, "timeout").unwrap_or(0).max(0) as u64);
    let allowed_updates = p["allowed_updates"].as_array().map(|a| {
        a.iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect::<Vec<_>>()
    });
    if shared.state.lock().webhook.is_some() {
        return Err(ApiErr::new(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook \
             to delete the webhook first",
        ));
    }
    let generation = shared.update(|st| {
        if allowed_updates.is_some() {
            st.allowed_updates = allowed_updates;
        }
        let id = |u: &Value| u["update_id"].as_i64().unwrap_or(0);
        match int(p, "offset") {
            Some(o) if o < 0 => {
                while st.pending.len() > o.unsigned_abs() as usize {
                    st.pending.pop_front();
                }
                let first = st.pending.front().map(id);
                st.confirmed_offset = st.confirmed_offset.max(first.unwrap_or(st.next_update_id));
            }
            Some(o) => {
                st.pending.retain(|u| id(u) >= o);
                st.confirmed_offset = st.confirmed_offset.max(o);
            }
            None => {}
        }
        st.poll_generation += 1;
        st.poll_generation
    });
    let deadline = tokio::time::Instant::now() + timeout;
    let mut rx = shared.changed.subscribe();
    loop {
        rx.borrow_and_update();
        {
            let mut guard = shared.state.lock();
            let st = &mut *guard;
            if st.poll_generation != generation {
                return Err(ApiErr::new(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one \
                     bot instance is running",
                ));
            }
            let (setting, filtered) = (&st.allowed_updates, &mut st.filtered_out);
            let everything = st.ignore_allowed_updates;
            st.pending.retain(|u| {
                let keep = everything || allowed(setting, update_kind(u));
                if !keep {
                    filtered.push(u["update_id"].as_i64().unwrap_or(0));
                }
                keep
            });
            let batch: Vec<Value> = st.pending.iter().take(limit).cloned().collect();
            if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
                for u in &batch {
                    *st.handed_out
                        .entry(u["update_id"].as_i64().unwrap_or(0))
                        .or_default() += 1;
                }
                return Ok(Value::Array(batch));
            }
        }
        let _ = tokio::time::timeout_at(deadline, rx.changed()).await;
    }
}
