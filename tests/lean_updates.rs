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
//! for plain texts, or this test would compare teloxide with itself. The
//! media kinds the lean path takes have their own file,
//! `tests/lean_media.rs`.

mod support;

use proptest::prelude::*;
use randchat::telegram::incoming::parse_updates;
use randchat::testing::SimKind;
use serde_json::{json, Value};
use support::lean::{
    answer, by_teloxide, by_the_bot, entity, private, same_reading, scalar, set, Edit,
};
use teloxide::types::Update;

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
