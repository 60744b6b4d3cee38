//! Telegram updates in, engine events out.
//!
//! This is the boundary where untrusted input is parsed. It never panics:
//! every update Telegram can send (including kinds teloxide doesn't know,
//! which arrive as `UpdateKind::Error`) becomes either an event or nothing.

use crate::domain::{ChatId, MessageId, UserId};
use crate::engine::{Command, Event};
use teloxide::types::{ChatMemberStatus, MediaKind, Message, MessageKind, Update, UpdateKind};

/// The event an update means, if it means anything to the engine.
pub fn classify(update: &Update, bot_username: &str) -> Option<Event> {
    match &update.kind {
        UpdateKind::Message(message) => classify_message(message, bot_username),
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
        // Edits, reactions, callbacks, member changes in private chats and
        // future kinds carry nothing the engine acts on yet.
        _ => None,
    }
}

fn classify_message(message: &Message, bot_username: &str) -> Option<Event> {
    if !message.chat.is_private() {
        return is_worth_leaving(message).then_some(Event::NotPrivate {
            chat: ChatId(message.chat.id.0),
        });
    }
    let user = UserId(message.from.as_ref()?.id.0 as i64);
    if let Some(text) = message.text() {
        if let Some(command) = Command::parse(text, bot_username) {
            return Some(Event::Command { user, command });
        }
    }
    let relayable = match relay_kind(&message.kind)? {
        Relay::Copy => true,
        Relay::Refuse => false,
    };
    Some(Event::Message {
        user,
        message: MessageId(message.id.0),
        relayable,
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
