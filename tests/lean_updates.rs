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
//! for plain texts, or this test would compare teloxide with itself.

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
    for update in &all {
        lean += usize::from(same_reading(update));
    }
    assert!(
        lean >= 30,
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
        private(4, SimKind::Photo.content(1)),
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
fn a_whole_batch_parses_as_teloxide_parses_it() {
    let mut all = corpus();
    all.extend(every_kind());
    all.extend(texts());
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
