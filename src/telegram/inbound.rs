//! Telegram updates in, engine events out.
//!
//! This is the boundary where untrusted input is parsed. It never panics:
//! every update Telegram can send (including kinds teloxide doesn't know,
//! which arrive as `UpdateKind::Error`) becomes either an event or nothing.
//!
//! It is also where a sender's username is read, and only for the two
//! events that mean consent to share it (/link and an "agree" press); the
//! kind of a message that /media can refuse is classified here too.

use crate::domain::{ChatId, MessageId, UserId};
use crate::engine::event::{Change, EditableMedia};
use crate::engine::{Choice, Command, Contact, Event, Media};
use crate::i18n::Lang;
use teloxide::types::{
    CallbackQuery, ChatMemberStatus, MediaKind, Message, MessageEntityKind, MessageKind, Update,
    UpdateKind, User,
};

/// The event an update means, if it means anything to the engine.
pub fn classify(update: &Update, bot_username: &str) -> Option<Event> {
    match &update.kind {
        UpdateKind::Message(message) => classify_message(message, bot_username),
        UpdateKind::EditedMessage(message) if message.chat.is_private() => edit(message),
        UpdateKind::MessageReaction(reaction) if reaction.chat.is_private() => Some(Event::React {
            user: UserId(reaction.chat.id.0),
            message: MessageId(reaction.message_id.0),
            reaction: serde_json::to_string(&reaction.new_reaction).unwrap_or_else(|_| "[]".into()),
            link: None,
        }),
        UpdateKind::ChannelPost(post) => Some(Event::NotPrivate {
            chat: ChatId(post.chat.id.0),
        }),
        UpdateKind::MyChatMember(change) if !change.chat.is_private() => {
            let joined = matches!(
                change.new_chat_member.status(),
                ChatMemberStatus::Member
                    | ChatMemberStatus::Administrator
                    | ChatMemberStatus::Owner
            );
            joined.then_some(Event::NotPrivate {
                chat: ChatId(change.chat.id.0),
            })
        }
        UpdateKind::CallbackQuery(query) => classify_callback(query),
        // Edits, reactions, member changes in private chats and future kinds
        // carry nothing the engine acts on yet.
        _ => None,
    }
}

/// The text or caption of a message in a private chat, with what
/// Telegram's own entities say about it, for the anti-spam rules
/// ([`super::screen`]). Never logged.
pub struct Written {
    pub text: String,
    /// Telegram marked a link (a URL, a text link or an e-mail address).
    pub link_entity: bool,
    /// Telegram marked a mention (`@name`, or a user linked by name).
    pub mention_entity: bool,
}

/// The text or caption of a private message update (new or edited), if it
/// has one.
pub fn written(update: &Update) -> Option<Written> {
    use teloxide::types::MessageEntityKind as Kind;
    let (UpdateKind::Message(message) | UpdateKind::EditedMessage(message)) = &update.kind else {
        return None;
    };
    if !message.chat.is_private() {
        return None;
    }
    let (text, entities) = match message.text() {
        Some(text) => (text, message.entities()),
        None => (message.caption()?, message.caption_entities()),
    };
    let entities = entities.unwrap_or_default();
    let any = |wanted: fn(&Kind) -> bool| entities.iter().any(|e| wanted(&e.kind));
    Some(Written {
        text: text.to_owned(),
        link_entity: any(|k| matches!(k, Kind::Url | Kind::TextLink { .. } | Kind::Email)),
        mention_entity: any(|k| matches!(k, Kind::Mention | Kind::TextMention { .. })),
    })
}

/// The language a private message's or button press's sender speaks, as
/// an event to run before the update's own, if the bot speaks it.
pub fn spoken_language(update: &Update) -> Option<Event> {
    let from = match &update.kind {
        UpdateKind::Message(message) if message.chat.is_private() => message.from.as_ref()?,
        UpdateKind::CallbackQuery(query)
            if query
                .message
                .as_ref()
                .is_some_and(|m| m.chat().is_private()) =>
        {
            &query.from
        }
        _ => return None,
    };
    let lang = Lang::from_code(from.language_code.as_deref()?)?;
    Some(Event::Speaks {
        user: UserId(from.id.0 as i64),
        lang,
    })
}

/// How `user` can be found: read only when they consent to share it.
fn contact_of(user: &User) -> Contact {
    Contact::from_username(user.username.as_deref())
}

/// A button press under one of our messages in a private chat. Presses in
/// inline mode or under a group message are not ours to act on. The data
/// of /language, /link and /media buttons is parsed here; any other is
/// passed on as it is (the engine treats it as untrusted).
fn classify_callback(query: &CallbackQuery) -> Option<Event> {
    let message = query.message.as_ref()?;
    if !message.chat().is_private() {
        return None;
    }
    let user = UserId(query.from.id.0 as i64);
    let data = query.data.clone().unwrap_or_default();
    if data.starts_with(crate::engine::settings::PREFIX) {
        // The settings menu is edited in place, so its presses carry it.
        return Some(Event::MenuCallback {
            user,
            query_id: query.id.0.clone(),
            data,
            message: MessageId(message.id().0),
        });
    }
    if data.starts_with(crate::engine::reports::CALLBACK_PREFIX) {
        return Some(Event::ReportButton {
            user,
            query_id: query.id.0.clone(),
            card: Some(MessageId(message.id().0)),
            data,
        });
    }
    Some(match Choice::parse(&data, || contact_of(&query.from)) {
        Some(choice) => Event::Choose {
            user,
            query_id: query.id.0.clone(),
            message: MessageId(message.id().0),
            choice,
        },
        None => Event::Callback {
            user,
            query_id: query.id.0.clone(),
            data,
        },
    })
}

fn classify_message(message: &Message, bot_username: &str) -> Option<Event> {
    if !message.chat.is_private() {
        return is_worth_leaving(message).then_some(Event::NotPrivate {
            chat: ChatId(message.chat.id.0),
        });
    }
    let from = message.from.as_ref()?;
    let user = UserId(from.id.0 as i64);
    let replied = message.reply_to_message().map(|r| MessageId(r.id.0));
    match message
        .text()
        .and_then(|text| Command::parse(text, bot_username))
    {
        Some(Command::Delete) => {
            return Some(Event::Delete {
                user,
                replied,
                link: None,
            })
        }
        Some(Command::Link) => {
            return Some(Event::Share {
                user,
                contact: contact_of(from),
            })
        }
        Some(command) => return Some(Event::Command { user, command }),
        None => {}
    }
    let relayable = match relay_kind(&message.kind)? {
        Relay::Copy => true,
        Relay::Refuse => false,
    };
    let group = message.media_group_id().map(|g| g.0.clone());
    let message_text = message.text();
    let media = media_of(message);
    let message = MessageId(message.id.0);
    if let Some(group) = group.filter(|_| relayable) {
        return Some(Event::AlbumPart {
            user,
            message,
            group,
            media,
        });
    }
    Some(match replied {
        Some(replied) => Event::Reply {
            user,
            message,
            relayable,
            replied,
            link: None,
            media,
        },
        None => match short_text(message_text) {
            Some(text) => Event::ShortText {
                user,
                message,
                text,
                media,
            },
            None => Event::Message {
                user,
                message,
                relayable,
                media,
            },
        },
    })
}

/// A plain text short enough to be an answer to the bot's question.
fn short_text(text: Option<&str>) -> Option<String> {
    let text = text?;
    (text.len() <= crate::engine::event::SHORT_TEXT_BYTES).then(|| text.to_owned())
}

/// The kind of `message` a partner may refuse (/media). A media kind wins
/// over a link in its caption.
fn media_of(message: &Message) -> Option<Media> {
    let MessageKind::Common(common) = &message.kind else {
        return None;
    };
    let media = match common.media_kind {
        MediaKind::Photo(_) => Some(Media::Photos),
        MediaKind::Video(_) => Some(Media::Videos),
        MediaKind::Voice(_) | MediaKind::VideoNote(_) => Some(Media::Voice),
        MediaKind::Sticker(_) | MediaKind::Animation(_) => Some(Media::Stickers),
        MediaKind::Document(_) | MediaKind::Audio(_) => Some(Media::Documents),
        _ => None,
    };
    media.or_else(|| has_link(message).then_some(Media::Links))
}

/// Whether a text or caption carries a URL or a text link.
fn has_link(message: &Message) -> bool {
    let entities = message.entities().or(message.caption_entities());
    entities.unwrap_or_default().iter().any(|entity| {
        matches!(
            entity.kind,
            MessageEntityKind::Url | MessageEntityKind::TextLink { .. }
        )
    })
}

/// The kind and file id of media that editMessageMedia can apply. A GIF
/// carries `animation` and `document` both: it is an animation.
fn editable_media(message: &Message) -> Option<(EditableMedia, String)> {
    let id = |meta: &teloxide::types::FileMeta| meta.id.0.clone();
    if let Some(sizes) = message.photo() {
        return Some((EditableMedia::Photo, id(&sizes.last()?.file)));
    }
    if let Some(video) = message.video() {
        return Some((EditableMedia::Video, id(&video.file)));
    }
    if let Some(animation) = message.animation() {
        return Some((EditableMedia::Animation, id(&animation.file)));
    }
    if let Some(document) = message.document() {
        return Some((EditableMedia::Document, id(&document.file)));
    }
    let audio = message.audio()?;
    Some((EditableMedia::Audio, id(&audio.file)))
}

/// An edited message: its new text or caption, with formatting, or a
/// change to the media itself.
fn edit(message: &Message) -> Option<Event> {
    let user = UserId(message.from.as_ref()?.id.0 as i64);
    let json = |entities: Option<&[teloxide::types::MessageEntity]>| {
        serde_json::to_string(entities.unwrap_or_default()).unwrap_or_else(|_| "[]".into())
    };
    let change = if let Some(text) = message.text() {
        Change::Text {
            text: text.to_owned(),
            entities: json(message.entities()),
        }
    } else if let Some((kind, file)) = editable_media(message) {
        Change::NewMedia {
            kind,
            file,
            caption: message.caption().unwrap_or_default().to_owned(),
            entities: json(message.caption_entities()),
        }
    } else if let Some(caption) = message.caption() {
        Change::Caption {
            caption: caption.to_owned(),
            entities: json(message.caption_entities()),
        }
    } else {
        Change::Media
    };
    Some(Event::Edit {
        user,
        message: MessageId(message.id.0),
        change,
        link: None,
    })
}

/// In a group, answer anything except the echo of our own departure.
fn is_worth_leaving(message: &Message) -> bool {
    !matches!(message.kind, MessageKind::LeftChatMember(_))
}

enum Relay {
    Copy,
    Refuse,
}

/// Whether copyMessage can carry a message. `None` means a service message
/// that needs no answer at all.
fn relay_kind(kind: &MessageKind) -> Option<Relay> {
    match kind {
        MessageKind::Common(common) => Some(match common.media_kind {
            MediaKind::Text(_)
            | MediaKind::Photo(_)
            | MediaKind::Video(_)
            | MediaKind::Animation(_)
            | MediaKind::Sticker(_)
            | MediaKind::Voice(_)
            | MediaKind::VideoNote(_)
            | MediaKind::Audio(_)
            | MediaKind::Document(_)
            | MediaKind::Location(_)
            | MediaKind::Venue(_)
            | MediaKind::Contact(_)
            | MediaKind::Poll(_)
            | MediaKind::Story(_) => Relay::Copy,
            // Paid media, games and checklists can't be copied by a bot.
            _ => Relay::Refuse,
        }),
        MessageKind::Dice(_) => Some(Relay::Copy),
        MessageKind::MessageAutoDeleteTimerChanged(_)
        | MessageKind::Pinned(_)
        | MessageKind::WriteAccessAllowed(_)
        | MessageKind::ChatBackground(_)
        | MessageKind::ProximityAlertTriggered(_)
        | MessageKind::ChatBoostAdded(_)
        | MessageKind::NewChatMembers(_)
        | MessageKind::LeftChatMember(_)
        | MessageKind::NewChatTitle(_)
        | MessageKind::NewChatPhoto(_)
        | MessageKind::DeleteChatPhoto(_)
        | MessageKind::PaidMessagePriceChanged(_)
        | MessageKind::DirectMessagePriceChanged(_) => None,
        // Invoices, payments, giveaways, gifts, shared users and chats, web
        // app data and the rest: something a user sent that can't be copied.
        _ => Some(Relay::Refuse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Parses as the bot does: from text. (teloxide's `Update` does not
    /// deserialize from a `serde_json::Value`: every kind becomes `Error`.)
    fn parse(update: &Value) -> Update {
        match serde_json::from_str(&update.to_string()) {
            Ok(parsed) => parsed,
            Err(error) => panic!("teloxide refused {update}: {error}"),
        }
    }

    /// Every kind of update the Bot API sends, and some it never should.
    fn corpus() -> Vec<Value> {
        let text = include_str!("../../tests/corpus/updates.json");
        let mut updates: Vec<Value> = serde_json::from_str(text).expect("the corpus is JSON");
        updates.push(serde_json::json!({"message": {
            "message_id": 99, "date": 1, "text": "x".repeat(100_000),
            "chat": {"id": 4242, "type": "private", "first_name": "F"},
            "from": {"id": 4242, "is_bot": false, "first_name": "F"}
        }}));
        for (i, update) in updates.iter_mut().enumerate() {
            update["update_id"] = Value::from(1000 + i as i64);
        }
        updates
    }

    #[test]
    fn every_update_in_the_corpus_parses_and_classifies_without_panicking() {
        for update in corpus() {
            let _ = classify(&parse(&update), "randchat_test_bot");
        }
    }

    #[test]
    fn a_batch_with_odd_updates_still_parses_as_a_whole() {
        let batch: Result<Vec<Update>, _> =
            serde_json::from_str(&Value::Array(corpus()).to_string());
        assert!(batch.is_ok(), "{:?}", batch.err());
    }

    fn event_for(update: Value) -> Option<Event> {
        let mut update = update;
        update["update_id"] = Value::from(1);
        classify(&parse(&update), "randchat_test_bot")
    }

    fn by_message_id(id: i64) -> Value {
        let corpus: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/corpus/updates.json")).unwrap();
        corpus
            .into_iter()
            .find(|u| u["message"]["message_id"] == id || u["channel_post"]["message_id"] == id)
            .expect("in the corpus")
    }

    #[test]
    fn the_corpus_means_what_it_should() {
        let me = UserId(4242);
        let message = |id: i32, relayable| {
            Some(Event::Message {
                user: me,
                message: MessageId(id),
                relayable,
                media: None,
            })
        };
        // A short plain text carries its words, in case it answers a question.
        assert_eq!(
            event_for(by_message_id(1)),
            Some(Event::ShortText {
                user: me,
                message: MessageId(1),
                text: "plain text".into(),
                media: None,
            })
        );
        assert_eq!(
            event_for(by_message_id(3)),
            Some(Event::Command {
                user: me,
                command: Command::Unknown
            })
        );
        assert_eq!(
            event_for(by_message_id(6)),
            Some(Event::Command {
                user: me,
                command: Command::Start
            })
        );
        assert_eq!(
            event_for(by_message_id(7)),
            Some(Event::NotPrivate {
                chat: ChatId(-1001234)
            })
        );
        assert_eq!(
            event_for(by_message_id(8)),
            Some(Event::NotPrivate {
                chat: ChatId(-4321)
            })
        );
        assert_eq!(
            event_for(by_message_id(9)),
            None,
            "our own departure needs no answer"
        );
        assert_eq!(
            event_for(by_message_id(10)),
            None,
            "a pin is a service message"
        );
        assert_eq!(
            event_for(by_message_id(11)),
            message(11, false),
            "games can't be copied"
        );
        assert_eq!(
            event_for(by_message_id(12)),
            message(12, false),
            "invoices can't be copied"
        );
        assert_eq!(
            event_for(by_message_id(15)),
            message(15, true),
            "dice are copied"
        );
        assert_eq!(
            event_for(by_message_id(17)),
            None,
            "no sender, nobody to answer"
        );
        assert_eq!(
            event_for(by_message_id(19)),
            Some(Event::NotPrivate {
                chat: ChatId(-1009999)
            })
        );
    }

    #[test]
    fn written_reads_text_or_caption_and_telegrams_own_marks() {
        let update = |message: Value| {
            let mut message = message;
            message["message_id"] = Value::from(5);
            message["date"] = Value::from(1);
            message["chat"] = serde_json::json!({"id": 42, "type": "private", "first_name": "F"});
            message["from"] = serde_json::json!({"id": 42, "is_bot": false, "first_name": "F"});
            parse(&serde_json::json!({"update_id": 1, "message": message}))
        };
        let text = update(serde_json::json!({"text": "see example.org and @someone",
            "entities": [{"type": "url", "offset": 4, "length": 11},
                         {"type": "mention", "offset": 20, "length": 8}]}));
        let written = written(&text).expect("a text");
        assert_eq!(written.text, "see example.org and @someone");
        assert!(written.link_entity && written.mention_entity);
        let photo = update(serde_json::json!({"caption": "plain",
            "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}));
        let written = super::written(&photo).expect("a caption");
        assert_eq!(written.text, "plain");
        assert!(!written.link_entity && !written.mention_entity);
        let sticker = update(serde_json::json!({"dice": {"emoji": "🎲", "value": 3}}));
        assert!(super::written(&sticker).is_none());
    }
}

#[cfg(test)]
#[path = "inbound_choice_tests.rs"]
mod choice_tests;
