//! The message-producing methods of the fake Bot API: sendMessage,
//! copyMessage(s), forwardMessage, editMessageText, deleteMessage.
//!
//! Why they are stateful: a relay bot is only correct if it copies messages
//! that really exist in the sender's chat, into chats that can receive them.
//! So each check Telegram makes that randchat can trip over is made here too,
//! with Telegram's exact error text (teloxide maps the text to `ApiError`).

use serde_json::{json, Map, Value};

use super::fake_bot_api::{Delivery, FakeBotApi};
use super::fake_server::{int, now, string, ApiErr};
use super::fake_state::State;

/// Fields that describe a message's envelope rather than its content.
const ENVELOPE: &[&str] = &[
    "message_id",
    "message_thread_id",
    "from",
    "sender_chat",
    "chat",
    "date",
    "edit_date",
    "forward_origin",
    "reply_to_message",
    "external_reply",
    "quote",
    "is_topic_message",
    "via_bot",
    "author_signature",
    "reply_markup",
    "has_protected_content",
    "is_automatic_forward",
    "media_group_id",
];

/// Message kinds whose caption `copyMessage` may replace.
const CAPTIONED: &[&str] = &["photo", "video", "animation", "audio", "document", "voice"];

pub(super) fn required_chat(p: &Value, key: &str) -> Result<i64, ApiErr> {
    int(p, key).ok_or_else(|| ApiErr::bad(&format!("{key} is empty")))
}

/// The Chat object of `p[key]`, if the fake knows that chat.
pub(super) fn known_chat(st: &State, p: &Value, key: &str) -> Result<Value, ApiErr> {
    let id = required_chat(p, key)?;
    st.chats
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiErr::bad("chat not found"))
}

/// `p.chat_id`, checked as a destination: known and not blocked.
pub(super) fn sendable(st: &State, p: &Value) -> Result<(i64, Value), ApiErr> {
    let id = required_chat(p, "chat_id")?;
    if st.blocked.contains(&id) {
        return Err(ApiErr::new(403, "Forbidden: bot was blocked by the user"));
    }
    Ok((id, known_chat(st, p, "chat_id")?))
}

/// Telegram only echoes inline keyboards back in the Message (and teloxide's
/// `Message::reply_markup` can only hold an `InlineKeyboardMarkup`).
fn inline_markup(p: &Value) -> Option<Value> {
    let markup = &p["reply_markup"];
    markup["inline_keyboard"].is_array().then(|| markup.clone())
}

/// Create, store and return a message from the bot in `chat`.
fn bot_message(st: &mut State, chat: Value, mut content: Map<String, Value>, p: &Value) -> Value {
    let chat_id = chat["id"].as_i64().expect("chat id");
    let mut msg = json!({
        "message_id": st.alloc_message_id(chat_id),
        "from": FakeBotApi::bot_user_json(),
        "chat": chat,
        "date": now(),
    });
    if let Some(markup) = inline_markup(p) {
        content.insert("reply_markup".into(), markup);
    }
    if p["protect_content"] == json!(true) {
        content.insert("has_protected_content".into(), json!(true));
    }
    msg.as_object_mut().expect("object").extend(content);
    st.store_message(&msg);
    msg
}

fn content_of(msg: &Value) -> Map<String, Value> {
    let mut content = msg.as_object().cloned().unwrap_or_default();
    content.retain(|k, _| !ENVELOPE.contains(&k.as_str()));
    content
}

pub(super) fn send_message(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let (chat_id, chat) = sendable(st, p)?;
    let text = string(p, "text").filter(|t| !t.trim().is_empty());
    let text = text.ok_or_else(|| ApiErr::bad("message text is empty"))?;
    let mut content = Map::new();
    content.insert("text".into(), json!(text));
    if p["entities"].is_array() {
        content.insert("entities".into(), p["entities"].clone());
    }
    let msg = bot_message(st, chat, content, p);
    let sent_id = msg["message_id"].as_i64().expect("id");
    st.deliver(chat_id, Delivery::Text { text, sent_id });
    Ok(msg)
}

/// Copy one stored message into `chat`; None if the source is unknown.
fn copy_one(st: &mut State, p: &Value, chat: &Value, from_chat_id: i64, mid: i64) -> Option<i64> {
    let source = st.messages.get(&(from_chat_id, mid))?.clone();
    let mut content = content_of(&source);
    let captioned = CAPTIONED.iter().any(|k| content.contains_key(*k));
    let caption = string(p, "caption");
    if captioned {
        if p["remove_caption"] == json!(true) {
            content.remove("caption");
            content.remove("caption_entities");
        }
        if let Some(caption) = &caption {
            content.insert("caption".into(), json!(caption));
            content.remove("caption_entities");
            if p["caption_entities"].is_array() {
                content.insert("caption_entities".into(), p["caption_entities"].clone());
            }
        }
    }
    let msg = bot_message(st, chat.clone(), content, p);
    let sent_id = msg["message_id"].as_i64().expect("id");
    let chat_id = chat["id"].as_i64().expect("chat id");
    let delivery = Delivery::Copy {
        from_chat_id,
        message_id: mid,
        caption,
        sent_id,
    };
    st.deliver(chat_id, delivery);
    Some(sent_id)
}

pub(super) fn copy_message(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let (_, chat) = sendable(st, p)?;
    let from_chat_id = required_chat(p, "from_chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    let sent = copy_one(st, p, &chat, from_chat_id, mid);
    let sent = sent.ok_or_else(|| ApiErr::bad("message to copy not found"))?;
    Ok(json!({ "message_id": sent }))
}

/// Like Telegram, skips ids it cannot find; fails only if none were copied.
pub(super) fn copy_messages(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let (_, chat) = sendable(st, p)?;
    let from_chat_id = required_chat(p, "from_chat_id")?;
    let ids: Vec<i64> = p["message_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    let params =
        json!({"remove_caption": p["remove_caption"], "protect_content": p["protect_content"]});
    let sent: Vec<Value> = ids
        .iter()
        .filter_map(|&mid| copy_one(st, &params, &chat, from_chat_id, mid))
        .map(|id| json!({ "message_id": id }))
        .collect();
    if sent.is_empty() {
        return Err(ApiErr::bad("message to copy not found"));
    }
    Ok(Value::Array(sent))
}

pub(super) fn forward_message(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let (chat_id, chat) = sendable(st, p)?;
    let from_chat_id = required_chat(p, "from_chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    let source = st.messages.get(&(from_chat_id, mid)).cloned();
    let source = source.ok_or_else(|| ApiErr::bad("message to forward not found"))?;
    let mut content = content_of(&source);
    let origin = match source["from"].is_object() {
        true => json!({"type": "user", "date": source["date"], "sender_user": source["from"]}),
        false => json!({"type": "chat", "date": source["date"], "sender_chat": source["chat"]}),
    };
    content.insert("forward_origin".into(), origin);
    let msg = bot_message(st, chat, content, p);
    let sent_id = msg["message_id"].as_i64().expect("id");
    st.deliver(
        chat_id,
        Delivery::Forward {
            from_chat_id,
            message_id: mid,
            sent_id,
        },
    );
    Ok(msg)
}

pub(super) fn edit_message_text(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    if p["inline_message_id"].is_string() {
        return Ok(json!(true));
    }
    let chat_id = required_chat(p, "chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    let text = string(p, "text").filter(|t| !t.trim().is_empty());
    let text = text.ok_or_else(|| ApiErr::bad("message text is empty"))?;
    let msg = st.messages.get_mut(&(chat_id, mid));
    let msg = msg.ok_or_else(|| ApiErr::bad("message to edit not found"))?;
    if msg["from"]["id"].as_i64() != Some(FakeBotApi::BOT_ID) {
        return Err(ApiErr::bad("message can't be edited"));
    }
    if !msg["text"].is_string() {
        return Err(ApiErr::bad("there is no text in the message to edit"));
    }
    let markup = inline_markup(p).unwrap_or(Value::Null);
    if msg["text"] == json!(text) && msg["reply_markup"] == markup {
        return Err(ApiErr::bad(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        ));
    }
    let obj = msg.as_object_mut().expect("object");
    obj.insert("text".into(), json!(text));
    obj.insert("edit_date".into(), json!(now()));
    for (key, value) in [
        ("entities", p["entities"].clone()),
        ("reply_markup", markup),
    ] {
        match value.is_null() {
            true => obj.remove(key),
            false => obj.insert(key.into(), value),
        };
    }
    let edited = msg.clone();
    st.deliver(
        chat_id,
        Delivery::Edit {
            message_id: mid,
            text,
        },
    );
    Ok(edited)
}

pub(super) fn delete_message(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let chat_id = required_chat(p, "chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    if st.messages.remove(&(chat_id, mid)).is_none() {
        return Err(ApiErr::bad("message to delete not found"));
    }
    st.deliver(chat_id, Delivery::Delete { message_id: mid });
    Ok(json!(true))
}
