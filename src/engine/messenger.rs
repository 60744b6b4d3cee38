//! Chatting like a messenger: replies, edits, reactions and unsend.
//!
//! Each of these points at a message: the one replied to, edited, reacted
//! to or unsent. The shell looks up, in the store's message links, the
//! other side of that message (its copy in the partner's chat, or the
//! original the user's copy came from) and hands it in as a [`Linked`].
//! The engine only decides whether it applies: the other side must be in
//! the current partner's chat (a chat that has ended is closed to edits,
//! replies and reactions), and only one's own messages can be unsent.

use super::{Engine, Presence};
use crate::domain::{MessageId, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Outbound, Outcome};
use crate::engine::event::{Change, Linked};
use crate::engine::media::Media;
use crate::i18n::Text;

impl Engine {
    /// A message that replies to another: relayed as a reply to the
    /// partner's side of it when there is one, as a plain copy otherwise.
    // The event's fields, unpacked as for a plain message.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reply(
        &self,
        user: UserId,
        message: MessageId,
        relayable: bool,
        link: Option<Linked>,
        media: Option<Media>,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let partner = match self.presence_of(user) {
            Presence::Chatting(partner) => Some(partner),
            _ => None,
        };
        let reply_to = link.filter(|l| Some(l.other.chat) == partner);
        let Some(reply_to) = reply_to.filter(|_| relayable) else {
            return self.message(user, message, relayable, media, now, out);
        };
        let _held = self.locks.one(user);
        if self.presence_of(user) != Presence::Chatting(reply_to.other.chat) {
            drop(_held);
            return self.message(user, message, relayable, media, now, out);
        }
        if !self.may_send(user, now, out) || self.refuse_for_partner(user, media, out) {
            return;
        }
        let relay = Outbound::RelayReply {
            from: user,
            to: reply_to.other.chat,
            message,
            reply_to: reply_to.other.message,
        };
        self.relay_counted(user, relay, now, out);
    }

    /// An edit reaches the copy in the current chat; edits of messages
    /// from an earlier chat, or never relayed, go nowhere.
    pub(super) fn edit(
        &self,
        user: UserId,
        message: MessageId,
        change: &Change,
        link: Option<Linked>,
        out: &mut Outcome,
    ) {
        let Some(copy) = self.in_this_chat(user, link).filter(|l| l.original) else {
            return;
        };
        out.sends.push(Outbound::EditCopy {
            to: copy.other.chat,
            copy: copy.other.message,
            original: Counterpart {
                chat: user,
                message,
            },
            change: change.clone(),
        });
    }

    /// A reaction is mirrored onto the other side in the current chat.
    pub(super) fn react(
        &self,
        user: UserId,
        reaction: &str,
        link: Option<Linked>,
        out: &mut Outcome,
    ) {
        let Some(other) = self.in_this_chat(user, link) else {
            return;
        };
        out.sends.push(Outbound::React {
            to: other.other.chat,
            message: other.other.message,
            reaction: reaction.to_owned(),
        });
    }

    /// /delete as a reply to one's own relayed message deletes the copy,
    /// even after the chat ended (unsend is about one's own words).
    pub(super) fn unsend(&self, user: UserId, link: Option<Linked>, out: &mut Outcome) {
        match link.filter(|l| l.original) {
            Some(own) => {
                out.sends.push(Outbound::Delete {
                    to: own.other.chat,
                    message: own.other.message,
                });
                out.tell(user, Text::Deleted);
            }
            None => out.tell(user, Text::DeleteHowTo),
        }
    }

    /// `link`, if its other side is in the chat `user` is in now.
    fn in_this_chat(&self, user: UserId, link: Option<Linked>) -> Option<Linked> {
        let _held = self.locks.one(user);
        let Presence::Chatting(partner) = self.presence_of(user) else {
            return None;
        };
        link.filter(|l| l.other.chat == partner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Command, Event};

    const NOW: Timestamp = Timestamp(1_700_000_000);

    fn paired() -> Engine {
        let engine = Engine::new();
        for user in [1, 2] {
            engine.handle(
                &Event::Command {
                    user: UserId(user),
                    command: Command::Chat,
                },
                NOW,
            );
        }
        engine
    }

    fn link(chat: i64, message: i32, original: bool) -> Option<Linked> {
        Some(Linked {
            other: Counterpart {
                chat: UserId(chat),
                message: MessageId(message),
            },
            original,
        })
    }

    #[test]
    fn a_reply_to_a_linked_message_replies_to_the_partners_side() {
        let engine = paired();
        let event = Event::Reply {
            user: UserId(1),
            message: MessageId(10),
            relayable: true,
            replied: MessageId(5),
            link: link(2, 50, false),
            media: None,
        };
        let out = engine.handle(&event, NOW);
        assert_eq!(
            out.sends,
            vec![Outbound::RelayReply {
                from: UserId(1),
                to: UserId(2),
                message: MessageId(10),
                reply_to: MessageId(50)
            }]
        );
        let stale = Event::Reply {
            user: UserId(1),
            message: MessageId(11),
            relayable: true,
            replied: MessageId(6),
            link: link(3, 60, true),
            media: None,
        };
        let out = engine.handle(&stale, NOW);
        assert!(
            matches!(
                out.sends[..],
                [Outbound::Relay {
                    message: MessageId(11),
                    ..
                }]
            ),
            "{out:?}"
        );
    }

    #[test]
    fn edits_and_reactions_reach_only_the_current_chat() {
        let engine = paired();
        let change = Change::Text {
            text: "fixed".into(),
            entities: "[]".into(),
        };
        let edit = Event::Edit {
            user: UserId(1),
            message: MessageId(10),
            change: change.clone(),
            link: link(2, 70, true),
        };
        assert_eq!(
            engine.handle(&edit, NOW).sends,
            vec![Outbound::EditCopy {
                to: UserId(2),
                copy: MessageId(70),
                original: Counterpart {
                    chat: UserId(1),
                    message: MessageId(10)
                },
                change: change.clone(),
            }]
        );
        let copy_of_partners = Event::Edit {
            user: UserId(1),
            message: MessageId(10),
            change,
            link: link(2, 70, false),
        };
        assert!(
            engine.handle(&copy_of_partners, NOW).sends.is_empty(),
            "one can only edit one's own"
        );
        let react = Event::React {
            user: UserId(2),
            message: MessageId(70),
            reaction: "[]".into(),
            link: link(1, 10, false),
        };
        assert_eq!(
            engine.handle(&react, NOW).sends,
            vec![Outbound::React {
                to: UserId(1),
                message: MessageId(10),
                reaction: "[]".into()
            }]
        );
        engine.handle(
            &Event::Command {
                user: UserId(2),
                command: Command::Stop,
            },
            NOW,
        );
        assert!(
            engine.handle(&react, NOW).sends.is_empty(),
            "the chat is over"
        );
    }

    #[test]
    fn delete_needs_a_reply_to_ones_own_message() {
        let engine = paired();
        let own = Event::Delete {
            user: UserId(1),
            replied: Some(MessageId(10)),
            link: link(2, 70, true),
        };
        let out = engine.handle(&own, NOW);
        assert_eq!(
            out.sends[0],
            Outbound::Delete {
                to: UserId(2),
                message: MessageId(70)
            }
        );
        assert_eq!(
            out.sends[1],
            Outbound::Tell {
                user: UserId(1),
                text: Text::Deleted
            }
        );
        let theirs = Event::Delete {
            user: UserId(1),
            replied: Some(MessageId(11)),
            link: link(2, 71, false),
        };
        assert_eq!(
            engine.handle(&theirs, NOW).sends,
            vec![Outbound::Tell {
                user: UserId(1),
                text: Text::DeleteHowTo
            }]
        );
        let bare = Event::Delete {
            user: UserId(1),
            replied: None,
            link: None,
        };
        assert_eq!(
            engine.handle(&bare, NOW).sends,
            vec![Outbound::Tell {
                user: UserId(1),
                text: Text::DeleteHowTo
            }]
        );
    }
}
