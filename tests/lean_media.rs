//! The lean parser's media kinds against teloxide's parse: photos,
//! videos, animations, documents, audio, voice, video notes and stickers,
//! each plain and with captions of every entity kind, with odd values in
//! every field and random mutations, must give the same events on both
//! paths (see `tests/lean_updates.rs` for what is compared), and each
//! common kind must really take the lean path, or this would compare
//! teloxide with itself.

mod support;

use proptest::prelude::*;
use randchat::telegram::incoming::parse_updates;
use randchat::testing::SimKind;
use serde_json::{json, Value};
use support::lean::{
    answer, by_teloxide, by_the_bot, entity, private, same_reading, scalar, set, Edit,
};
use teloxide::types::Update;

/// The media kinds the lean path takes.
const LEAN_MEDIA: [SimKind; 8] = [
    SimKind::Photo,
    SimKind::Video,
    SimKind::Animation,
    SimKind::Sticker,
    SimKind::Voice,
    SimKind::VideoNote,
    SimKind::Audio,
    SimKind::Document,
];

/// The media field of a `SimKind` message (its first key but `caption`).
fn media_key(content: &Value) -> String {
    let keys = content.as_object().unwrap().keys();
    let mut keys: Vec<&String> = keys.filter(|k| !k.starts_with("caption")).collect();
    keys.sort_by_key(|k| *k == "document"); // an animation's `document` last
    keys[0].clone()
}

/// Each media kind with captions carrying every entity kind, and odd
/// values where teloxide is strict.
fn odd_media() -> Vec<String> {
    let mut out = Vec::new();
    let long = "a caption long enough to be more than a short answer";
    for (k, kind) in LEAN_MEDIA.iter().enumerate() {
        let base = kind.content(k as u64);
        let key = media_key(&base);
        let mut variants: Vec<Value> = vec![base.clone()];
        for entity_kind in [
            "url",
            "email",
            "mention",
            "bold",
            "text_link",
            "no_such_kind",
        ] {
            let mut v = base.clone();
            v["caption"] = json!(long);
            v["caption_entities"] = json!([entity(entity_kind, json!({}))]);
            variants.push(v);
        }
        let edits: Vec<Edit> = vec![
            Box::new(|v| v["caption"] = json!(null)),
            Box::new(|v| v["caption"] = json!(5)),
            Box::new(|v| v["caption_entities"] = json!(null)),
            Box::new(|v| v["caption_entities"] = json!([entity("url", json!({}))])),
            Box::new(|v| v["entities"] = json!([entity("url", json!({}))])),
            Box::new(|v| v["entities"] = json!([])),
            Box::new(|v| v["text"] = json!("hi")),
            Box::new(|v| v["text"] = json!(null)),
            Box::new(|v| v["media_group_id"] = json!("g")),
            Box::new(|v| v["has_media_spoiler"] = json!(true)),
            Box::new(|v| v["show_caption_above_media"] = json!(true)),
            Box::new(|v| {
                v["voice"] = json!({"file_id": "v", "file_unique_id": "u", "duration": 1})
            }),
            Box::new(|v| v["sticker"] = json!(null)),
            Box::new(|v| v["document"] = json!({"file_id": "d", "file_unique_id": "u"})),
        ];
        for edit in edits {
            let mut v = base.clone();
            edit(&mut v);
            variants.push(v);
        }
        let fields: Vec<(&str, Value)> = vec![
            ("file_size", json!(u64::from(u32::MAX) + 1)),
            ("file_size", json!(null)),
            ("file_size", json!(-1)),
            ("file_id", json!(null)),
            ("file_id", json!(7)),
            ("width", json!(70_000)),
            ("width", json!(-1)),
            ("height", json!(1.5)),
            ("duration", json!(-3)),
            ("duration", json!(null)),
            ("length", json!("x")),
            ("mime_type", json!("text/x-unknown")),
            ("mime_type", json!("not a mime")),
            ("mime_type", json!(null)),
            ("mime_type", json!(5)),
            ("thumbnail", json!(null)),
            ("thumbnail", json!({"file_id": "t"})),
            ("file_name", json!(null)),
            ("cover", json!([])),
            ("start_timestamp", json!(1)),
            ("type", json!("mask")),
            ("type", json!("custom_emoji")),
            ("custom_emoji_id", json!("1")),
            ("premium_animation", json!(null)),
            ("is_animated", json!(true)),
            ("is_video", json!("yes")),
            ("needs_repainting", json!(true)),
            ("emoji", json!(null)),
            ("extra", json!(1)),
        ];
        for (field, value) in fields {
            let mut v = base.clone();
            match v[&key].as_array_mut() {
                Some(sizes) => sizes.iter_mut().for_each(|s| s[field] = value.clone()),
                None => v[&key][field] = value,
            }
            variants.push(v);
        }
        for (i, v) in variants.into_iter().enumerate() {
            out.push(private(600 + (k * 100 + i) as i64, v));
        }
    }
    out.push(private(590, json!({"photo": []})));
    out.push(private(591, json!({"photo": null})));
    out.push(private(592, SimKind::Document.content(1)));
    out
}

#[test]
fn common_media_take_the_lean_path() {
    for (i, kind) in LEAN_MEDIA.iter().enumerate() {
        let plain = private(i as i64, kind.content(i as u64));
        assert!(same_reading(&plain), "not lean: {plain}");
        let mut captioned = kind.content(i as u64);
        captioned["caption"] = json!("see https://example.org");
        captioned["caption_entities"] = json!([{"type": "url", "offset": 4, "length": 19}]);
        let captioned = private(50 + i as i64, captioned);
        let may_have_caption = !matches!(kind, SimKind::Sticker | SimKind::VideoNote);
        assert_eq!(same_reading(&captioned), may_have_caption, "{captioned}");
    }
    for refused in [
        private(60, json!({"location": {"latitude": 1.0, "longitude": 2.0}})),
        private(61, SimKind::Poll.content(1)),
        private(62, SimKind::Dice.content(1)),
    ] {
        assert!(!same_reading(&refused), "lean: {refused}");
    }
}

#[test]
fn every_media_update_reads_the_same_on_both_paths() {
    let all = odd_media();
    let lean: usize = all.iter().map(|u| usize::from(same_reading(u))).sum();
    assert!(
        lean >= 60,
        "the lean path took only {lean} of {} updates",
        all.len()
    );
}

#[test]
fn a_whole_media_batch_parses_as_teloxide_parses_it() {
    let all = odd_media();
    let teloxide: Vec<Update> =
        serde_json::from_str(&format!("[{}]", all.join(","))).expect("teloxide reads the batch");
    let ours = parse_updates(&answer(&all)).expect("the bot reads the batch");
    assert_eq!(ours.len(), teloxide.len());
    for (ours, expected) in ours.iter().zip(&teloxide) {
        assert_eq!(by_the_bot(ours), by_teloxide(expected));
    }
}

fn media_path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::select(vec![
        vec!["caption"],
        vec!["caption_entities"],
        vec!["text"],
        vec!["entities"],
        vec!["MEDIA", "file_id"],
        vec!["MEDIA", "file_unique_id"],
        vec!["MEDIA", "file_size"],
        vec!["MEDIA", "width"],
        vec!["MEDIA", "height"],
        vec!["MEDIA", "duration"],
        vec!["MEDIA", "length"],
        vec!["MEDIA", "mime_type"],
        vec!["MEDIA", "file_name"],
        vec!["MEDIA", "thumbnail"],
        vec!["MEDIA", "thumbnail", "width"],
        vec!["MEDIA", "type"],
        vec!["MEDIA", "is_animated"],
        vec!["MEDIA", "emoji"],
        vec!["MEDIA", "performer"],
        vec!["MEDIA", "extra"],
        vec!["MEDIA"],
        vec!["photo"],
        vec!["document"],
        vec!["sticker"],
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A media message with one or two fields set to random values reads
    /// the same on both paths, whichever path takes it.
    #[test]
    fn mutated_media_read_the_same(
        kind in prop::sample::select(LEAN_MEDIA.to_vec()),
        caption in prop::option::of(".{0,40}"),
        edits in prop::collection::vec((media_path(), scalar()), 1..3),
    ) {
        let mut content = kind.content(7);
        let key = media_key(&content);
        if let Some(caption) = caption {
            content["caption"] = json!(caption);
        }
        let mut update: Value = serde_json::from_str(&private(1, content)).unwrap();
        for (path, value) in edits {
            let mut path: Vec<&str> = path.iter().map(|p| if *p == "MEDIA" { key.as_str() } else { p }).collect();
            path.insert(0, "message");
            set(&mut update, &path, value);
        }
        same_reading(&update.to_string());
    }
}
