//! End to end: the real binary, the fake Bot API, simulated strangers.

mod support;

use randchat::i18n::Text;
use support::{spawn_app, Delivery, Inbox, SimKind};

#[tokio::test]
async fn strangers_pair_relay_every_kind_skip_and_leave() {
    let app = spawn_app().await;
    let fake = &app.fake;
    let (a, b, c) = (
        fake.user(1001, "Alice", Some("alice_a")),
        fake.user(1002, "Bob", Some("bob_b")),
        fake.user(1003, "Carol", None),
    );
    let (mut to_a, mut to_b, mut to_c) = (
        Inbox::new(fake, 1001),
        Inbox::new(fake, 1002),
        Inbox::new(fake, 1003),
    );

    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
    b.send_command("/search");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;

    for kind in SimKind::ALL.into_iter().filter(|k| *k != SimKind::Command) {
        let from_a = a.send_kind(kind);
        let copy = to_b.expect_copy(1001, from_a).await;
        assert!(
            matches!(copy, Delivery::Copy { caption: None, .. }),
            "{kind:?}: the caption and its formatting must be the original's"
        );
        let from_b = b.send_kind(kind);
        to_a.expect_copy(1002, from_b).await;
    }

    a.send_command("/next");
    to_b.expect_text(Text::PartnerLeft).await;
    to_a.expect_text(Text::SearchingAgain).await;

    c.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_c.expect_text(Text::PartnerFound).await;
    let hello = c.send_text("hello from C");
    to_a.expect_copy(1003, hello).await;

    c.send_command("/stop");
    to_a.expect_text(Text::PartnerLeft).await;
    to_c.expect_text(Text::YouLeftChat).await;

    a.send_text("is anyone there?");
    to_a.expect_text(Text::NotInChat).await;
    assert!(
        fake.requests_for("forwardMessage").is_empty(),
        "forwardMessage reveals the sender"
    );
    assert!(
        to_b.unread()
            .iter()
            .all(|d| !matches!(d, Delivery::Copy { .. })),
        "B got a message after leaving: {:?}",
        to_b.unread()
    );
}

#[tokio::test]
async fn every_state_answers_every_command() {
    let app = spawn_app().await;
    let fake = &app.fake;
    let (a, b) = (fake.user(2001, "Ann", None), fake.user(2002, "Ben", None));
    let mut to_a = Inbox::new(fake, 2001);

    a.send_command("/start");
    to_a.expect_text(Text::Welcome).await;
    a.send_command("/help");
    to_a.expect_text(Text::Help).await;
    a.send_command("/stop");
    to_a.expect_text(Text::NothingToStop).await;
    a.send_command("/report");
    to_a.expect_text(Text::NothingToReport).await;
    a.send_command("/frobnicate");
    to_a.expect_text(Text::UnknownCommand).await;

    a.send_command("/chat@randchat_test_bot");
    to_a.expect_text(Text::Searching).await;
    a.send_command("/chat");
    to_a.expect_text(Text::AlreadySearching).await;
    a.send_text("hello?");
    to_a.expect_text(Text::StillSearching).await;
    a.send_command("/stop");
    to_a.expect_text(Text::SearchStopped).await;

    a.send_command("/next");
    to_a.expect_text(Text::Searching).await;
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    a.send_command("/chat");
    to_a.expect_text(Text::AlreadyChatting).await;
    a.send_command("/start");
    to_a.expect_text(Text::StatusChatting).await;
}

#[tokio::test]
async fn a_message_that_cannot_be_copied_gets_a_polite_reply() {
    let app = spawn_app().await;
    let fake = &app.fake;
    let (a, b) = (fake.user(3001, "Ann", None), fake.user(3002, "Ben", None));
    let mut to_a = Inbox::new(fake, 3001);
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    a.send_content(serde_json::json!({
        "game": {
            "title": "Snake",
            "description": "A game",
            "photo": [{"file_id": "g1", "file_unique_id": "g1u", "width": 64, "height": 64}]
        }
    }));
    to_a.expect_text(Text::UnsupportedMessage).await;
    assert!(fake
        .received(3002)
        .iter()
        .all(|d| !matches!(d, Delivery::Copy { .. })));
}

#[tokio::test]
async fn groups_and_channels_are_told_and_left() {
    let app = spawn_app().await;
    let fake = &app.fake;
    let owner = fake.user(4001, "Owner", None);
    let group = fake.supergroup(-100_777, "Some group");
    group.add_bot(&owner);
    let mut to_group = Inbox::new(fake, -100_777);
    to_group.expect_text(Text::PrivateChatsOnly).await;
    fake.wait_for(
        "leaveChat for the group",
        support::inbox::PATIENCE,
        |requests| {
            requests
                .iter()
                .any(|r| r.method_lc == "leavechat" && r.params["chat_id"] == -100_777)
        },
    )
    .await;
}

#[tokio::test]
async fn the_command_menu_is_registered_at_start_up() {
    let app = spawn_app().await;
    let calls = app.fake.requests_for("setMyCommands");
    let commands = &calls.last().expect("setMyCommands was called").params["commands"];
    let names: Vec<_> = commands
        .as_array()
        .expect("a list of commands")
        .iter()
        .map(|c| c["command"].as_str().unwrap_or_default().to_owned())
        .collect();
    for wanted in [
        "chat", "next", "stop", "report", "help", "start", "settings",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} missing from {names:?}"
        );
    }
}
