//! Restarts and what survives them: pairs, searchers, reports.

mod support;

use randchat::i18n::Text;
use support::{chatting, spawn_app, Delivery, FakeBotApi, Inbox};

#[tokio::test]
async fn a_pair_keeps_relaying_after_the_bot_is_killed() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 5001, 5002).await;
    let before = a.send_text("before the crash");
    to_b.expect_copy(5001, before).await;

    app.kill();
    let while_down = a.send_text("sent while the bot was down");
    app.start().await;

    to_b.expect_copy(5001, while_down).await;
    let after = b.send_text("after the restart");
    to_a.expect_copy(5002, after).await;
    b.send_command("/stop");
    to_a.expect_text(Text::PartnerLeft).await;
}

#[tokio::test]
async fn a_searcher_keeps_searching_across_a_restart() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(6001, "Ann", None), fake.user(6002, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 6001), Inbox::new(&fake, 6002));
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;

    app.restart().await;
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
}

#[tokio::test]
async fn a_restart_does_not_relay_old_messages_again() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(6101, "Ann", None), fake.user(6102, "Ben", None));
    let mut to_b = Inbox::new(&fake, 6102);
    a.send_command("/chat");
    b.send_command("/chat");
    to_b.expect_text(Text::PartnerFound).await;
    let message = a.send_text("only once");
    to_b.expect_copy(6101, message).await;

    // A clean stop: the update may still be unconfirmed at Telegram, so it
    // comes again after the start and must be recognised as applied. (After
    // a kill -9 a send in flight may repeat; tests/crash.rs covers that.)
    assert!(app.terminate().await.success());
    app.start().await;
    let later = a.send_text("later");
    to_b.expect_copy(6101, later).await;
    let copies_of_first = fake
        .received(6102)
        .iter()
        .filter(|d| matches!(d, Delivery::Copy { message_id, .. } if *message_id == message))
        .count();
    assert_eq!(copies_of_first, 1, "the first message was relayed twice");
}

#[tokio::test]
async fn a_report_is_stored_and_the_reported_user_is_not_told() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(7001, "Ann", None), fake.user(7002, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 7001), Inbox::new(&fake, 7002));
    a.send_command("/chat");
    b.send_command("/chat");
    to_b.expect_text(Text::PartnerFound).await;
    b.send_command("/stop");
    to_a.expect_text(Text::PartnerLeft).await;
    to_b.expect_text(Text::YouLeftChat).await;
    // Both are asked to rate the chat that ended; nothing after that.
    to_b.expect_text(Text::RatingAsk).await;
    support::report_with_reason(&a, &mut to_a, "report:scam").await;

    let status = app.terminate().await;
    assert!(
        status.success(),
        "SIGTERM should end the bot cleanly, got {status}"
    );
    assert!(
        to_b.unread()
            .iter()
            .all(|d| !matches!(d, Delivery::Text { .. })),
        "the reported user was told something: {:?}",
        to_b.unread()
    );
    let store = app.open_store().await;
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.reports, 1);
    assert_eq!(stats.pairs, 0);
}

/// What the inbox is for: the bot fetched batches, kept them in its inbox
/// and confirmed them to Telegram with its next polls, then died before
/// their commits. Telegram will not deliver them again; the inbox does, in
/// order. The test plays the dead bot's part: it polls the fake itself,
/// keeps each answer with the bot's own inbox code and confirms it.
#[tokio::test]
async fn batches_kept_in_the_inbox_but_not_applied_are_applied_after_a_kill() {
    if support::app::skip_on_redis("the inbox belongs to the embedded store") {
        return;
    }
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 7101, 7102).await;
    app.kill();

    let get_updates = |offset: i64| {
        let url = format!("{}/bot{}/getUpdates", fake.url(), FakeBotApi::TOKEN);
        let body = serde_json::json!({ "offset": offset, "timeout": 0 });
        async move {
            let answer = reqwest::Client::new().post(url).json(&body).send().await;
            answer.expect("getUpdates").bytes().await.expect("answer")
        }
    };
    let (inbox, _) = randchat::telegram::inbox::Inbox::open(&app.data_dir()).expect("inbox");
    // Two batches, the later one in the lower slot: order comes from the
    // update ids, not from the files.
    let mut kept = Vec::new();
    for (text, slot) in [("first, kept", 3), ("second, kept", 0)] {
        let message = a.send_text(text);
        let update_id = fake.last_update_id().expect("the message's update");
        let answer = get_updates(update_id).await;
        assert!(String::from_utf8_lossy(&answer).contains(text));
        inbox.slot(slot).keep(&answer).expect("kept");
        get_updates(update_id + 1).await;
        // (The killed bot's long poll may have been handed it too.)
        kept.push((message, update_id, fake.times_handed_out(update_id)));
    }
    assert!(
        fake.pending_update_ids().is_empty(),
        "Telegram still had them"
    );

    app.start().await;
    for (message, _, _) in &kept {
        to_b.expect_copy(7101, *message).await;
    }
    for (_, update_id, handed_out) in &kept {
        let again = fake.times_handed_out(*update_id);
        assert_eq!(again, *handed_out, "Telegram delivered it again");
    }
    assert!(app.logs().contains("applying updates kept in the inbox"));

    // Applied once: a clean restart does not apply them again.
    assert!(app.terminate().await.success());
    app.start().await;
    let later = a.send_text("later");
    to_b.expect_copy(7101, later).await;
    for (message, _, _) in &kept {
        let copy =
            |d: &&Delivery| matches!(d, Delivery::Copy { message_id, .. } if message_id == message);
        assert_eq!(fake.received(7102).iter().filter(copy).count(), 1);
    }
}
