//! The media kinds a lean message may carry, in the exact shapes teloxide
//! reads them.
//!
//! Why: after plain texts, photos, stickers, voice notes and the other
//! common media were the costliest updates to parse (teloxide tries its
//! untagged media variants one after another, buffering the message and
//! building an error for each miss). Each shape below lists every field
//! teloxide knows for that kind, with teloxide's own types (u32 sizes and
//! durations, u16 sticker sides, MIME types that parse), and refuses any
//! other field: a value teloxide would read differently, or a field it
//! would act on that we don't model (covers, masks, premium animations),
//! sends the update back to teloxide's full parse.

use super::shape::RawMessage;
use crate::engine::Media;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;

/// The kind of media `m` carries, as `inbound::media_of` would say, with
/// whether that kind may have a caption; `Ok(None)` if it carries none,
/// `Err` if its fields make no single kind the lean path knows. At most
/// one media field may be present (an animation also carries its
/// `document`, as Telegram sends it).
pub(super) fn kind(m: &RawMessage) -> Result<Option<(Media, bool)>, ()> {
    let present = [
        (m.photo.is_some(), Media::Photos, true),
        (m.video.is_some(), Media::Videos, true),
        (m.animation.is_some(), Media::Stickers, true),
        // A GIF carries `document` too: it is an animation.
        (
            m.document.is_some() && m.animation.is_none(),
            Media::Documents,
            true,
        ),
        (m.audio.is_some(), Media::Documents, true),
        (m.voice.is_some(), Media::Voice, true),
        (m.video_note.is_some(), Media::Voice, false),
        (m.sticker.is_some(), Media::Stickers, false),
    ];
    let mut found = present.into_iter().filter(|(is, _, _)| *is);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((_, media, caption)), None) => {
            if m.sticker.as_ref().is_some_and(|s| s.kind != "regular") {
                return Err(());
            }
            Ok(Some((media, caption)))
        }
        (Some(_), Some(_)) => Err(()),
    }
}

// Fields are read for their types only.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawPhotoSize<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    width: u32,
    height: u32,
}

/// A video or an animation (the same fields, bar a video's cover).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawClip<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    width: u32,
    height: u32,
    duration: u32,
    #[serde(borrow)]
    thumbnail: Option<RawPhotoSize<'a>>,
    #[serde(borrow)]
    file_name: Option<Cow<'a, str>>,
    mime_type: KnownMime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawDocument<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    #[serde(borrow)]
    thumbnail: Option<RawPhotoSize<'a>>,
    #[serde(borrow)]
    file_name: Option<Cow<'a, str>>,
    #[serde(default)] // only a document's may be missing
    mime_type: KnownMime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawAudio<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    duration: u32,
    #[serde(borrow)]
    performer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    file_name: Option<Cow<'a, str>>,
    mime_type: KnownMime,
    #[serde(borrow)]
    thumbnail: Option<RawPhotoSize<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawVoice<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    duration: u32,
    mime_type: KnownMime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawVideoNote<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    length: u32,
    duration: u32,
    #[serde(borrow)]
    thumbnail: Option<RawPhotoSize<'a>>,
}

/// A regular sticker only (masks and custom emoji carry more).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawSticker<'a> {
    #[serde(borrow)]
    file_id: Cow<'a, str>,
    #[serde(borrow)]
    file_unique_id: Cow<'a, str>,
    #[serde(default)] // teloxide's fallback: null is refused
    file_size: u32,
    width: u16,
    height: u16,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    is_animated: bool,
    #[serde(default)]
    is_video: bool,
    #[serde(borrow)]
    thumbnail: Option<RawPhotoSize<'a>>,
    #[serde(borrow)]
    emoji: Option<Cow<'a, str>>,
    #[serde(borrow)]
    set_name: Option<Cow<'a, str>>,
    #[serde(default)]
    needs_repainting: bool,
}

/// A MIME type teloxide surely parses (one of a few common ones, exactly)
/// or null. Any other (even a valid one) sends the update to teloxide.
/// Teloxide reads `mime_type` with its own function, so (but for a
/// document's) a missing one is an error here too.
#[derive(Default)]
pub(super) struct KnownMime;

const KNOWN_MIMES: [&str; 12] = [
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "image/gif",
    "image/jpeg",
    "image/png",
    "application/pdf",
    "application/zip",
    "text/plain",
];

impl<'de> Deserialize<'de> for KnownMime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any`, not `Option`: serde lets a missing `Option`
        // be `None`, and teloxide doesn't.
        deserializer.deserialize_any(MimeVisitor)
    }
}

struct MimeVisitor;

impl Visitor<'_> for MimeVisitor {
    type Value = KnownMime;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a common MIME type or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<KnownMime, E> {
        Ok(KnownMime)
    }

    fn visit_str<E: de::Error>(self, mime: &str) -> Result<KnownMime, E> {
        if KNOWN_MIMES.contains(&mime) {
            Ok(KnownMime)
        } else {
            Err(E::custom("a MIME type left to teloxide"))
        }
    }
}
