//! Realistic JSON for every kind of message a private chat can carry.
//!
//! Why realistic: teloxide parses messages with untagged serde enums, so a
//! message missing one field silently turns into another kind (or into
//! `UpdateKind::Error`). The payloads below mirror what Telegram really sends
//! (e.g. an animation also carries `document`, a venue also `location`), and
//! `tests/fake_bot_api_teloxide.rs` checks that teloxide parses each as itself.

use serde_json::{json, Value};

/// Every kind of message a user can send the bot in a private chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimKind {
    Text,
    Command,
    Photo,
    Video,
    Animation,
    Sticker,
    Voice,
    VideoNote,
    Audio,
    Document,
    Location,
    Venue,
    Contact,
    Poll,
    Dice,
}

impl SimKind {
    pub const ALL: [SimKind; 15] = [
        SimKind::Text,
        SimKind::Command,
        SimKind::Photo,
        SimKind::Video,
        SimKind::Animation,
        SimKind::Sticker,
        SimKind::Voice,
        SimKind::VideoNote,
        SimKind::Audio,
        SimKind::Document,
        SimKind::Location,
        SimKind::Venue,
        SimKind::Contact,
        SimKind::Poll,
        SimKind::Dice,
    ];

    /// The message's content fields; `n` makes file ids unique.
    pub fn content(self, n: u64) -> Value {
        let thumb = || {
            with(
                file("AAMCAgADGQEAA", n, 1_900),
                json!({"width": 320, "height": 180}),
            )
        };
        match self {
            SimKind::Text => json!({ "text": format!("hello #{n}") }),
            SimKind::Command => command("/chat"),
            SimKind::Photo => photo(n, "look at this"),
            SimKind::Video => json!({"video": with(file("BAACAgIAAxkBAA", n, 1_234_567), json!({
                "width": 1280, "height": 720, "duration": 12, "thumbnail": thumb(),
                "file_name": "clip.mp4", "mime_type": "video/mp4"}))}),
            SimKind::Animation => {
                let file = file("CgACAgIAAxkBAA", n, 345_678);
                let extra = json!({"file_name": "funny.gif.mp4", "mime_type": "video/mp4",
                                   "thumbnail": thumb()});
                json!({
                    "animation": with(with(file.clone(), extra.clone()),
                                      json!({"width": 480, "height": 270, "duration": 3})),
                    "document": with(file, extra),
                })
            }
            SimKind::Sticker => json!({"sticker": with(file("CAACAgIAAxkBAA", n, 24_680), json!({
                "type": "regular", "width": 512, "height": 512, "is_animated": false,
                "is_video": false, "emoji": "😀", "set_name": "HotCherry", "thumbnail": thumb()}))}),
            SimKind::Voice => json!({"voice": with(file("AwACAgIAAxkBAA", n, 13_579),
                json!({"duration": 4, "mime_type": "audio/ogg"}))}),
            SimKind::VideoNote => json!({"video_note": with(file("DQACAgIAAxkBAA", n, 456_789),
                json!({"length": 240, "duration": 6, "thumbnail": thumb()}))}),
            SimKind::Audio => json!({"audio": with(file("CQACAgIAAxkBAA", n, 4_567_890), json!({
                "duration": 215, "performer": "Test Band", "title": "Test Song",
                "file_name": "song.mp3", "mime_type": "audio/mpeg"}))}),
            SimKind::Document => json!({"document": with(file("BQACAgIAAxkBAA", n, 98_765),
                json!({"file_name": "report.pdf", "mime_type": "application/pdf"}))}),
            SimKind::Location => {
                json!({"location": {"latitude": 52.520008, "longitude": 13.404954}})
            }
            SimKind::Venue => {
                let location = json!({"latitude": 48.858370, "longitude": 2.294481});
                json!({"venue": {"location": location, "title": "Eiffel Tower",
                        "address": "Champ de Mars, 5 Av. Anatole France, Paris",
                        "foursquare_id": "4adcda09f964a520ab3321e3"},
                       "location": location})
            }
            SimKind::Contact => json!({"contact": {"phone_number": "+15555550123",
                "first_name": "Alice", "last_name": "Example", "user_id": 555_000_123}}),
            SimKind::Poll => json!({"poll": {
                "id": format!("5{n:018}"), "question": "Cats or dogs?",
                "options": [{"text": "Cats", "voter_count": 0}, {"text": "Dogs", "voter_count": 0}],
                "total_voter_count": 0, "is_closed": false, "is_anonymous": true,
                "type": "regular", "allows_multiple_answers": false}}),
            SimKind::Dice => json!({"dice": {"emoji": "🎲", "value": 1 + n % 6}}),
        }
    }
}

/// `base` with the fields of `extra` added.
pub(super) fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

fn file(prefix: &str, n: u64, size: u64) -> Value {
    json!({"file_id": format!("{prefix}{n:06}FakeFileIdForTests_{size}"),
           "file_unique_id": format!("AQAD{n:06}{size}"), "file_size": size})
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A command message; the bot_command entity covers the first word.
pub(super) fn command(text: &str) -> Value {
    let word = text.split_whitespace().next().unwrap_or("");
    let entity = json!({"offset": 0, "length": utf16_len(word), "type": "bot_command"});
    json!({"text": text, "entities": [entity]})
}

/// Three sizes, as Telegram sends them, and a bold caption.
pub(super) fn photo(n: u64, caption: &str) -> Value {
    let size = |i: u64, w: u32, h: u32, bytes: u64| {
        with(
            file("AgACAgIAAxkBAA", n * 10 + i, bytes),
            json!({"width": w, "height": h}),
        )
    };
    json!({"photo": [size(1, 90, 67, 1_311), size(2, 320, 240, 17_234), size(3, 1280, 960, 98_765)],
           "caption": caption,
           "caption_entities": [{"offset": 0, "length": utf16_len(caption), "type": "bold"}]})
}
