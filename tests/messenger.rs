//! Chatting like a messenger: replies, edits, reactions, unsend and
//! protected content, end to end through the fake Bot API.

mod support;

use randchat::i18n::Text;
use support::{chatting, spawn_app, spawn_app_with, Delivery, FakeBotApi};

/// The id of the copy of `message` (sent by `from`) in `to`'s chat.
async fn copy_id(to_inbox: &mut support::Inbox, from: i64, message: i64) -> i64 {
    match to_inbox.expect_copy(from, message).await {
        Delivery::Copy { sent_id, .. } => sent_id,
        other => panic!("not a copy: {other:?}"),
    }
}

fn reply_target(fake: &FakeBotApi, from: i64, message: i64) -> Option<i64> {
    fake.requests_for("copyMessage")
        .iter()
        .find(|r| r.params["from_chat_id"] == from && r.params["message_id"] == message)
        .and_then(|r| r.params["reply_parameters"]["message_id"].as_i64())
}

#[tokio::test]
async fn replies_point_at_the_partners_copy_in_both_directions() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 12_001, 12_002).await;
    let question = a.send_text("how are you?");
    let question_copy = copy_id(&mut to_b, 12_001, question).await;

    let answer = b.reply_text(question_copy, "fine, and you?");
    let answer_copy = copy_id(&mut to_a, 12_002, answer).await;
    assert_eq!(
        reply_target(&fake, 12_002, answer),
        Some(question),
        "B's reply points at A's original"
    );

    let again = a.reply_text(answer_copy, "great");
    to_b.expect_copy(12_001, again).await;
    assert_eq!(
        reply_target(&fake, 12_001, again),
        Some(answer),
        "A's reply points at B's original"
    );
}

#[tokio::test]
async fn edits_reach_the_copy_and_an_uneditable_copy_gets_the_new_version_as_a_reply() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 12_101, 12_102).await;
    let typo = a.send_text("helo");
    let typo_copy = copy_id(&mut to_b, 12_101, typo).await;
    a.edit_text(typo, "hello");
    to_b.expect("the edit", |d| matches!(d, Delivery::Edit { message_id, text } if *message_id == typo_copy && text == "hello"))
        .await;

    let photo = a.send_photo("old caption");
    let photo_copy = copy_id(&mut to_b, 12_101, photo).await;
    a.edit_caption(photo, "new caption");
    to_b.expect("the caption edit", |d| {
        matches!(d, Delivery::Edit { message_id, text } if *message_id == photo_copy && text == "new caption")
    })
    .await;

    // A replaced photo replaces the photo in the copy (editMessageMedia).
    a.replace_photo(photo, "AgACAgIAAxkBAAnewphoto", "another view");
    to_b.expect("the media edit", |d| {
        matches!(d, Delivery::Edit { message_id, text } if *message_id == photo_copy && text == "another view")
    })
    .await;
    let copy = fake.message(12_102, photo_copy).expect("the copy");
    assert_eq!(
        copy["photo"][0]["file_id"], "AgACAgIAAxkBAAnewphoto",
        "{copy}"
    );
    assert_eq!(
        fake.requests_for("editMessageMedia").len(),
        2,
        "the caption edit and the new photo"
    );

    fake.fail_next(
        "editMessageText",
        support::Fault::Api {
            code: 400,
            description: "Bad Request: message can't be edited".into(),
        },
    );
    a.edit_text(typo, "hello there");
    let marker = format!("{} hello there", Text::EditedMarker.render());
    to_b.expect(
        "the new version as a reply",
        |d| matches!(d, Delivery::Text { text, .. } if *text == marker),
    )
    .await;
    let sent = fake.requests_for("sendMessage");
    let fallback = sent
        .iter()
        .find(|r| r.params["text"] == marker.as_str())
        .expect("sent");
    assert_eq!(fallback.params["reply_parameters"]["message_id"], typo_copy);
}

#[tokio::test]
async fn reactions_are_mirrored_and_removed() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 12_201, 12_202).await;
    let joke = a.send_text("a joke");
    let joke_copy = copy_id(&mut to_b, 12_201, joke).await;
    b.react(joke_copy, "😂");
    to_a.expect("the reaction", |d| matches!(d, Delivery::Reaction { message_id, emoji } if *message_id == joke && emoji == &["😂"]))
        .await;
    b.react(joke_copy, "");
    to_a.expect("the reaction removed", |d| matches!(d, Delivery::Reaction { message_id, emoji } if *message_id == joke && emoji.is_empty()))
        .await;
}

#[tokio::test]
async fn delete_unsends_ones_own_message_only() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 12_301, 12_302).await;
    let oops = a.send_text("sent to the wrong person");
    let oops_copy = copy_id(&mut to_b, 12_301, oops).await;
    let theirs = b.send_text("mine");
    let theirs_copy = copy_id(&mut to_a, 12_302, theirs).await;

    a.reply_command(theirs_copy, "/delete");
    to_a.expect_text(Text::DeleteHowTo).await;
    a.reply_command(oops, "/delete");
    to_b.expect(
        "the copy deleted",
        |d| matches!(d, Delivery::Delete { message_id } if *message_id == oops_copy),
    )
    .await;
    to_a.expect_text(Text::Deleted).await;
    assert!(
        !fake
            .received(12_301)
            .iter()
            .any(|d| matches!(d, Delivery::Delete { .. })),
        "nothing of A's was deleted"
    );
    a.send_command("/delete");
    to_a.expect_text(Text::DeleteHowTo).await;
}

#[tokio::test]
async fn protected_content_is_requested_on_every_copy() {
    let app = spawn_app_with(&[("PROTECT_CONTENT", "on")]).await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 12_401, 12_402).await;
    let message = a.send_text("don't forward this");
    to_b.expect_copy(12_401, message).await;
    let copies = fake.requests_for("copyMessage");
    assert!(!copies.is_empty());
    assert!(copies.iter().all(|r| r.params["protect_content"] == true));
}

#[tokio::test]
async fn an_album_arrives_as_one_copy_messages_call_in_order() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 12_501, 12_502).await;
    let photos = a.send_album(3);
    for photo in &photos {
        to_b.expect_copy(12_501, *photo).await;
    }
    let calls = fake.requests_for("copyMessages");
    assert_eq!(calls.len(), 1, "one call for the whole album");
    let ids: Vec<i64> = calls[0].params["message_ids"]
        .as_array()
        .expect("message_ids")
        .iter()
        .filter_map(|id| id.as_i64())
        .collect();
    assert_eq!(ids, photos, "in order");
    assert!(
        fake.requests_for("copyMessage").is_empty(),
        "no photo went alone"
    );
}

#[tokio::test]
async fn a_reply_after_a_graceful_restart_still_points_at_the_copy() {
    // Links wait in memory for up to a second before they are written; a
    // stop writes them, so the thread survives a restart right after.
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 12_101, 12_102).await;
    let question = a.send_text("still there after the update?");
    let question_copy = copy_id(&mut to_b, 12_101, question).await;

    assert!(app.terminate().await.success(), "a clean stop");
    app.start().await;

    let answer = b.reply_text(question_copy, "yes");
    to_a.expect_copy(12_102, answer).await;
    assert_eq!(
        reply_target(&fake, 12_102, answer),
        Some(question),
        "the reply points at A's original"
    );
}
