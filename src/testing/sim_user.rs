//! Simulated Telegram users, groups and channels that inject updates into a
//! [`FakeBotApi`]: messages of every kind, edits, button presses, the bot
//! being blocked or added to a group.
//!
//! Why: end-to-end tests read best as "alice sends /chat, bob sends a photo";
//! these builders fill in the envelope (fresh update_id and per-chat
//! message_id, date, full `from` and `chat` objects) the way Telegram does.

use serde_json::{json, Value};

use super::fake_bot_api::FakeBotApi;
use super::fake_server::now;
use super::sim_kinds::{command, photo, with, SimKind};

/// Push `{key: message}` for a new message in `chat`; returns its message_id.
fn inject(fake: &FakeBotApi, key: &str, chat: Value, sender: (&str, Value), content: Value) -> i64 {
    let mid = fake.alloc_message_id(chat["id"].as_i64().expect("chat id"));
    let envelope = json!({"message_id": mid, sender.0: sender.1, "chat": chat, "date": now()});
    fake.push_update(json!({ key: with(envelope, content) }));
    mid
}

impl FakeBotApi {
    /// A user who talks to the bot in a private chat (chat id = user id).
    pub fn user(&self, id: i64, first_name: &str, username: Option<&str>) -> SimUser {
        let user = SimUser {
            fake: self.clone(),
            id,
            first_name: first_name.to_owned(),
            username: username.map(str::to_owned),
            language_code: "en".to_owned(),
        };
        self.register_chat(user.chat_json());
        user
    }

    pub fn group(&self, id: i64, title: &str) -> SimChat {
        self.sim_chat(id, title, "group")
    }

    /// Supergroup ids look like -100xxxxxxxxxx.
    pub fn supergroup(&self, id: i64, title: &str) -> SimChat {
        self.sim_chat(id, title, "supergroup")
    }

    pub fn channel(&self, id: i64, title: &str) -> SimChat {
        self.sim_chat(id, title, "channel")
    }

    fn sim_chat(&self, id: i64, title: &str, kind: &'static str) -> SimChat {
        let chat = SimChat {
            fake: self.clone(),
            id,
            title: title.to_owned(),
            kind,
        };
        self.register_chat(chat.chat_json());
        chat
    }
}

/// A simulated Telegram user; cheap to clone.
#[derive(Clone)]
pub struct SimUser {
    fake: FakeBotApi,
    id: i64,
    first_name: String,
    username: Option<String>,
    /// The `language_code` of the user's Telegram client.
    language_code: String,
}

impl SimUser {
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The same user with their Telegram client set to `code` (e.g. "ru").
    pub fn speaking(mut self, code: &str) -> Self {
        self.language_code = code.to_owned();
        self
    }

    /// The private chat with the bot has the user's id.
    pub fn chat_id(&self) -> i64 {
        self.id
    }

    pub fn user_json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name,
                              "language_code": self.language_code});
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        user
    }

    pub fn chat_json(&self) -> Value {
        let mut chat = json!({"id": self.id, "type": "private", "first_name": self.first_name});
        if let Some(username) = &self.username {
            chat["username"] = json!(username);
        }
        chat
    }

    /// Send a message with arbitrary content fields; returns its message_id.
    pub fn send_content(&self, content: Value) -> i64 {
        inject(
            &self.fake,
            "message",
            self.chat_json(),
            ("from", self.user_json()),
            content,
        )
    }

    pub fn send_kind(&self, kind: SimKind) -> i64 {
        self.send_content(kind.content(self.fake.serial()))
    }

    pub fn send_text(&self, text: &str) -> i64 {
        self.send_content(json!({ "text": text }))
    }

    /// E.g. `send_command("/chat")` or `send_command("/start ref42")`.
    pub fn send_command(&self, text: &str) -> i64 {
        self.send_content(command(text))
    }

    /// A photo whose caption is entirely bold.
    pub fn send_photo(&self, caption: &str) -> i64 {
        self.send_content(photo(self.fake.serial(), caption))
    }

    pub fn send_video(&self) -> i64 {
        self.send_kind(SimKind::Video)
    }

    /// A GIF: Telegram sets both `animation` and `document`.
    pub fn send_animation(&self) -> i64 {
        self.send_kind(SimKind::Animation)
    }

    pub fn send_sticker(&self) -> i64 {
        self.send_kind(SimKind::Sticker)
    }

    pub fn send_voice(&self) -> i64 {
        self.send_kind(SimKind::Voice)
    }

    pub fn send_video_note(&self) -> i64 {
        self.send_kind(SimKind::VideoNote)
    }

    pub fn send_audio(&self) -> i64 {
        self.send_kind(SimKind::Audio)
    }

    pub fn send_document(&self) -> i64 {
        self.send_kind(SimKind::Document)
    }

    pub fn send_location(&self) -> i64 {
        self.send_kind(SimKind::Location)
    }

    pub fn send_venue(&self) -> i64 {
        self.send_kind(SimKind::Venue)
    }

    pub fn send_contact(&self) -> i64 {
        self.send_kind(SimKind::Contact)
    }

    pub fn send_poll(&self) -> i64 {
        self.send_kind(SimKind::Poll)
    }

    pub fn send_dice(&self) -> i64 {
        self.send_kind(SimKind::Dice)
    }

    /// An `edited_message` update for one of this user's text messages; returns the update_id.
    pub fn edit_text(&self, message_id: i64, new_text: &str) -> i64 {
        let msg = self
            .fake
            .message(self.id, message_id)
            .expect("edit_text: unknown message");
        let edited = with(msg, json!({"text": new_text, "edit_date": now()}));
        self.fake.push_update(json!({ "edited_message": edited }))
    }

    /// An album of `photos` photos sharing one media_group_id, sent as
    /// Telegram sends them: one update per photo. Returns their ids in order.
    pub fn send_album(&self, photos: usize) -> Vec<i64> {
        let group = format!("album{}", self.fake.serial());
        (0..photos)
            .map(|i| {
                let mut content = photo(self.fake.serial(), &format!("photo {i}"));
                content["media_group_id"] = json!(group);
                self.send_content(content)
            })
            .collect()
    }

    /// A text that replies to `replied` (a message in this user's chat).
    pub fn reply_text(&self, replied: i64, text: &str) -> i64 {
        self.send_content(json!({ "text": text, "reply_to_message": self.stored(replied) }))
    }

    /// A command sent as a reply, e.g. `/delete` to unsend `replied`.
    pub fn reply_command(&self, replied: i64, text: &str) -> i64 {
        let mut content = command(text);
        content["reply_to_message"] = self.stored(replied);
        self.send_content(content)
    }

    /// Edits the caption of `message_id`, one of this user's media messages.
    pub fn edit_caption(&self, message_id: i64, caption: &str) -> i64 {
        let msg = self.stored(message_id);
        let edited = with(msg, json!({"caption": caption, "edit_date": now()}));
        self.fake.push_update(json!({ "edited_message": edited }))
    }

    /// Replaces the photo of `message_id`, one of this user's photos, with
    /// a new one (file id `file`) and `caption`.
    pub fn replace_photo(&self, message_id: i64, file: &str, caption: &str) -> i64 {
        let msg = self.stored(message_id);
        let photo = json!([{"file_id": file, "file_unique_id": file, "width": 1280, "height": 960, "file_size": 98_765}]);
        let edited = with(
            msg,
            json!({"photo": photo, "caption": caption, "edit_date": now()}),
        );
        self.fake.push_update(json!({ "edited_message": edited }))
    }

    /// Sets this user's reaction on `message_id` in their chat; "" removes it.
    pub fn react(&self, message_id: i64, emoji: &str) -> i64 {
        let reaction: Vec<Value> = if emoji.is_empty() {
            vec![]
        } else {
            vec![json!({"type": "emoji", "emoji": emoji})]
        };
        self.fake.push_update(json!({"message_reaction": {
            "chat": self.chat_json(), "message_id": message_id, "user": self.user_json(),
            "date": now(), "old_reaction": [], "new_reaction": reaction}}))
    }

    /// The message `message_id` in this user's chat, as the fake stores it.
    fn stored(&self, message_id: i64) -> Value {
        let fallback = json!({"message_id": message_id, "date": now(), "chat": self.chat_json()});
        self.fake.message(self.id, message_id).unwrap_or(fallback)
    }

    /// A `callback_query` from pressing a button with `data` under the bot's
    /// message `message_id` in this user's chat; returns the update_id.
    pub fn press_button(&self, message_id: i64, data: &str) -> i64 {
        let inaccessible = json!({"chat": self.chat_json(), "message_id": message_id, "date": 0});
        let message = self
            .fake
            .message(self.id, message_id)
            .unwrap_or(inaccessible);
        let id = format!("{}{:06}", self.id, self.fake.serial());
        let chat_instance = format!("-{}", 4_000_000_000_000_000_000i64 + self.id);
        self.fake.push_update(json!({"callback_query": {
            "id": id, "from": self.user_json(), "message": message,
            "chat_instance": chat_instance, "data": data}}))
    }

    /// The user blocks the bot: sends to them now fail with 403, and the bot
    /// gets the `my_chat_member` update (member → kicked) Telegram sends.
    pub fn block_bot(&self) -> i64 {
        self.fake.block_chat(self.id);
        self.bot_status_change("member", "kicked")
    }

    pub fn unblock_bot(&self) -> i64 {
        self.fake.unblock_chat(self.id);
        self.bot_status_change("kicked", "member")
    }

    fn bot_status_change(&self, old: &str, new: &str) -> i64 {
        self.fake
            .push_update(my_chat_member(self.chat_json(), self.user_json(), old, new))
    }
}

fn my_chat_member(chat: Value, from: Value, old: &str, new: &str) -> Value {
    let member = |status: &str| {
        let m = json!({"user": FakeBotApi::bot_user_json(), "status": status});
        if status == "kicked" {
            with(m, json!({ "until_date": 0 }))
        } else {
            m
        }
    };
    json!({"my_chat_member": {"chat": chat, "from": from, "date": now(),
            "old_chat_member": member(old), "new_chat_member": member(new)}})
}

/// A simulated group, supergroup or channel.
#[derive(Clone)]
pub struct SimChat {
    fake: FakeBotApi,
    id: i64,
    title: String,
    kind: &'static str,
}

impl SimChat {
    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn chat_json(&self) -> Value {
        json!({"id": self.id, "title": self.title, "type": self.kind})
    }

    /// A text message by `from` in this group; returns its message_id.
    pub fn send_text(&self, from: &SimUser, text: &str) -> i64 {
        inject(
            &self.fake,
            "message",
            self.chat_json(),
            ("from", from.user_json()),
            json!({"text": text}),
        )
    }

    /// A command in this group, e.g. `/chat@randchat_test_bot`.
    pub fn send_command(&self, from: &SimUser, text: &str) -> i64 {
        inject(
            &self.fake,
            "message",
            self.chat_json(),
            ("from", from.user_json()),
            command(text),
        )
    }

    /// A `channel_post` (no `from`; `sender_chat` is the channel); returns its message_id.
    pub fn post(&self, text: &str) -> i64 {
        let content = json!({"text": text, "author_signature": "Admin"});
        inject(
            &self.fake,
            "channel_post",
            self.chat_json(),
            ("sender_chat", self.chat_json()),
            content,
        )
    }

    /// `my_chat_member`: `by` added the bot to this group; returns the update_id.
    pub fn add_bot(&self, by: &SimUser) -> i64 {
        self.fake.push_update(my_chat_member(
            self.chat_json(),
            by.user_json(),
            "left",
            "member",
        ))
    }
}
