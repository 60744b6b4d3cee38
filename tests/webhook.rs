//! Webhook mode end to end: the fake Bot API POSTs updates to the bot the
//! way Telegram does, with the secret header, retrying until it gets a 2xx.
//!
//! These run the real binary; `tests/webhook_ack.rs` runs the update loop
//! in process over a store the test controls, for the acknowledgement
//! timing (no 200 before the commit, 5xx on a failed commit, a crash
//! between the commit and the 200).

mod support;

use randchat::i18n::Text;
use serde_json::json;
use std::time::Duration;
use support::app::unstarted_app;
use support::webhook::wait_for_attempts;
use support::{Delivery, FakeBotApi, Inbox, SimUser, TestApp};
use teloxide::prelude::Requester;

const SECRET: &str = "test-Secret_0123456789";

/// A port nobody listens on at the moment (the bot binds it right after).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A bot in webhook mode on a free port. The port goes in `WEBHOOK_URL`
/// too, so it is chosen before the bot starts; if another process takes it
/// in between, the bot exits with "Address already in use" and the next
/// attempt picks another port.
async fn webhook_app() -> TestApp {
    let mut last_failure = String::new();
    for _ in 0..5 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/telegram");
        let listen = format!("127.0.0.1:{port}");
        let mut app = unstarted_app(&[
            ("WEBHOOK_URL", &url),
            ("WEBHOOK_SECRET", SECRET),
            ("WEBHOOK_LISTEN", &listen),
        ])
        .await;
        match app.try_start().await {
            Ok(()) => return app,
            Err(failure) if failure.contains("Address already in use") => last_failure = failure,
            Err(failure) => panic!("{failure}"),
        }
    }
    panic!("no free port for the webhook in 5 attempts: {last_failure}");
}

/// A private-chat text message from `user`, as Telegram would POST it.
fn text_update(user: &SimUser, message_id: i64, text: &str) -> serde_json::Value {
    let mut message = json!({"message_id": message_id, "from": user.user_json(),
                             "chat": user.chat_json(), "date": 1_700_000_000, "text": text});
    if text.starts_with('/') {
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": text.len()}]);
    }
    json!({ "message": message })
}

#[tokio::test]
async fn a_whole_chat_runs_over_the_webhook_and_survives_a_crash() {
    let mut app = webhook_app().await;
    let fake = app.fake.clone();
    let set = fake.requests_for("setWebhook");
    let params = &set.last().expect("setWebhook was called").params;
    assert_eq!(params["secret_token"], json!(SECRET));
    assert_eq!(params["max_connections"], json!(1));
    let allowed = params["allowed_updates"].to_string();
    for kind in [
        "message",
        "edited_message",
        "message_reaction",
        "callback_query",
    ] {
        assert!(allowed.contains(kind), "{kind} missing from {allowed}");
    }
    assert!(fake.webhook_url().unwrap().ends_with("/telegram"));

    let (a, b) = (fake.user(7001, "Ann", None), fake.user(7002, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 7001), Inbox::new(&fake, 7002));
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("hello over a webhook");
    to_b.expect_copy(7001, hello).await;
    let photo = b.send_photo("a photo back");
    to_a.expect_copy(7002, photo).await;

    app.restart().await; // kill -9, then start again on the same data
    let after = a.send_text("still paired after the crash");
    to_b.expect_copy(7001, after).await;
    a.send_command("/stop");
    to_a.expect_text(Text::YouLeftChat).await;
    to_b.expect_text(Text::PartnerLeft).await;

    assert!(
        fake.webhook_attempts()
            .iter()
            .all(|(_, status)| *status == 200),
        "every delivery answered 200: {:?}",
        fake.webhook_attempts()
    );
    let polled = fake.requests_for("getUpdates");
    assert!(polled.is_empty(), "webhook mode never polls: {polled:?}");
    let info = fake.bot().get_webhook_info().await.unwrap();
    assert!(info.url.unwrap().as_str().ends_with("/telegram"));
    assert_eq!(info.max_connections, Some(1));
    assert_eq!(info.pending_update_count, 0, "everything was acknowledged");
    assert!(fake.requests_for("forwardMessage").is_empty());
}

#[tokio::test]
async fn a_wrong_or_missing_secret_gets_401_and_changes_nothing() {
    let app = webhook_app().await;
    let fake = &app.fake;
    let (x, y) = (fake.user(7101, "Xan", None), fake.user(7102, "Yul", None));
    for secret in [Some("not-the-secret"), Some(""), None] {
        let (_, status) = fake
            .post_to_webhook(text_update(&x, 1, "/chat"), secret)
            .await;
        assert_eq!(status, 401, "secret {secret:?}");
    }
    // Had any of them been applied, X would be waiting and Y paired at once.
    let mut to_y = Inbox::new(fake, 7102);
    y.send_command("/chat");
    to_y.expect_text(Text::Searching).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.received(7101).is_empty(), "{:?}", fake.received(7101));
    assert!(
        !to_y.unread().iter().any(
            |d| matches!(d, Delivery::Text { text, .. } if *text == Text::PartnerFound.render())
        ),
        "{:?}",
        to_y.unread()
    );
    // The right secret, sent by hand, is accepted.
    let (_, status) = fake
        .post_to_webhook(text_update(&x, 2, "/chat"), Some(SECRET))
        .await;
    assert_eq!(status, 200);
    Inbox::new(fake, 7101).expect_text(Text::PartnerFound).await;
}

#[tokio::test]
async fn an_update_delivered_twice_is_applied_once() {
    let app = webhook_app().await;
    let fake = &app.fake;
    let (a, b) = (fake.user(7201, "Ann", None), fake.user(7202, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(fake, 7201), Inbox::new(fake, 7202));
    a.send_command("/chat");
    let search = fake.last_update_id().unwrap();
    to_a.expect_text(Text::Searching).await;
    // The reply can arrive before the fake has seen the 200: wait for it.
    wait_for_attempts(fake, search, 200, 1).await;
    fake.deliver_again(search);
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let hello = a.send_text("only once, please");
    let relay = fake.last_update_id().unwrap();
    to_b.expect_copy(7201, hello).await;
    wait_for_attempts(fake, relay, 200, 1).await;
    fake.deliver_again(relay);
    wait_for_attempts(fake, relay, 200, 2).await;
    let attempts = fake.webhook_attempts();
    let twice = |id| {
        attempts
            .iter()
            .filter(|(u, s)| *u == id && *s == 200)
            .count()
    };
    assert_eq!(twice(relay), 2, "{attempts:?}");
    assert_eq!(twice(search), 2, "{attempts:?}");
    // Something after the duplicate proves the duplicate was processed.
    let later = b.send_text("after the duplicate");
    to_a.expect_copy(7202, later).await;
    let copies = fake
        .received(7202)
        .into_iter()
        .filter(|d| matches!(d, Delivery::Copy { message_id, .. } if *message_id == hello))
        .count();
    assert_eq!(copies, 1, "the retried relay was copied again");
    let searching = fake.texts_to(7201);
    let searching = searching.iter().filter(|t| **t == Text::Searching.render());
    assert_eq!(searching.count(), 1, "the retried /chat was answered again");
}

#[tokio::test]
async fn long_polling_deletes_a_leftover_webhook() {
    let fake = FakeBotApi::start().await;
    // A webhook someone left on the token, pointing nowhere.
    let nowhere = format!("http://127.0.0.1:{}/gone", free_port());
    fake.bot()
        .set_webhook(nowhere.parse().unwrap())
        .await
        .unwrap();
    let mut app = support::app::app_on(&fake);
    app.start().await;
    assert_eq!(fake.webhook_url(), None, "the webhook is still set");
    let user = fake.user(7401, "Ann", None);
    user.send_command("/chat");
    Inbox::new(&fake, 7401).expect_text(Text::Searching).await;
    let refused = fake.requests_for("getUpdates");
    assert!(!refused.is_empty());
}

#[tokio::test]
async fn a_bad_or_missing_secret_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            vec![("WEBHOOK_URL", "https://bot.example.com/tg")],
            "WEBHOOK_SECRET is missing",
        ),
        (
            vec![
                ("WEBHOOK_URL", "https://bot.example.com/tg"),
                ("WEBHOOK_SECRET", "no spaces"),
            ],
            "WEBHOOK_SECRET: expected 1 to 256 characters",
        ),
        (
            vec![
                ("WEBHOOK_URL", "http://bot.example.com/tg"),
                ("WEBHOOK_SECRET", "ok"),
            ],
            "WEBHOOK_URL: Telegram delivers only to https://",
        ),
    ];
    for (env, expected) in cases {
        let output = support::app::bot_command("http://127.0.0.1:9", dir.path())
            .envs(env)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!err.contains("no spaces"), "the secret is echoed: {err}");
    }
}
