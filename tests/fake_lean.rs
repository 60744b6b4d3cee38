//! The fake Bot API's lean mode (the load generator's): the hot methods
//! work through teloxide, and what it keeps is what the load generator reads.
mod support;

use randchat::testing::LeanUpdate;
use std::time::Duration;
use support::FakeBotApi;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, MessageId, UpdateKind};

fn text_update(user: i64, message_id: i64, text: &str) -> String {
    format!(
        r#"{{"message":{{"message_id":{message_id},"from":{{"id":{user},"is_bot":false,"first_name":"U"}},"chat":{{"id":{user},"type":"private","first_name":"U"}},"date":1,"text":"{text}"}}}}"#
    )
}

#[tokio::test]
async fn lean_mode_serves_the_hot_methods_and_follows_messages() {
    let fake = FakeBotApi::start_lean().await;
    let bot = fake.bot();
    assert_eq!(bot.get_me().await.unwrap().id.0, FakeBotApi::BOT_ID as u64);

    let last = fake.lean_push([
        LeanUpdate {
            json: text_update(7, 1, "hi"),
            track: Some((7, 1, Some(8))),
        },
        LeanUpdate {
            json: text_update(8, 1, "/chat"),
            track: None,
        },
    ]);
    assert_eq!(last, FakeBotApi::FIRST_UPDATE_ID + 1);
    assert_eq!(fake.lean_pending(), 2);

    let updates = bot.get_updates().timeout(1).await.unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(i64::from(updates[0].id.0), FakeBotApi::FIRST_UPDATE_ID);
    assert!(matches!(updates[0].kind, UpdateKind::Message(_)));
    let offset = (last + 1) as i32;
    let none = bot.get_updates().offset(offset).timeout(0).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(fake.lean_pending(), 0, "a higher offset confirms");

    bot.copy_message(ChatId(8), ChatId(7), MessageId(1))
        .await
        .unwrap();
    bot.copy_message(ChatId(9), ChatId(100), MessageId(5))
        .await
        .unwrap();
    let sent = bot
        .send_message(ChatId(8), "hello \"there\"")
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("hello \"there\""));

    let tracks = fake.lean_tracks();
    assert_eq!(tracks.len(), 1);
    let track = &tracks[0];
    assert_eq!((track.from, track.message_id), (7, 1));
    assert!(track.handed_out.is_some());
    assert_eq!(track.copies.len(), 1);
    assert_eq!(track.copies[0].0, 8);
    assert!(track.copies[0].1 >= track.injected);
    let counts = fake.lean_counts();
    assert_eq!(
        (
            counts.copy_message,
            counts.copy_untracked,
            counts.send_message
        ),
        (2, 1, 1)
    );
    assert_eq!(counts.updates_handed_out, 2);
    assert!(fake.lean_first_poll().is_some());

    fake.lean_reset();
    assert!(fake.lean_tracks().is_empty());
    assert_eq!(fake.lean_counts().copy_message, 0);
}

#[tokio::test]
async fn a_lean_long_poll_wakes_on_a_push_and_a_newer_poll_ends_it() {
    let fake = FakeBotApi::start_lean().await;
    let bot = fake.bot();
    let waiting = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    fake.lean_push([LeanUpdate {
        json: text_update(7, 1, "hi"),
        track: None,
    }]);
    let woke = tokio::time::timeout(Duration::from_secs(2), waiting).await;
    assert_eq!(woke.expect("woken at once").unwrap().unwrap().len(), 1);

    let offset = (FakeBotApi::FIRST_UPDATE_ID + 1) as i32;
    let first = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().offset(offset).timeout(10).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = bot.get_updates().offset(offset).timeout(0).await.unwrap();
    assert!(second.is_empty());
    assert!(first.await.unwrap().is_err(), "the older poll gets 409");
}
