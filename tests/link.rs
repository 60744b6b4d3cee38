//! /link end to end: usernames are exchanged only when both agree; a
//! refusal, a timeout or a chat that ended reveals nothing, which every
//! request the bot made (and its logs) are scanned to prove.

mod support;

use randchat::i18n::Text;
use serde_json::Value;
use std::time::Duration;
use support::{spawn_app_with, Delivery, FakeBotApi, Inbox, SimUser, TestApp};

const ANN: i64 = 7_100_000_001;
const BEN: i64 = 7_100_000_002;
const ANN_NAME: &str = "ann_secret_handle";
const BEN_NAME: &str = "ben_secret_handle";

/// Ann and Ben, both with usernames, chatting; inboxes read past "found".
async fn chatting(app: &TestApp, ben_name: Option<&str>) -> (SimUser, SimUser, Inbox, Inbox) {
    let fake = &app.fake;
    let ann = fake.user(ANN, "Ann", Some(ANN_NAME));
    let ben = fake.user(BEN, "Ben", ben_name);
    let (mut to_ann, mut to_ben) = (Inbox::new(fake, ANN), Inbox::new(fake, BEN));
    ann.send_command("/chat");
    ben.send_command("/chat");
    to_ann.expect_text(Text::PartnerFound).await;
    to_ben.expect_text(Text::PartnerFound).await;
    (ann, ben, to_ann, to_ben)
}

/// Ann sends /link; Ben is asked. Returns the question's message id.
async fn ann_asks(ann: &SimUser, to_ann: &mut Inbox, to_ben: &mut Inbox, fake: &FakeBotApi) -> i64 {
    ann.send_command("/link");
    to_ann.expect_text(Text::ShareAsked).await;
    let question = Text::ShareAsk.render();
    let asked = to_ben
        .expect(
            "the /link question",
            |d| matches!(d, Delivery::Text { text, .. } if text == question),
        )
        .await;
    let Delivery::Text { sent_id, .. } = asked else {
        unreachable!()
    };
    let buttons = fake.message(BEN, sent_id).expect("the question")["reply_markup"].to_string();
    assert!(
        buttons.contains("link:yes") && buttons.contains("link:no"),
        "{buttons}"
    );
    sent_id
}

/// Waits until `n` button presses have been answered.
async fn presses_answered(fake: &FakeBotApi, n: usize) -> Vec<Value> {
    fake.wait_for("the presses are answered", Duration::from_secs(15), |r| {
        r.iter()
            .filter(|r| r.method_lc == "answercallbackquery")
            .count()
            >= n
    })
    .await;
    fake.requests_for("answerCallbackQuery")
        .into_iter()
        .map(|r| r.params)
        .collect()
}

/// Ben says yes too late (the `nth` press the bot answers, counting from
/// 0): he is told the button expired, and once the bot has stopped no
/// request it made and no log line reveals a name.
async fn a_late_yes_reveals_nothing(mut app: TestApp, ben: &SimUser, question: i64, nth: usize) {
    ben.press_button(question, "link:yes");
    let answers = presses_answered(&app.fake, nth + 1).await;
    assert_eq!(
        answers[nth]["text"],
        Value::from(Text::ButtonExpired.render()),
        "{answers:?}"
    );
    assert!(app.terminate().await.success());
    nothing_revealed(&app);
}

/// Nothing the bot sent, and nothing it logged, names either user.
fn nothing_revealed(app: &TestApp) {
    for request in app.fake.requests() {
        let params = request.params.to_string();
        for secret in [ANN_NAME, BEN_NAME, "tg://user"] {
            assert!(
                !params.contains(secret),
                "{secret} reached Telegram in {}: {params}",
                request.method
            );
        }
        for field in ["text", "entities", "reply_markup"] {
            let value = request.params[field].to_string();
            for id in [ANN, BEN] {
                assert!(!value.contains(&id.to_string()), "{id} in {value}");
            }
        }
    }
    let logs = app.logs();
    for secret in [ANN_NAME, BEN_NAME] {
        assert!(!logs.contains(secret), "the logs contain {secret}");
    }
}

#[tokio::test]
async fn when_both_agree_each_gets_the_others_username() {
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let (_ann, ben, mut to_ann, mut to_ben) = chatting(&app, Some(BEN_NAME)).await;
    let question = ann_asks(&_ann, &mut to_ann, &mut to_ben, &fake).await;
    ben.press_button(question, "link:yes");
    let to_ann_text =
        Text::ShareRevealed.render_with(&[randchat::i18n::Arg::Plain(format!("@{BEN_NAME}"))]);
    let to_ben_text =
        Text::ShareRevealed.render_with(&[randchat::i18n::Arg::Plain(format!("@{ANN_NAME}"))]);
    to_ann
        .expect(
            "Ben's username",
            |d| matches!(d, Delivery::Text { text, .. } if *text == to_ann_text),
        )
        .await;
    to_ben
        .expect(
            "Ann's username",
            |d| matches!(d, Delivery::Text { text, .. } if *text == to_ben_text),
        )
        .await;
    // Each learns only the other's name, never their own shown to the
    // other twice or to anyone else.
    let texts = fake.texts_to(ANN).join("\n");
    assert!(!texts.contains(ANN_NAME), "{texts}");
}

#[tokio::test]
async fn a_partner_without_a_username_is_given_as_a_profile_link() {
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let (ann, ben, mut to_ann, mut to_ben) = chatting(&app, None).await;
    let question = ann_asks(&ann, &mut to_ann, &mut to_ben, &fake).await;
    ben.press_button(question, "link:yes");
    let template = Text::ShareRevealed.render();
    let (before, _) = template.split_once("{0}").unwrap();
    let revealed = to_ann
        .expect(
            "a link to Ben's profile",
            |d| matches!(d, Delivery::Text { text, .. } if text.starts_with(before)),
        )
        .await;
    let Delivery::Text { text, sent_id } = revealed else {
        unreachable!()
    };
    assert!(text.contains(Text::ShareProfileLink.render()), "{text}");
    let entities = fake.message(ANN, sent_id).expect("the reveal")["entities"].to_string();
    assert!(
        entities.contains(&format!("tg://user?id={BEN}")),
        "{entities}"
    );
    let ann_to_ben =
        Text::ShareRevealed.render_with(&[randchat::i18n::Arg::Plain(format!("@{ANN_NAME}"))]);
    to_ben
        .expect(
            "Ann's username",
            |d| matches!(d, Delivery::Text { text, .. } if *text == ann_to_ben),
        )
        .await;
}

#[tokio::test]
async fn a_refusal_reveals_nothing_to_anyone() {
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let (ann, ben, mut to_ann, mut to_ben) = chatting(&app, Some(BEN_NAME)).await;
    let question = ann_asks(&ann, &mut to_ann, &mut to_ben, &fake).await;
    ben.press_button(question, "link:no");
    to_ann.expect_text(Text::ShareDeclined).await;
    to_ben.expect_text(Text::ShareDeclinedYou).await;
    ann.send_text("still there?");
    to_ben
        .expect(
            "a later message",
            |d| matches!(d, Delivery::Copy { from_chat_id, .. } if *from_chat_id == ANN),
        )
        .await;
    // A change of heart on the same question is too late.
    a_late_yes_reveals_nothing(app, &ben, question, 1).await;
}

#[tokio::test]
async fn an_unanswered_request_expires_and_reveals_nothing() {
    let app = spawn_app_with(&[("LINK_TIMEOUT", "10")]).await;
    let fake = app.fake.clone();
    let (ann, ben, mut to_ann, mut to_ben) = chatting(&app, Some(BEN_NAME)).await;
    let question = ann_asks(&ann, &mut to_ann, &mut to_ben, &fake).await;
    // The timeout is enforced by the bot's one-second tick; the inbox waits
    // up to 15 s.
    to_ann.expect_text(Text::ShareExpired).await;
    to_ben.expect_text(Text::ShareExpired).await;
    a_late_yes_reveals_nothing(app, &ben, question, 0).await;
}

#[tokio::test]
async fn an_answer_after_the_chat_ended_reveals_nothing() {
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let (ann, ben, mut to_ann, mut to_ben) = chatting(&app, Some(BEN_NAME)).await;
    let question = ann_asks(&ann, &mut to_ann, &mut to_ben, &fake).await;
    ann.send_command("/stop");
    to_ben.expect_text(Text::PartnerLeft).await;
    a_late_yes_reveals_nothing(app, &ben, question, 0).await;
}

#[tokio::test]
async fn link_outside_a_chat_asks_nobody() {
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let ann = fake.user(ANN, "Ann", Some(ANN_NAME));
    let mut to_ann = Inbox::new(&fake, ANN);
    ann.send_command("/link");
    to_ann.expect_text(Text::NotInChat).await;
    ann.send_command("/chat");
    to_ann.expect_text(Text::Searching).await;
    ann.send_command("/link");
    to_ann.expect_text(Text::StatusSearching).await;
    let asked = Text::ShareAsk.render();
    assert!(!fake.requests().iter().any(|r| r.params["text"] == asked));
}
