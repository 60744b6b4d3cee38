//! Albums: photos and videos sent together arrive together.
//!
//! Telegram delivers an album as separate messages sharing a
//! `media_group_id`. Relaying them one by one turns an album into loose
//! photos, so the parts are held for [`EngineConfig::album_wait`] (counted
//! from the first part, in whole seconds, checked on each tick) and then
//! relayed in order with one copyMessages call. The buffer is recorded in
//! the store with every part, so a restart flushes it rather than losing it.
//!
//! [`EngineConfig::album_wait`]: super::EngineConfig

use super::deadlines::{Due, When};
use super::{Engine, Presence};
use crate::domain::{MessageId, Timestamp, UserId};
use crate::engine::effect::{Counter, Outbound, Outcome, Record};
use crate::engine::media::Media;
use crate::i18n::Text;

/// The parts of one user's album received so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Album {
    pub(super) group: String,
    pub(super) parts: Vec<MessageId>,
    /// When the first part arrived.
    pub(super) since: Timestamp,
    /// Whether the sender was told that a part's kind is refused by the
    /// partner (/media): once per album, not once per part.
    pub(super) told_refused: bool,
}

impl Engine {
    /// One part of an album from `user`.
    pub(super) fn album_part(
        &self,
        user: UserId,
        message: MessageId,
        group: &str,
        media: Option<Media>,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let _held = self.locks.one(user);
        let same_album = self
            .albums
            .get(&user)
            .is_some_and(|album| album.group == group);
        if !same_album {
            self.flush_album(user, now, out);
        }
        let chatting = matches!(self.presence_of(user), Presence::Chatting(_));
        if !chatting {
            // One answer per album, not one per photo.
            if !same_album {
                self.open_album(user, group, now, out);
                out.tell(user, self.not_chatting_text(user));
            }
            return;
        }
        if !self.may_send(user, now, out) {
            return;
        }
        if !same_album {
            self.open_album(user, group, now, out);
        }
        if let Presence::Chatting(partner) = self.presence_of(user) {
            if let Some(refused) = self.refused_by(partner, media) {
                let first = self
                    .albums
                    .get_mut(&user)
                    .is_some_and(|mut album| !std::mem::replace(&mut album.told_refused, true));
                if first {
                    self.tell_refused(user, refused, out);
                }
                return;
            }
        }
        if let Some(mut album) = self.albums.get_mut(&user) {
            album.parts.push(message);
            out.record(Record::Album {
                user,
                group: album.group.clone(),
                parts: album.parts.clone(),
                since: album.since,
            });
        }
    }

    fn open_album(&self, user: UserId, group: &str, now: Timestamp, _out: &mut Outcome) {
        let album = Album {
            group: group.to_owned(),
            parts: Vec::new(),
            since: now,
            told_refused: false,
        };
        self.albums.insert(user, album);
        let due = Timestamp(now.0.saturating_add(self.config.album_wait_secs()));
        self.deadlines.push(When::At(due), Due::Album { user });
    }

    fn not_chatting_text(&self, user: UserId) -> Text {
        match self.presence_of(user) {
            Presence::Searching(_) => Text::StillSearching,
            _ => Text::NotInChat,
        }
    }

    /// An album's time is up (or another began): relay what was gathered,
    /// in order, if the user is still in a chat. The caller holds `user`'s
    /// stripe.
    pub(super) fn flush_album(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let Some((_, album)) = self.albums.remove(&user) else {
            return;
        };
        if !album.parts.is_empty() {
            out.record(Record::AlbumDone { user });
        }
        let Presence::Chatting(partner) = self.presence_of(user) else {
            return;
        };
        if album.parts.is_empty() {
            return;
        }
        self.note_activity(user, now);
        out.record(Record::Count {
            counter: Counter::Relayed,
            delta: album.parts.len() as u64,
        });
        out.sends.push(Outbound::RelayAlbum {
            from: user,
            to: partner,
            messages: album.parts,
        });
    }

    /// A tick found `user`'s album due.
    pub(super) fn album_due(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let _held = self.locks.one(user);
        let Some(since) = self.albums.get(&user).map(|album| album.since) else {
            return;
        };
        let due = Timestamp(since.0.saturating_add(self.config.album_wait_secs()));
        if due > now {
            return self.deadlines.push(When::At(due), Due::Album { user });
        }
        self.flush_album(user, now, out);
    }

    /// Restores a buffered album; the first tick after the restore sends it.
    pub(super) fn restore_album(
        &self,
        user: UserId,
        group: String,
        parts: Vec<MessageId>,
        since: Timestamp,
    ) {
        self.albums.insert(
            user,
            Album {
                group,
                parts,
                since,
                told_refused: false,
            },
        );
        self.deadlines.push(When::Unset, Due::Album { user });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Command, EngineConfig, Event};

    const T: u64 = 1_700_000_000;

    fn part(engine: &Engine, user: i64, message: i32, group: &str, at: u64) -> Outcome {
        let event = Event::AlbumPart {
            user: UserId(user),
            message: MessageId(message),
            group: group.into(),
            media: Some(crate::engine::Media::Photos),
        };
        engine.handle(&event, Timestamp(at))
    }

    fn paired() -> Engine {
        let engine = Engine::with_config(EngineConfig::default());
        for user in [1, 2] {
            engine.handle(
                &Event::Command {
                    user: UserId(user),
                    command: Command::Chat,
                },
                Timestamp(T),
            );
        }
        engine
    }

    #[test]
    fn parts_are_held_then_relayed_together_in_order() {
        let engine = paired();
        for (message, at) in [(10, T), (11, T), (12, T + 1)] {
            assert!(part(&engine, 1, message, "g1", at).sends.is_empty());
        }
        assert!(engine
            .handle(&Event::Tick, Timestamp(T + 1))
            .sends
            .is_empty());
        let out = engine.handle(&Event::Tick, Timestamp(T + 2));
        assert_eq!(
            out.sends,
            vec![Outbound::RelayAlbum {
                from: UserId(1),
                to: UserId(2),
                messages: vec![MessageId(10), MessageId(11), MessageId(12)],
            }]
        );
        assert!(out.records.contains(&Record::AlbumDone { user: UserId(1) }));
        assert!(engine
            .handle(&Event::Tick, Timestamp(T + 10))
            .sends
            .is_empty());
    }

    #[test]
    fn a_new_album_sends_the_previous_one_first() {
        let engine = paired();
        part(&engine, 1, 10, "g1", T);
        let out = part(&engine, 1, 20, "g2", T);
        assert_eq!(
            out.sends,
            vec![Outbound::RelayAlbum {
                from: UserId(1),
                to: UserId(2),
                messages: vec![MessageId(10)]
            }]
        );
    }

    #[test]
    fn outside_a_chat_an_album_gets_one_answer() {
        let engine = Engine::new();
        let told: Vec<_> = (0..3)
            .flat_map(|i| part(&engine, 5, 30 + i, "g", T).sends)
            .collect();
        assert_eq!(
            told,
            vec![Outbound::Tell {
                user: UserId(5),
                text: Text::NotInChat
            }]
        );
        assert!(engine
            .handle(&Event::Tick, Timestamp(T + 5))
            .sends
            .is_empty());
    }

    #[test]
    fn a_restored_album_goes_out_on_the_first_tick() {
        let engine = paired();
        engine.restore_album(
            UserId(1),
            "g".into(),
            vec![MessageId(7), MessageId(8)],
            Timestamp(T - 100),
        );
        let out = engine.handle(&Event::Tick, Timestamp(T));
        assert!(
            matches!(&out.sends[..], [Outbound::RelayAlbum { messages, .. }] if messages.len() == 2)
        );
    }
}
