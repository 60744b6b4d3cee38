//! The lean update parser against teloxide's (`tests/lean_updates.rs`,
//! `tests/lean_media.rs`): what the loop reads from an update on either
//! path, and the JSON helpers both files build updates with.

use proptest::prelude::*;
use randchat::engine::Event;
use randchat::telegram::inbound;
use randchat::telegram::incoming::{parse_updates, Incoming};
use serde_json::{json, Value};
use teloxide::types::{Update, UpdateKind};

pub const BOT: &str = "randchat_test_bot";

/// What the loop reads from an update.
#[derive(Debug, PartialEq)]
pub struct Reading {
    id: i64,
    date: Option<i64>,
    language: Option<Event>,
    event: Option<Event>,
    written: Option<(String, bool, bool)>,
}

pub fn by_teloxide(update: &Update) -> Reading {
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

pub fn by_the_bot(incoming: &Incoming) -> Reading {
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

pub fn answer(updates: &[String]) -> String {
    format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(","))
}

/// Compares both paths on one update (as JSON text); returns whether the
/// lean path took it.
pub fn same_reading(update: &str) -> bool {
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

pub fn private(id: i64, message: Value) -> String {
    let mut message = message;
    message["message_id"] = json!(id);
    message["date"] = json!(1_700_000_000);
    message["chat"] = json!({"id": 4242, "type": "private", "first_name": "F", "username": "f"});
    message["from"] = json!({"id": 4242, "is_bot": false, "first_name": "F",
                             "username": "fuzzer", "language_code": "es"});
    json!({"update_id": 1000 + id, "message": message}).to_string()
}

pub fn entity(kind: &str, extra: Value) -> Value {
    let mut entity = json!({"type": kind, "offset": 0, "length": 4});
    if let (Some(e), Value::Object(extra)) = (entity.as_object_mut(), extra) {
        e.extend(extra);
    }
    entity
}

/// A change to a plain text update.
pub type Edit = Box<dyn Fn(&mut Value)>;

pub fn scalar() -> impl Strategy<Value = Value> {
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

/// Sets the field at `path`, if every object on the way is still there.
pub fn set(update: &mut Value, path: &[&str], value: Value) {
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
