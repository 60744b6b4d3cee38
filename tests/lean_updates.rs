//! The lean update parser against teloxide's: the same updates must give
//! the same events, whichever path parses them.
//!
//! For every update of the corpus (`tests/corpus/updates.json`), every
//! message kind users send (`SimKind`), a set of plain texts with every
//! entity kind, commands and odd values, and random mutations of a plain
//! text: the bot's parse of a getUpdates answer
//! (`randchat::telegram::incoming::parse_updates`, lean where it can be)
//! must say exactly what teloxide's `Update` says through `inbound`: the
//! update id, the message date, the language event, the event, and the
//! text the anti-spam rules read. The lean path must also really be taken
//! for plain texts and for every common media kind (photo, video,
//! animation, document, audio, voice, video note, sticker, with or
//! without a caption), or this test would compare teloxide with itself.
//! Media are also checked with odd values and random mutations.

use proptest::prelude::*;
use randchat::engine::Event;
use randchat::telegram::inbound;
use randchat::telegram::incoming::{parse_updates, Incoming};
use randchat::testing::SimKind;
use serde_json::{json, Value};
use teloxide::types::{Update, UpdateKind};

const BOT: &str = "randchat_test_bot";

/// What the loop reads from an update.
#[derive(Debug, PartialEq)]
struct Reading {
    id: i64,
    date: Option<i64>,
    language: Option<Event>,
    event: Option<Event>,
    written: Option<(String, bool, bool)>,
}

fn by_teloxide(update: &Update) -> Reading {
    Reading {
        id: i64::from(update.id.0),
        date: match &update.kind {
            UpdateKind::Message(m) => Some(m.date.timestamp()),
            _ => None,
        },
        language: inbound::spoken_language(update),
        event: inbound::classify(update, BOT),
        written: inbound::written(update).map(|w| (w.text, w.link_entity, w.mention_entity)),
    }
}

fn by_the_bot(incoming: &Incoming) -> Reading {
    Reading {
        id: incoming.id(),
        date: incoming.message_date(),
        language: incoming.spoken_language(),
        event: incoming.classify(BOT),
        written: incoming
            .written()
            .map(|w| (w.text, w.link_entity, w.mention_entity)),
    }
}

fn answer(updates: &[String]) -> String {
    format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(","))
}

/// Compares both paths on one update (as JSON text); returns whether the
/// lean path took it.
fn same_reading(update: &str) -> bool {
    let teloxide: Result<Update, _> = serde_json::from_str(update);
    let ours = parse_updates(&answer(&[update.to_owned()]));
    match (teloxide, ours) {
        (Ok(expected), Ok(ours)) => {
            assert_eq!(ours.len(), 1);
            assert_eq!(by_the_bot(&ours[0]), by_teloxide(&expected), "{update}");
            matches!(ours[0], Incoming::Lean(_))
        }
        (Err(_), Err(_)) => false,
        (expected, ours) => panic!(
            "teloxide: {:?}, the bot: {:?} for {update}",
            expected.map(|_| "parsed"),
            ours.map(|_| "parsed")
        ),
    }
}

fn private(id: i64, message: Value) -> String {
    let mut message = message;
    message["message_id"] = json!(id);
    message["date"] = json!(1_700_000_000);
    message["chat"] = json!({"id": 4242, "type": "private", "first_name": "F", "username": "f"});
    message["from"] = json!({"id": 4242, "is_bot": false, "first_name": "F",
                             "username": "fuzzer", "language_code": "es"});
    json!({"update_id": 1000 + id, "message": message}).to_string()
}

fn entity(kind: &str, extra: Value) -> Value {
    let mut entity = json!({"type": kind, "offset": 0, "length": 4});
    if let (Some(e), Value::Object(extra)) = (entity.as_object_mut(), extra) {
        e.extend(extra);
    }
    entity
}

/// Plain texts of every sort the lean path may take or must refuse.
fn texts() -> Vec<String> {
    let long = "a long enough text to be more than a short answer";
    let mut out = Vec::new();
    for (i, text) in [
        "hi",
        "yes",
        long,
        "/chat",
        "/next@randchat_test_bot",
        "/stop now",
        "/link",
        "/delete",
        "/start payload",
        "/unknown_thing",
        "/chat@someone_else",
        "ünïcödé 😀 \" \\ \n",
        "",
        "1234567890123456",
        "12345678901234567",
    ]
    .into_iter()
    .enumerate()
    {
        out.push(private(i as i64, json!({"text": text})));
    }
    let kinds = [
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "blockquote",
        "expandable_blockquote",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "no_such_kind",
    ];
    for (i, kind) in kinds.iter().enumerate() {
        for text in ["see", long] {
            let entities = json!([entity(kind, json!({}))]);
            out.push(private(
                100 + i as i64,
                json!({"text": text, "entities": entities}),
            ));
        }
    }
    let special = [
        entity("text_link", json!({"url": "https://example.org"})),
        entity("text_link", json!({"url": "not a url"})),
        entity("pre", json!({"language": "rust"})),
        entity(
            "text_mention",
            json!({"user": {"id": 5, "is_bot": false, "first_name": "X"}}),
        ),
        entity("custom_emoji", json!({"custom_emoji_id": "123"})),
        json!({"type": "url", "offset": -1, "length": 4}),
        json!({"type": "url", "offset": 0}),
        json!({"type": 5, "offset": 0, "length": 1}),
    ];
    for (i, special) in special.into_iter().enumerate() {
        let entities = json!([entity("bold", json!({})), special]);
        out.push(private(
            200 + i as i64,
            json!({"text": long, "entities": entities}),
        ));
    }
    out
}

/// A change to a plain text update.
type Edit = Box<dyn Fn(&mut Value)>;

/// Variations of the envelope: odd values where teloxide is strict.
fn odd_texts() -> Vec<String> {
    let base =
        || -> Value { serde_json::from_str(&private(300, json!({"text": "hello"}))).unwrap() };
    let mut out = Vec::new();
    let mut edits: Vec<Edit> = vec![
        Box::new(|u| u["update_id"] = json!(-1)),
        Box::new(|u| u["update_id"] = json!(u64::from(u32::MAX) + 1)),
        Box::new(|u| u["message"]["date"] = json!(-5)),
        Box::new(|u| u["message"]["date"] = json!(i64::MAX)),
        Box::new(|u| u["message"]["date"] = json!("soon")),
        Box::new(|u| u["message"]["message_id"] = json!(i64::from(i32::MAX) + 1)),
        Box::new(|u| u["message"]["from"]["id"] = json!(-7)),
        Box::new(|u| u["message"]["from"]["language_code"] = json!(null)),
        Box::new(|u| u["message"]["from"]["language_code"] = json!("ru-RU")),
        Box::new(|u| u["message"]["from"]["language_code"] = json!("xx")),
        Box::new(|u| u["message"]["from"]["is_premium"] = json!(true)),
        Box::new(|u| u["message"]["from"]["is_premium"] = json!(null)),
        Box::new(|u| u["message"]["from"]["username"] = json!(null)),
        Box::new(|u| u["message"]["from"]["first_name"] = json!(null)),
        Box::new(|u| u["message"]["from"]["added_to_attachment_menu"] = json!(true)),
        Box::new(|u| u["message"]["chat"]["type"] = json!("group")),
        Box::new(|u| u["message"]["chat"]["type"] = json!("supergroup")),
        Box::new(|u| u["message"]["chat"]["title"] = json!("t")),
        Box::new(|u| u["message"]["chat"]["id"] = json!("4242")),
        Box::new(|u| u["message"]["text"] = json!(null)),
        Box::new(|u| u["message"]["text"] = json!(5)),
        Box::new(|u| u["message"]["entities"] = json!(null)),
        Box::new(|u| u["message"]["entities"] = json!([])),
        Box::new(|u| {
            u["message"]["reply_to_message"] = json!({"message_id": 1, "date": 1,
            "chat": {"id": 4242, "type": "private"}, "text": "old"})
        }),
        Box::new(|u| u["message"]["media_group_id"] = json!("g")),
        Box::new(|u| u["message"]["edit_date"] = json!(1)),
        Box::new(|u| u["message"]["link_preview_options"] = json!({"is_disabled": true})),
        Box::new(|u| {
            u["message"]["forward_origin"] = json!({"type": "hidden_user",
            "sender_user_name": "x", "date": 1})
        }),
        Box::new(|u| u["message"]["photo"] = json!([])),
        Box::new(|u| u["something_new"] = json!({})),
        Box::new(|u| {
            let m = u["message"].take();
            u["edited_message"] = m;
        }),
        Box::new(|u| {
            u.as_object_mut().unwrap().remove("update_id");
        }),
        Box::new(|u| {
            u["message"].as_object_mut().unwrap().remove("from");
        }),
        Box::new(|u| {
            u["message"].as_object_mut().unwrap().remove("date");
        }),
        Box::new(|u| {
            u["message"]["from"]
                .as_object_mut()
                .unwrap()
                .remove("is_bot");
        }),
    ];
    for edit in edits.drain(..) {
        let mut update = base();
        edit(&mut update);
        out.push(update.to_string());
    }
    // Duplicate keys: teloxide and serde_json take them their own way.
    out.push(
        r#"{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"A"},"text":"a","text":"b"}}"#
            .into(),
    );
    out
}

fn corpus() -> Vec<String> {
    let corpus: Vec<Value> =
        serde_json::from_str(include_str!("corpus/updates.json")).expect("the corpus is JSON");
    corpus
        .into_iter()
        .enumerate()
        .map(|(i, mut update)| {
            update["update_id"] = json!(5000 + i);
            update.to_string()
        })
        .collect()
}

fn every_kind() -> Vec<String> {
    SimKind::ALL
        .iter()
        .enumerate()
        .map(|(i, kind)| private(400 + i as i64, kind.content(i as u64)))
        .collect()
}

#[test]
fn every_update_reads_the_same_on_both_paths() {
    let mut lean = 0;
    let mut all = corpus();
    all.extend(every_kind());
    all.extend(texts());
    all.extend(odd_texts());
    all.extend(odd_media());
    for update in &all {
        lean += usize::from(same_reading(update));
    }
    assert!(
        lean >= 60,
        "the lean path took only {lean} of {} updates",
        all.len()
    );
}

#[test]
fn plain_texts_and_commands_take_the_lean_path() {
    for update in [
        private(1, json!({"text": "hello there, how are you today?"})),
        private(2, json!({"text": "ok"})),
        private(
            3,
            json!({"text": "/next", "entities": [entity("bot_command", json!({}))]}),
        ),
    ] {
        assert!(same_reading(&update), "not lean: {update}");
    }
    for refused in [
        private(
            4,
            json!({"text": "hi", "photo": SimKind::Photo.content(1)["photo"]}),
        ),
        private(
            5,
            json!({"text": "hi", "reply_to_message": {"message_id": 1, "date": 1,
            "chat": {"id": 4242, "type": "private"}, "text": "old"}}),
        ),
    ] {
        assert!(!same_reading(&refused), "lean: {refused}");
    }
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
fn a_whole_batch_parses_as_teloxide_parses_it() {
    let mut all = corpus();
    all.extend(every_kind());
    all.extend(texts());
    all.extend(odd_media());
    let body = answer(&all);
    let teloxide: Vec<Update> =
        serde_json::from_str(&format!("[{}]", all.join(","))).expect("teloxide reads the batch");
    let ours = parse_updates(&body).expect("the bot reads the batch");
    assert_eq!(ours.len(), teloxide.len());
    for (ours, expected) in ours.iter().zip(&teloxide) {
        assert_eq!(by_the_bot(ours), by_teloxide(expected));
    }
    // One update without an id spoils the batch for teloxide, and for us.
    let mut spoiled = all.clone();
    spoiled.push(r#"{"message":{"message_id":1}}"#.into());
    assert!(serde_json::from_str::<Vec<Update>>(&format!("[{}]", spoiled.join(","))).is_err());
    assert!(parse_updates(&answer(&spoiled)).is_err());
}

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

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u32..100).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::select(vec![
        vec!["update_id"],
        vec!["message", "message_id"],
        vec!["message", "date"],
        vec!["message", "text"],
        vec!["message", "entities"],
        vec!["message", "chat", "id"],
        vec!["message", "chat", "type"],
        vec!["message", "chat", "first_name"],
        vec!["message", "from", "id"],
        vec!["message", "from", "is_bot"],
        vec!["message", "from", "first_name"],
        vec!["message", "from", "username"],
        vec!["message", "from", "language_code"],
        vec!["message", "from", "is_premium"],
        vec!["message", "extra"],
        vec!["message", "chat", "extra"],
        vec!["message", "from", "extra"],
        vec!["extra"],
    ])
}

/// Sets the field at `path`, if every object on the way is still there.
fn set(update: &mut Value, path: &[&str], value: Value) {
    let Some((last, way)) = path.split_last() else {
        return;
    };
    let mut at = update;
    for key in way {
        match at.get_mut(*key) {
            Some(next) if next.is_object() => at = next,
            _ => return,
        }
    }
    if let Some(object) = at.as_object_mut() {
        object.insert((*last).to_owned(), value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A plain text with one or two fields set to random values reads the
    /// same on both paths, whichever path takes it.
    #[test]
    fn mutated_texts_read_the_same(
        text in ".{0,40}",
        edits in prop::collection::vec((path(), scalar()), 1..3),
        kinds in prop::collection::vec(prop::sample::select(vec![
            "url", "email", "mention", "bold", "bot_command", "text_link", "odd"]), 0..3),
    ) {
        let entities: Vec<Value> = kinds.iter().map(|k| entity(k, json!({}))).collect();
        let mut update: Value =
            serde_json::from_str(&private(1, json!({"text": text, "entities": entities}))).unwrap();
        for (path, value) in edits {
            set(&mut update, &path, value);
        }
        same_reading(&update.to_string());
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
