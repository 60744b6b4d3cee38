//! Whatever Telegram sends, the bot neither panics nor strands anyone.

mod support;

use randchat::i18n::Text;
use serde_json::Value;
use support::{spawn_app, Fault, Inbox};

#[tokio::test]
async fn every_kind_of_update_goes_through_and_the_bot_keeps_serving() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    fake.ignore_allowed_updates();
    let (a, b) = (
        fake.user(4242, "Fuzz", Some("fuzzer")),
        fake.user(4343, "Ben", None),
    );
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 4242), Inbox::new(&fake, 4343));
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;

    let corpus: Vec<Value> = serde_json::from_str(include_str!("corpus/updates.json")).unwrap();
    let mut last = 0;
    for update in corpus {
        last = fake.push_update(update);
    }
    let huge = a.send_text(&"x".repeat(100_000));
    fake.wait_until_confirmed(last, support::inbox::PATIENCE)
        .await;

    to_b.expect_copy(4242, huge).await;
    let hello = b.send_text("still here");
    to_a.expect_copy(4343, hello).await;
    let logs = app.logs();
    assert!(!logs.contains("panicked"), "the bot panicked:\n{logs}");
}

#[tokio::test]
async fn malformed_json_from_the_api_is_retried() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    fake.fail_next("getUpdates", Fault::Garbage);
    fake.fail_next("getUpdates", Fault::Garbage);
    let deadline = std::time::Instant::now() + support::inbox::PATIENCE;
    while !app.logs().contains("getUpdates failed; retrying") {
        assert!(
            std::time::Instant::now() < deadline,
            "no retry logged:\n{}",
            app.logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let a = fake.user(4444, "Ann", None);
    let mut to_a = Inbox::new(&fake, 4444);
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
}
