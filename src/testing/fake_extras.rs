//! The fake's less common message methods: caption and media edits, and
//! reactions.
//!
//! Kept apart from `fake_methods` so each file stays readable; the rules
//! are Telegram's: only the bot's own messages can be edited, a caption
//! only on a message that has media, and reactions replace each other.

use serde_json::{json, Value};

use super::fake_bot_api::{Delivery, FakeBotApi};
use super::fake_methods::required_chat;
use super::fake_server::{int, now, string, ApiErr};
use super::fake_state::State;

pub(super) fn edit_message_caption(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let chat_id = required_chat(p, "chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    let caption = string(p, "caption").unwrap_or_default();
    let msg = bots_media_message(st, chat_id, mid, "caption")?;
    if msg["caption"] == json!(caption) {
        return Err(ApiErr::bad("message is not modified"));
    }
    set_caption(st, chat_id, mid, caption)
}

pub(super) fn set_message_reaction(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let chat_id = required_chat(p, "chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    if !st.messages.contains_key(&(chat_id, mid)) {
        return Err(ApiErr::bad("message to react not found"));
    }
    let emoji: Vec<String> = p["reaction"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["emoji"].as_str().map(String::from))
        .collect();
    st.deliver(
        chat_id,
        Delivery::Reaction {
            message_id: mid,
            emoji,
        },
    );
    Ok(json!(true))
}

/// editMessageMedia with a file id: the message's media is replaced (its
/// old media keys removed) and its caption set; the user sees an edit.
pub(super) fn edit_message_media(st: &mut State, p: &Value) -> Result<Value, ApiErr> {
    let chat_id = required_chat(p, "chat_id")?;
    let mid = int(p, "message_id").ok_or_else(|| ApiErr::bad("message_id is empty"))?;
    let media: Value = match &p["media"] {
        Value::String(raw) => {
            serde_json::from_str(raw).map_err(|_| ApiErr::bad("can't parse media"))?
        }
        other => other.clone(),
    };
    let kind = media["type"]
        .as_str()
        .ok_or_else(|| ApiErr::bad("media type is empty"))?;
    let file = media["media"]
        .as_str()
        .ok_or_else(|| ApiErr::bad("media is empty"))?;
    let caption = media["caption"].as_str().unwrap_or_default().to_owned();
    let msg = bots_media_message(st, chat_id, mid, "media")?;
    let obj = msg.as_object_mut().expect("object");
    for key in ["photo", "video", "animation", "document", "audio"] {
        obj.remove(key);
    }
    let meta = json!({"file_id": file, "file_unique_id": file});
    let value = match kind {
        "photo" => json!([meta]),
        "video" | "animation" | "document" | "audio" => meta,
        _ => return Err(ApiErr::bad("unsupported media type")),
    };
    obj.insert(kind.to_owned(), value);
    set_caption(st, chat_id, mid, caption)
}

/// One of the bot's own messages with media, to edit; `what` names what a
/// text message lacks ("caption", "media"), as Telegram's error does.
fn bots_media_message<'a>(
    st: &'a mut State,
    chat_id: i64,
    mid: i64,
    what: &str,
) -> Result<&'a mut Value, ApiErr> {
    let msg = st.messages.get_mut(&(chat_id, mid));
    let msg = msg.ok_or_else(|| ApiErr::bad("message to edit not found"))?;
    if msg["from"]["id"].as_i64() != Some(FakeBotApi::BOT_ID) {
        return Err(ApiErr::bad("message can't be edited"));
    }
    if msg["text"].is_string() {
        let problem = format!("there is no {what} in the message to edit");
        return Err(ApiErr::bad(&problem));
    }
    Ok(msg)
}

/// Sets the caption of a message found by [`bots_media_message`], marks it
/// edited, and shows the user the edit. Returns the edited message.
fn set_caption(st: &mut State, chat_id: i64, mid: i64, caption: String) -> Result<Value, ApiErr> {
    let msg = st.messages.get_mut(&(chat_id, mid)).expect("found above");
    let obj = msg.as_object_mut().expect("object");
    obj.insert("caption".into(), json!(caption));
    obj.insert("edit_date".into(), json!(now()));
    let edited = msg.clone();
    st.deliver(
        chat_id,
        Delivery::Edit {
            message_id: mid,
            text: caption,
        },
    );
    Ok(edited)
}
