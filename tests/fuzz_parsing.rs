//! Property tests for the parsers at the boundary: commands and updates.
//!
//! Arbitrary text must parse to a command or to "not a command" without
//! panicking, and arbitrary update-shaped JSON (random kinds, random field
//! types, random nesting) must classify into an event or nothing.

use proptest::prelude::*;
use randchat::engine::Command;
use randchat::telegram::inbound::classify;
use serde_json::{json, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(field(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names Telegram uses, so random objects often look real.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "message_id",
            "date",
            "chat",
            "from",
            "id",
            "type",
            "text",
            "entities",
            "caption",
            "photo",
            "sticker",
            "document",
            "first_name",
            "username",
            "is_bot",
            "offset",
            "length",
            "new_chat_members",
            "left_chat_member",
            "status",
            "user",
            "title",
        ])
        .prop_map(String::from),
        "[a-z_]{1,12}",
    ]
}

fn private_message() -> impl Strategy<Value = Value> {
    (
        any::<i32>(),
        any::<i64>(),
        ".{0,60}",
        prop::option::of(value()),
    )
        .prop_map(|(id, user, text, extra)| {
            let mut message = json!({
                "message_id": id,
                "date": 1_700_000_000,
                "chat": {"id": user, "type": "private", "first_name": "F"},
                "from": {"id": user, "is_bot": false, "first_name": "F"},
                "text": text,
            });
            if let Some(extra) = extra {
                message["extra"] = extra;
            }
            message
        })
}

fn update() -> impl Strategy<Value = Value> {
    let kind = prop::sample::select(vec![
        "message",
        "edited_message",
        "channel_post",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "business_message",
        "message_reaction",
        "poll",
        "something_new",
    ]);
    prop_oneof![
        (kind, value()).prop_map(|(kind, body)| json!({"update_id": 1, kind: body})),
        private_message().prop_map(|m| json!({"update_id": 1, "message": m})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn command_parsing_never_panics(text in ".{0,80}", bot in "[a-zA-Z0-9_]{0,20}") {
        let parsed = Command::parse(&text, &bot);
        if !text.starts_with('/') {
            prop_assert_eq!(parsed, None);
        }
    }

    #[test]
    fn known_commands_survive_suffixes_and_arguments(
        name in prop::sample::select(vec!["start", "chat", "search", "next", "stop", "help", "report"]),
        args in "( [^\n]{0,20})?",
    ) {
        let with_bot = format!("/{name}@RandChat_Bot{args}");
        prop_assert_ne!(Command::parse(&with_bot, "randchat_bot"), Some(Command::Unknown));
        let plain = format!("/{name}{args}");
        prop_assert!(Command::parse(&plain, "randchat_bot").is_some());
    }

    #[test]
    fn any_update_shape_classifies_without_panicking(update in update()) {
        // As the bot does, from text; teloxide falls back to an `Error` kind
        // for shapes it doesn't know, and that must be fine too.
        if let Ok(parsed) = serde_json::from_str::<teloxide::types::Update>(&update.to_string()) {
            let _ = classify(&parsed, "randchat_bot");
        }
    }
}
