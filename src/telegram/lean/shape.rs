//! The exact envelope the lean parser accepts: an update holding one new
//! message in a private chat, its sender, and its text or media.
//!
//! Why a separate file: these types are the safety rule itself. Each one
//! has `deny_unknown_fields`, so any field we don't model (a reply, a
//! forward, an album, an edit, a service field) sends the update to
//! teloxide; and each value has teloxide's own type (u32 update ids, i32
//! message ids, u64 user ids, usize offsets), so a value teloxide would
//! refuse is refused here too.

use super::media::{
    RawAudio, RawClip, RawDocument, RawPhotoSize, RawSticker, RawVideoNote, RawVoice,
};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpdate<'a> {
    pub update_id: u32,
    #[serde(borrow)]
    pub message: RawMessage<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMessage<'a> {
    pub message_id: i32,
    pub date: i64,
    #[serde(borrow)]
    pub chat: RawChat<'a>,
    #[serde(borrow)]
    pub from: RawUser<'a>,
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
    /// Empty unless there is a `text` (checked by the caller).
    #[serde(default, borrow)]
    pub entities: Vec<RawEntity<'a>>,
    #[serde(borrow)]
    pub caption: Option<Cow<'a, str>>,
    /// Empty unless there is a `caption` (checked by the caller).
    #[serde(default, borrow)]
    pub caption_entities: Vec<RawEntity<'a>>,
    #[serde(borrow)]
    pub photo: Option<Vec<RawPhotoSize<'a>>>,
    #[serde(borrow)]
    pub video: Option<RawClip<'a>>,
    #[serde(borrow)]
    pub animation: Option<RawClip<'a>>,
    #[serde(borrow)]
    pub document: Option<RawDocument<'a>>,
    #[serde(borrow)]
    pub audio: Option<RawAudio<'a>>,
    #[serde(borrow)]
    pub voice: Option<RawVoice<'a>>,
    #[serde(borrow)]
    pub video_note: Option<RawVideoNote<'a>>,
    #[serde(borrow)]
    pub sticker: Option<RawSticker<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the unused fields are read for their types
pub(super) struct RawChat<'a> {
    id: i64,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the unused fields are read for their types
pub(super) struct RawUser<'a> {
    pub id: u64,
    is_bot: bool,
    #[serde(borrow)]
    first_name: Cow<'a, str>,
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub language_code: Option<Cow<'a, str>>,
    #[serde(default)]
    is_premium: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // offsets are read for their types
pub(super) struct RawEntity<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    offset: usize,
    length: usize,
}
