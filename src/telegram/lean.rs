//! A lean parser for the one update kind the relay path lives on: a plain
//! text message in a private chat.
//!
//! Why: teloxide's `Message` is built from flattened, untagged enums, so
//! serde buffers every update into intermediate values and tries variant
//! after variant, building and dropping a dozen errors on the way. That was
//! about a quarter of the bot's instructions per relayed message. Texts
//! are most of what users send, and their shape is small and fixed.
//!
//! The rule that keeps this safe: the lean parser accepts an update only if
//! it has exactly the shape of a plain private text (every field known,
//! every value of the type teloxide expects, no extra field anywhere).
//! Anything else, including anything odd or malformed, is left to
//! teloxide's full parse ([`super::incoming`]), so the lean path never
//! decides something teloxide would have decided differently. A
//! differential test over the update corpus checks that both paths give
//! the same events (`tests/lean_updates.rs`).

use super::inbound::Written;
use crate::domain::{MessageId, UserId};
use crate::engine::{Command, Contact, Event, Media};
use crate::i18n::Lang;
use serde::Deserialize;
use std::borrow::Cow;

/// A plain text message in a private chat, as the engine needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeanText {
    pub update_id: i64,
    pub message: MessageId,
    /// Unix seconds.
    pub date: i64,
    /// The sender (and, in a private chat, the chat).
    pub user: UserId,
    pub username: Option<String>,
    /// The sender's language, if the bot speaks it.
    pub lang: Option<Lang>,
    pub text: String,
    marks: Marks,
}

/// What the message's entities say, as far as the bot cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Marks {
    /// A URL or a text link (what /media calls a link).
    url: bool,
    /// An e-mail address (a link to the anti-spam rules, not to /media).
    email: bool,
    /// An @mention or a mention by name.
    mention: bool,
}

/// Dates teloxide converts without complaint (up to the year 9999).
const LATEST_DATE: i64 = 253_402_300_799;

impl LeanText {
    /// The update in `json`, if it is exactly a plain private text message.
    pub fn parse(json: &str) -> Option<LeanText> {
        // Not a text at all (most other updates): don't build a parse error.
        if !json.contains("\"text\"") {
            return None;
        }
        let raw: RawUpdate = serde_json::from_str(json).ok()?;
        let RawUpdate {
            update_id,
            message: m,
        } = raw;
        if m.chat.kind != "private" || !(0..=LATEST_DATE).contains(&m.date) {
            return None;
        }
        let mut marks = Marks::default();
        for entity in &m.entities {
            match &*entity.kind {
                "url" => marks.url = true,
                "email" => marks.email = true,
                "mention" => marks.mention = true,
                kind if SIMPLE_ENTITIES.contains(&kind) => {}
                // text_link, text_mention, pre, custom_emoji carry more
                // fields; unknown kinds make teloxide refuse the message.
                _ => return None,
            }
        }
        Some(LeanText {
            update_id: i64::from(update_id),
            message: MessageId(m.message_id),
            date: m.date,
            user: UserId(m.from.id as i64),
            username: m.from.username.map(Cow::into_owned),
            lang: m.from.language_code.as_deref().and_then(Lang::from_code),
            text: m.text.into_owned(),
            marks,
        })
    }

    /// The event it means (as `inbound::classify` would say).
    pub fn classify(&self, bot_username: &str) -> Option<Event> {
        let user = self.user;
        match Command::parse(&self.text, bot_username) {
            Some(Command::Delete) => {
                return Some(Event::Delete {
                    user,
                    replied: None,
                    link: None,
                })
            }
            Some(Command::Link) => {
                return Some(Event::Share {
                    user,
                    contact: Contact::from_username(self.username.as_deref()),
                })
            }
            Some(command) => return Some(Event::Command { user, command }),
            None => {}
        }
        let media = self.marks.url.then_some(Media::Links);
        if self.text.len() <= crate::engine::event::SHORT_TEXT_BYTES {
            return Some(Event::ShortText {
                user,
                message: self.message,
                text: self.text.clone(),
                media,
            });
        }
        Some(Event::Message {
            user,
            message: self.message,
            relayable: true,
            media,
        })
    }

    /// The sender's language, as `inbound::spoken_language` would say.
    pub fn spoken_language(&self) -> Option<Event> {
        Some(Event::Speaks {
            user: self.user,
            lang: self.lang?,
        })
    }

    /// The text for the anti-spam rules, as `inbound::written` would say.
    pub fn written(&self) -> Written {
        Written {
            text: self.text.clone(),
            link_entity: self.marks.url || self.marks.email,
            mention_entity: self.marks.mention,
        }
    }
}

/// Entity kinds that carry nothing but offset and length.
/// (`url`, `email` and `mention` too; [`LeanText::parse`] notes those.)
const SIMPLE_ENTITIES: [&str; 12] = [
    "hashtag",
    "cashtag",
    "bot_command",
    "phone_number",
    "bold",
    "blockquote",
    "expandable_blockquote",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "code",
];

// The exact shape accepted; `deny_unknown_fields` sends anything more to
// teloxide. Types are teloxide's own (u32 update ids, i32 message ids, u64
// user ids, usize offsets), so a value teloxide would refuse is refused.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdate<'a> {
    update_id: u32,
    #[serde(borrow)]
    message: RawMessage<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage<'a> {
    message_id: i32,
    date: i64,
    #[serde(borrow)]
    chat: RawChat<'a>,
    #[serde(borrow)]
    from: RawUser<'a>,
    #[serde(borrow)]
    text: Cow<'a, str>,
    #[serde(default, borrow)]
    entities: Vec<RawEntity<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChat<'a> {
    #[allow(dead_code)] // read for its type: teloxide needs an i64
    id: i64,
    #[serde(rename = "type")]
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[allow(dead_code)]
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser<'a> {
    id: u64,
    #[allow(dead_code)]
    is_bot: bool,
    #[allow(dead_code)]
    #[serde(borrow)]
    first_name: Cow<'a, str>,
    #[allow(dead_code)]
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    language_code: Option<Cow<'a, str>>,
    #[serde(default)]
    #[allow(dead_code)]
    is_premium: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity<'a> {
    #[serde(rename = "type")]
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[allow(dead_code)]
    offset: usize,
    #[allow(dead_code)]
    length: usize,
}
