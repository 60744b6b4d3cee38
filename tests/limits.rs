//! Time and rate limits, end to end: idle chats end, long searches stop,
//! floods are refused, and Telegram's own limits are respected.

mod support;

use randchat::i18n::Text;
use std::time::{Duration, Instant};
use support::{chatting, spawn_app_with, Delivery, Inbox};

#[tokio::test]
async fn an_idle_chat_ends_and_both_are_told() {
    let app = spawn_app_with(&[("CHAT_IDLE_TIMEOUT", "2")]).await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, mut to_b) = chatting(&fake, 9001, 9002).await;
    to_a.expect_text(Text::ChatIdleEnded).await;
    to_b.expect_text(Text::ChatIdleEnded).await;
    a.send_text("still there?");
    to_a.expect_text(Text::NotInChat).await;
}

#[tokio::test]
async fn a_long_search_stops_and_the_user_is_told() {
    let app = spawn_app_with(&[("SEARCH_TIMEOUT", "2")]).await;
    let fake = app.fake.clone();
    let a = fake.user(9101, "Ann", None);
    let mut to_a = Inbox::new(&fake, 9101);
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
    to_a.expect_text(Text::SearchTimedOut).await;
    let b = fake.user(9102, "Ben", None);
    b.send_command("/chat");
    Inbox::new(&fake, 9102).expect_text(Text::Searching).await;
}

#[tokio::test]
async fn a_flood_is_refused_with_one_warning_and_others_are_unaffected() {
    let app = spawn_app_with(&[("MESSAGE_RATE_LIMIT", "5")]).await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 9201, 9202).await;
    let sent: Vec<i64> = (0..12).map(|i| a.send_text(&format!("spam {i}"))).collect();
    to_a.expect_text(Text::SlowDownMessages).await;
    // Sends to different chats go out in parallel: wait for B's copies
    // themselves, not only for B's reply to reach A.
    for message in &sent[..5] {
        to_b.expect_copy(9201, *message).await;
    }
    let reply = b.send_text("calm down");
    to_a.expect_copy(9202, reply).await;
    let copies = fake
        .received(9202)
        .iter()
        .filter(|d| matches!(d, Delivery::Copy { .. }))
        .count();
    assert_eq!(copies, 5, "only the allowance is relayed");
    let warnings = fake
        .texts_to(9201)
        .iter()
        .filter(|t| *t == Text::SlowDownMessages.render())
        .count();
    assert_eq!(warnings, 1, "one warning, not one per message");
    assert_eq!(sent.len(), 12);
}

#[tokio::test]
async fn the_throttle_keeps_one_chat_near_one_message_a_second() {
    let app = spawn_app_with(&[("THROTTLE", "on"), ("THROTTLE_CHAT_BURST", "1")]).await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 9301, 9302).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // let B's bucket refill
    let sent: Vec<i64> = (0..4).map(|i| a.send_text(&format!("m{i}"))).collect();
    let start = Instant::now();
    for message in &sent {
        to_b.expect_copy(9301, *message).await;
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(2900),
        "4 copies to one chat took only {elapsed:?}"
    );
    let copies = fake.requests_for("copyMessage");
    let gaps: Vec<_> = copies.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(900)),
        "gaps {gaps:?}"
    );
}
