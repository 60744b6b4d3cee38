//! /broadcast end to end: every known user gets the message once, a user
//! who blocked the bot counts as blocked, the admin's one progress message
//! is edited in place, and a restart mid-broadcast resumes it.

mod support;

use randchat::i18n::Text;
use std::time::Duration;
use support::{spawn_app_with, Delivery, FakeBotApi, Inbox};

const ADMIN: i64 = 9100;
const USERS: [i64; 6] = [9101, 9102, 9103, 9104, 9105, 9106];
const BLOCKER: i64 = 9107;
const MESSAGE: &str = "📢 The bot will be down for 5 minutes tonight.\nThank you!";

/// The sentence `text` renders to before its `{` placeholders.
fn prefix(text: Text) -> &'static str {
    let template = text.render();
    &template[..template.find('{').unwrap_or(template.len())]
}

fn copies_of_message(fake: &FakeBotApi, chat: i64) -> usize {
    let is_copy = |d: &Delivery| matches!(d, Delivery::Text { text, .. } if text == MESSAGE);
    fake.received(chat).iter().filter(|d| is_copy(d)).count()
}

/// The admin's progress messages (sent, not edits): (id, text).
fn progress_messages(fake: &FakeBotApi) -> Vec<(i64, String)> {
    let progress = prefix(Text::BroadcastProgress);
    fake.received(ADMIN)
        .into_iter()
        .filter_map(|d| match d {
            Delivery::Text { text, sent_id } if text.starts_with(progress) => Some((sent_id, text)),
            _ => None,
        })
        .collect()
}

/// Waits (up to 20 s) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the admin's progress message to be edited into the final
/// totals.
async fn final_totals(to_admin: &mut Inbox) -> Delivery {
    let done = prefix(Text::BroadcastDone);
    to_admin
        .expect(
            "the final totals",
            |d| matches!(d, Delivery::Edit { text, .. } if text.starts_with(done)),
        )
        .await
}

#[tokio::test]
async fn a_broadcast_reaches_everyone_once_across_a_restart() {
    let admin_ids = ADMIN.to_string();
    let mut app = spawn_app_with(&[("ADMIN_IDS", &admin_ids), ("BROADCAST_RATE", "1")]).await;
    let fake = app.fake.clone();
    let admin = fake.user(ADMIN, "Mod", None);
    let mut to_admin = Inbox::new(&fake, ADMIN);
    for id in USERS.into_iter().chain([BLOCKER]) {
        let user = fake.user(id, "User", None);
        let mut inbox = Inbox::new(&fake, id);
        user.send_command("/start");
        inbox.expect_text(Text::Welcome).await;
    }
    fake.user(BLOCKER, "User", None).block_bot();

    let stranger = fake.user(USERS[0], "User", None);
    stranger.send_command(&format!("/broadcast {MESSAGE}"));
    let mut to_stranger = Inbox::new(&fake, USERS[0]);
    to_stranger.expect_text(Text::UnknownCommand).await;
    admin.send_command("/broadcast");
    to_admin.expect_text(Text::BroadcastUsage).await;

    admin.send_command(&format!("/broadcast {MESSAGE}"));
    eventually("the progress message", || {
        !progress_messages(&fake).is_empty()
    })
    .await;
    admin.send_command("/broadcast again");
    to_admin.expect_text(Text::BroadcastBusy).await;

    // One copy a second: stop cleanly once a few have gone out.
    let reached = |fake: &FakeBotApi| {
        let everyone = USERS.into_iter().chain([ADMIN]);
        everyone
            .filter(|id| copies_of_message(fake, *id) > 0)
            .count()
    };
    eventually("a few copies", || reached(&fake) >= 2).await;
    assert!(reached(&fake) < 7, "the broadcast was not paced");
    let status = app.terminate().await;
    assert!(status.success(), "{status}");
    app.start().await;

    let finished = final_totals(&mut to_admin).await;
    let Delivery::Edit { message_id, text } = finished else {
        unreachable!()
    };
    // The admin and six users got it; the user who blocked the bot did not.
    let totals = Text::BroadcastDone.render_with(&[
        randchat::i18n::Arg::Number(7),
        randchat::i18n::Arg::Number(1),
        randchat::i18n::Arg::Number(0),
    ]);
    assert_eq!(text, totals);
    for id in USERS.into_iter().chain([ADMIN]) {
        assert_eq!(copies_of_message(&fake, id), 1, "user {id}");
    }
    assert_eq!(copies_of_message(&fake, BLOCKER), 0);

    let progress = progress_messages(&fake);
    assert_eq!(progress.len(), 1, "one progress message: {progress:?}");
    assert_eq!(progress[0].0, message_id, "the totals edit that message");
    let edits = fake
        .received(ADMIN)
        .into_iter()
        .filter(|d| matches!(d, Delivery::Edit { message_id: m, .. } if *m == message_id))
        .count();
    assert!(edits >= 2, "progress is edited in place before the totals");

    // A new broadcast may start once this one is over, and the Stop button
    // on its progress message ends it early.
    admin.send_command("/broadcast second");
    eventually("a second progress message", || {
        progress_messages(&fake).len() == 2
    })
    .await;
    let (second, _) = progress_messages(&fake)[1].clone();
    let markup = fake.message(ADMIN, second).expect("stored")["reply_markup"].to_string();
    assert!(markup.contains("bc:stop"), "{markup}");
    admin.press_button(second, "bc:stop");
    let stopped = prefix(Text::BroadcastStopped);
    // Pressed before the bot heard the progress message's id, the notice
    // comes as a message of its own; otherwise it replaces the progress.
    to_admin
        .expect("the stopped notice", |d| match d {
            Delivery::Edit { message_id, text } => {
                *message_id == second && text.starts_with(stopped)
            }
            Delivery::Text { text, .. } => text.starts_with(stopped),
            _ => false,
        })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got_second = |id: i64| {
        let second = |d: &Delivery| matches!(d, Delivery::Text { text, .. } if text == "second");
        fake.received(id).iter().any(second)
    };
    let reached = USERS
        .into_iter()
        .chain([ADMIN])
        .filter(|id| got_second(*id));
    assert!(reached.count() <= 2, "the broadcast went on after Stop");
}

#[tokio::test]
async fn a_crash_mid_broadcast_loses_nobody() {
    let admin_ids = ADMIN.to_string();
    let mut app = spawn_app_with(&[("ADMIN_IDS", &admin_ids), ("BROADCAST_RATE", "2")]).await;
    let fake = app.fake.clone();
    let admin = fake.user(ADMIN, "Mod", None);
    let mut to_admin = Inbox::new(&fake, ADMIN);
    for id in USERS {
        let user = fake.user(id, "User", None);
        user.send_command("/start");
        Inbox::new(&fake, id).expect_text(Text::Welcome).await;
    }
    admin.send_command(&format!("/broadcast {MESSAGE}"));
    let everyone = || USERS.into_iter().chain([ADMIN]);
    let reached = || {
        everyone()
            .filter(|id| copies_of_message(&fake, *id) > 0)
            .count()
    };
    eventually("a few copies", || reached() >= 2).await;
    app.kill(); // SIGKILL: no chance to finish anything
    app.start().await;

    let finished = final_totals(&mut to_admin).await;
    for id in everyone() {
        let copies = copies_of_message(&fake, id);
        assert!((1..=2).contains(&copies), "user {id} got {copies}");
    }
    let totals = Text::BroadcastDone.render_with(&[
        randchat::i18n::Arg::Number(7),
        randchat::i18n::Arg::Number(0),
        randchat::i18n::Arg::Number(0),
    ]);
    assert!(matches!(finished, Delivery::Edit { text, .. } if text == totals));
}
