//! A lean parser for the updates the relay path lives on: a new message in
//! a private chat that is a plain text or one of the common media (photo,
//! video, animation, document, audio, voice, video note, sticker), with an
//! optional caption.
//!
//! Why: teloxide's `Message` is built from flattened, untagged enums, so
//! serde buffers every update into intermediate values and tries variant
//! after variant, building and dropping a dozen errors on the way. That was
//! about a quarter of the bot's instructions per relayed message. Texts
//! and these media are almost all of what users send, and their shapes are
//! small and fixed.
//!
//! The rule that keeps this safe: the lean parser accepts an update only if
//! it has exactly one of these shapes (every field known, every value of
//! the type teloxide expects, no extra field anywhere: [`shape`],
//! [`media`]). Anything else, including anything odd or malformed, is left
//! to teloxide's full parse ([`super::incoming`]), so the lean path never
//! decides something teloxide would have decided differently. A
//! differential test over the update corpus checks that both paths give
//! the same events (`tests/lean_updates.rs`).

mod media;
mod shape;

use super::inbound::Written;
use crate::domain::{MessageId, UserId};
use crate::engine::{Command, Contact, Event, Media};
use crate::i18n::Lang;
use shape::{RawEntity, RawUpdate};
use std::borrow::Cow;

/// A plain text or media message in a private chat, as the engine needs
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeanMessage {
    pub update_id: i64,
    pub message: MessageId,
    /// Unix seconds.
    pub date: i64,
    /// The sender (and, in a private chat, the chat).
    pub user: UserId,
    pub username: Option<String>,
    /// The sender's language, if the bot speaks it.
    pub lang: Option<Lang>,
    pub body: Body,
    /// What the text's or caption's entities say.
    marks: Marks,
}

/// What the message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Text(String),
    /// A media kind that /media can refuse, and its caption if any.
    Media {
        kind: Media,
        caption: Option<String>,
    },
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

impl Marks {
    /// What `entities` say; `None` if one is of a kind the lean path
    /// leaves to teloxide.
    fn of(entities: &[RawEntity]) -> Option<Marks> {
        let mut marks = Marks::default();
        for entity in entities {
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
        Some(marks)
    }
}

/// Dates teloxide converts without complaint (up to the year 9999).
const LATEST_DATE: i64 = 253_402_300_799;

impl LeanMessage {
    /// The update in `json`, if it is exactly a plain private text or
    /// media message.
    pub fn parse(json: &str) -> Option<LeanMessage> {
        // Not a private message at all: don't build a parse error.
        if !json.contains("\"private\"") {
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
        let media = media::kind(&m).ok()?;
        let (body, entities) = match (m.text, media) {
            (Some(text), None) if m.caption.is_none() && m.caption_entities.is_empty() => {
                (Body::Text(text.into_owned()), m.entities)
            }
            (None, Some((kind, may_have_caption))) if m.entities.is_empty() => {
                if m.caption.is_none() && !m.caption_entities.is_empty()
                    || m.caption.is_some() && !may_have_caption
                {
                    return None;
                }
                let caption = m.caption.map(Cow::into_owned);
                (Body::Media { kind, caption }, m.caption_entities)
            }
            _ => return None,
        };
        Some(LeanMessage {
            update_id: i64::from(update_id),
            message: MessageId(m.message_id),
            date: m.date,
            user: UserId(m.from.id as i64),
            username: m.from.username.map(Cow::into_owned),
            lang: m.from.language_code.as_deref().and_then(Lang::from_code),
            body,
            marks: Marks::of(&entities)?,
        })
    }

    /// The event it means (as `inbound::classify` would say).
    pub fn classify(&self, bot_username: &str) -> Option<Event> {
        let user = self.user;
        let text = match &self.body {
            Body::Text(text) => text,
            Body::Media { kind, .. } => {
                return Some(Event::Message {
                    user,
                    message: self.message,
                    relayable: true,
                    media: Some(*kind),
                })
            }
        };
        match Command::parse(text, bot_username) {
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
        if text.len() <= crate::engine::event::SHORT_TEXT_BYTES {
            return Some(Event::ShortText {
                user,
                message: self.message,
                text: text.clone(),
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

    /// The text or caption for the anti-spam rules, as `inbound::written`
    /// would say.
    pub fn written(&self) -> Option<Written> {
        let text = match &self.body {
            Body::Text(text) => text,
            Body::Media { caption, .. } => caption.as_ref()?,
        };
        Some(Written {
            text: text.clone(),
            link_entity: self.marks.url || self.marks.email,
            mention_entity: self.marks.mention,
        })
    }
}

/// Entity kinds that carry nothing but offset and length.
/// (`url`, `email` and `mention` too; [`Marks::of`] notes those.)
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
