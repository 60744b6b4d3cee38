//! Media choices (/media): kinds of message a user refuses to receive.
//!
//! A user may not want photos, videos, voice and video messages, stickers
//! and GIFs, documents, or links from strangers. The choice is a bit set in
//! [`Profile::refused_media`](super::Profile), so it costs nothing for the
//! many who never choose. The shell classifies each message once (the
//! [`Media`] on a message event); the engine checks the *recipient's*
//! choice before relaying, and when it refuses, nothing is relayed and the
//! sender is told which kind their partner doesn't accept. The sender is
//! not told anything else about the partner.
//!
//! Edits are not re-checked: an edit that adds a link to a relayed text
//! reaches the copy. Telegram can't turn a text into a photo by editing,
//! so only links can slip through that way.

use super::{Engine, Presence};
use crate::domain::{MessageId, UserId};
use crate::engine::effect::{Outbound, Outcome};
use crate::i18n::{Arg, Text};

/// A kind of message a user can refuse. The bit positions are stored in
/// profiles: never renumber them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Media {
    Photos,
    Videos,
    /// Voice messages and round video notes.
    Voice,
    /// Stickers and GIFs (animations).
    Stickers,
    /// Files sent as documents, and music (audio files).
    Documents,
    /// Texts or captions with a URL or a text link.
    Links,
}

impl Media {
    pub const ALL: [Media; 6] = [
        Media::Photos,
        Media::Videos,
        Media::Voice,
        Media::Stickers,
        Media::Documents,
        Media::Links,
    ];

    /// This kind's bit in [`Profile::refused_media`](super::Profile).
    pub fn bit(self) -> u16 {
        1 << match self {
            Media::Photos => 0,
            Media::Videos => 1,
            Media::Voice => 2,
            Media::Stickers => 3,
            Media::Documents => 4,
            Media::Links => 5,
        }
    }

    /// The kind's name in the catalog ("photos"), for the toggle and for
    /// "your partner doesn't accept …".
    pub fn label(self) -> Text {
        match self {
            Media::Photos => Text::MediaPhotos,
            Media::Videos => Text::MediaVideos,
            Media::Voice => Text::MediaVoice,
            Media::Stickers => Text::MediaStickers,
            Media::Documents => Text::MediaDocuments,
            Media::Links => Text::MediaLinks,
        }
    }

    /// The code in the toggle's callback data (`media:photos`).
    pub fn code(self) -> &'static str {
        match self {
            Media::Photos => "photos",
            Media::Videos => "videos",
            Media::Voice => "voice",
            Media::Stickers => "stickers",
            Media::Documents => "documents",
            Media::Links => "links",
        }
    }

    pub fn from_code(code: &str) -> Option<Media> {
        Self::ALL.into_iter().find(|media| media.code() == code)
    }

    /// Whether the bit set `refused` contains this kind.
    pub fn is_in(self, refused: u16) -> bool {
        refused & self.bit() != 0
    }
}

impl Engine {
    /// The kind `partner` refuses, if `media` is one of them.
    pub(super) fn refused_by(&self, partner: UserId, media: Option<Media>) -> Option<Media> {
        let media = media?;
        let refused = self.profiles.get(&partner)?.refused_media;
        media.is_in(refused).then_some(media)
    }

    /// Tells `user` that their partner doesn't accept `media`.
    pub(super) fn tell_refused(&self, user: UserId, media: Media, out: &mut Outcome) {
        out.tell_with(user, Text::MediaRefused, vec![Arg::Text(media.label())]);
    }

    /// Whether `user`'s message of kind `media` must not reach their
    /// partner; if so, `user` has been told.
    pub(super) fn refuse_for_partner(
        &self,
        user: UserId,
        media: Option<Media>,
        out: &mut Outcome,
    ) -> bool {
        let Presence::Chatting(partner) = self.presence_of(user) else {
            return false;
        };
        match self.refused_by(partner, media) {
            Some(media) => {
                self.tell_refused(user, media, out);
                true
            }
            None => false,
        }
    }

    /// /media: the toggles as they stand.
    pub(super) fn show_media(&self, user: UserId, out: &mut Outcome) {
        let refused = self.profile(user).refused_media;
        out.sends.push(Outbound::ShowMedia {
            user,
            refused,
            edit: None,
        });
    }

    /// A toggle was pressed: flip the kind, save, and redraw the keyboard.
    pub(super) fn toggle_media(
        &self,
        user: UserId,
        query_id: &str,
        message: MessageId,
        media: Media,
        out: &mut Outcome,
    ) {
        let refused = self.update_profile(user, out, |p| {
            p.refused_media ^= media.bit();
            p.refused_media
        });
        out.sends.push(Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text: Some(Text::MediaSaved),
        });
        out.sends.push(Outbound::ShowMedia {
            user,
            refused,
            edit: Some(message),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_codes_round_trip() {
        let mut all = 0u16;
        for media in Media::ALL {
            assert_eq!(all & media.bit(), 0, "{media:?} shares a bit");
            all |= media.bit();
            assert_eq!(Media::from_code(media.code()), Some(media));
        }
        assert_eq!(Media::from_code("gifs"), None);
    }
}
