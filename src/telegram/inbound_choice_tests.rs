//! What inbound makes of the updates behind languages, /link and /media.

use super::*;
use serde_json::{json, Value};

const ME: i64 = 4242;

fn from(username: Option<&str>, language: &str) -> Value {
    let mut user = json!({"id": ME, "is_bot": false, "first_name": "F", "language_code": language});
    if let Some(username) = username {
        user["username"] = json!(username);
    }
    user
}

fn update(body: Value) -> Update {
    let mut update = json!({ "update_id": 1 });
    update
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    serde_json::from_str(&update.to_string()).expect("a valid update")
}

fn message(content: Value, username: Option<&str>) -> Update {
    let mut message = json!({"message_id": 5, "date": 1, "from": from(username, "ru-RU"),
                             "chat": {"id": ME, "type": "private", "first_name": "F"}});
    message
        .as_object_mut()
        .unwrap()
        .extend(content.as_object().unwrap().clone());
    update(json!({ "message": message }))
}

fn press(data: &str, username: Option<&str>) -> Update {
    update(
        json!({"callback_query": {"id": "77", "from": from(username, "es"),
        "chat_instance": "-1", "data": data,
        "message": {"message_id": 9, "date": 1, "text": "menu",
                    "chat": {"id": ME, "type": "private", "first_name": "F"}}}}),
    )
}

fn file(id: &str) -> Value {
    json!({"file_id": id, "file_unique_id": id, "file_size": 10})
}

fn media(content: Value) -> Option<Media> {
    match classify(&message(content, None), "bot") {
        Some(Event::Message { media, .. }) => media,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn each_refusable_kind_is_recognised() {
    let photo =
        json!({"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]});
    assert_eq!(media(photo), Some(Media::Photos));
    let sticker = json!({"sticker": {"file_id": "s", "file_unique_id": "s", "width": 1,
        "height": 1, "is_animated": false, "is_video": false, "type": "regular"}});
    assert_eq!(media(sticker), Some(Media::Stickers));
    let voice = json!({"voice": {"file_id": "v", "file_unique_id": "v", "file_size": 10, "duration": 1, "mime_type": "audio/ogg"}});
    assert_eq!(media(voice), Some(Media::Voice));
    assert_eq!(
        media(json!({"document": file("d")})),
        Some(Media::Documents)
    );
    let link = json!({"text": "see example.com",
                      "entities": [{"type": "url", "offset": 4, "length": 11}]});
    assert_eq!(media(link), Some(Media::Links));
    assert_eq!(media(json!({"text": "plain words"})), None);
}

#[test]
fn the_language_code_becomes_a_hint_before_the_event() {
    assert_eq!(
        spoken_language(&message(json!({"text": "hi"}), None)),
        Some(Event::Speaks {
            user: UserId(ME),
            lang: Lang::Ru
        })
    );
    assert_eq!(
        spoken_language(&press("lang:menu", None)),
        Some(Event::Speaks {
            user: UserId(ME),
            lang: Lang::Es
        })
    );
}

#[test]
fn a_username_is_read_only_with_consent() {
    let link = classify(
        &message(json!({"text": "/link"}), Some("ann_secret")),
        "bot",
    );
    assert_eq!(
        link,
        Some(Event::Share {
            user: UserId(ME),
            contact: Contact::from_username(Some("ann_secret"))
        })
    );
    let agree = classify(&press("link:yes", Some("ann_secret")), "bot");
    let Some(Event::Choose {
        choice, message, ..
    }) = agree
    else {
        panic!("{agree:?}")
    };
    assert_eq!(message, MessageId(9));
    assert_eq!(
        choice,
        Choice::Share {
            agree: true,
            contact: Contact::from_username(Some("ann_secret"))
        }
    );
    let decline = classify(&press("link:no", Some("ann_secret")), "bot");
    assert!(matches!(
        decline,
        Some(Event::Choose { choice: Choice::Share { agree: false, ref contact }, .. })
            if contact.username().is_none()
    ));
    // Other buttons stay plain callbacks for their own routes.
    assert!(matches!(
        classify(&press("report:spam", None), "bot"),
        Some(Event::Callback { .. })
    ));
}
