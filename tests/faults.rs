//! Telegram misbehaves; nothing is lost, nothing is doubled, pairs stay whole.
//!
//! Each test injects one kind of fault into the fake Bot API at the moment
//! a message is relayed, then checks what the users see.

mod support;

use randchat::i18n::Text;
use std::time::Duration;
use support::{chatting, spawn_app, Delivery, FakeBotApi, Fault, Inbox};

fn copies_of(fake: &FakeBotApi, chat: i64, message: i64) -> usize {
    fake.received(chat)
        .iter()
        .filter(|d| matches!(d, Delivery::Copy { message_id, .. } if *message_id == message))
        .count()
}

async fn relayed_exactly_once_despite(fault: Fault) {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, _to_a, mut to_b) = chatting(&fake, 8001, 8002).await;
    fake.fail_next("copyMessage", fault.clone());
    let message = a.send_text("through the storm");
    to_b.expect_copy(8001, message).await;
    let after = b.send_text("and back");
    let mut to_a = Inbox::new(&fake, 8001);
    to_a.expect_copy(8002, after).await;
    assert_eq!(
        copies_of(&fake, 8002, message),
        1,
        "{fault:?}: copies of the message"
    );
}

#[tokio::test]
async fn a_429_is_waited_out() {
    relayed_exactly_once_despite(Fault::RetryAfter(1)).await;
}

#[tokio::test]
async fn a_connection_reset_is_retried() {
    relayed_exactly_once_despite(Fault::Reset).await;
}

#[tokio::test]
async fn a_server_error_is_retried() {
    relayed_exactly_once_despite(Fault::ServerError).await;
}

#[tokio::test]
async fn a_blocked_partner_ends_the_chat_and_the_sender_is_told() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, _to_b) = chatting(&fake, 8101, 8102).await;
    fake.block_chat(8102);
    a.send_text("are you there?");
    to_a.expect_text(Text::PartnerLeft).await;
    a.send_text("hello?");
    to_a.expect_text(Text::NotInChat).await;
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
}

#[tokio::test]
async fn a_forbidden_answer_in_new_words_counts_as_blocked() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, _to_b) = chatting(&fake, 8201, 8202).await;
    fake.fail_next(
        "copyMessage",
        Fault::Api {
            code: 403,
            description: "Forbidden: user is gone in a way teloxide has no name for".into(),
        },
    );
    a.send_text("hi");
    to_a.expect_text(Text::PartnerLeft).await;
}

#[tokio::test]
async fn a_refused_copy_is_reported_to_the_sender_and_the_chat_goes_on() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 8301, 8302).await;
    fake.fail_next(
        "copyMessage",
        Fault::Api {
            code: 400,
            description: "Bad Request: message can't be copied".into(),
        },
    );
    a.send_text("this one fails");
    to_a.expect_text(Text::DeliveryFailed).await;
    let next = a.send_text("this one works");
    to_b.expect_copy(8301, next).await;
    let back = b.send_text("got it");
    to_a.expect_copy(8302, back).await;
}

#[tokio::test]
async fn sigterm_finishes_the_send_in_flight_and_exits_cleanly() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 8401, 8402).await;
    fake.fail_next("copyMessage", Fault::Hang(Duration::from_secs(2)));
    let message = a.send_text("last words");
    fake.wait_for(
        "the copy to be under way",
        support::inbox::PATIENCE,
        |requests| requests.iter().any(|r| r.method_lc == "copymessage"),
    )
    .await;
    let started = std::time::Instant::now();
    let status = app.terminate().await;
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    to_b.expect_copy(8401, message).await;
}

#[tokio::test]
async fn a_hang_past_the_client_timeout_is_retried() {
    relayed_exactly_once_despite(Fault::Hang(Duration::from_secs(30))).await;
}
