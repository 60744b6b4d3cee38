//! Anti-spam end to end: early links and mentions, the word list, the
//! captcha, AI moderation against a local fake endpoint (flagged, clean,
//! timeout, and not configured), and the end of a ban being announced.

mod support;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use randchat::engine::captcha::Animal;
use randchat::i18n::{Arg, Text};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{chatting, spawn_app_with, Delivery, FakeBotApi, Inbox, SimUser, TestApp};

/// Texts the bot sent `chat`, in order.
fn texts(fake: &FakeBotApi, chat: i64) -> Vec<String> {
    fake.texts_to(chat)
}

/// Ids of `from`'s messages that were copied to `to`.
fn copied(fake: &FakeBotApi, to: i64, from: i64) -> Vec<i64> {
    fake.received(to)
        .into_iter()
        .filter_map(|d| match d {
            Delivery::Copy {
                from_chat_id,
                message_id,
                ..
            } if from_chat_id == from => Some(message_id),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn early_links_and_mentions_wait_and_listed_words_never_pass() {
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), "# ours\nspamword\nbit.ly\n").unwrap();
    let path = list.path().to_str().unwrap();
    let app = spawn_app_with(&[("BADWORDS_FILE", path)]).await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, mut to_b) = chatting(&fake, 7001, 7002).await;
    let too_soon = Text::LinkTooSoon.render_with(&[Arg::Number(30)]);
    let is_too_soon = |d: &Delivery| matches!(d, Delivery::Text { text, .. } if *text == too_soon);

    let link = a.send_text("join https://example.com/promo now");
    to_a.expect("the link delay notice", is_too_soon).await;
    let telegram_link = a.send_text("t.me/somechannel");
    to_a.expect("the link delay notice", is_too_soon).await;
    let mention = a.send_text("follow @spam_channel_x");
    to_a.expect("the link delay notice", is_too_soon).await;
    let listed = a.send_text("buy my SpamWord today");
    to_a.expect_text(Text::FilterBlocked).await;
    let caption = a.send_photo("cheap at bit.ly/abc");
    to_a.expect_text(Text::FilterBlocked).await;
    let fine = a.send_text("a classic hello, no spam words here");
    to_b.expect_copy(7001, fine).await;
    // An edit can't slip in what a message could not carry.
    a.edit_text(fine, "now see t.me/somechannel");
    to_a.expect("the link delay notice", is_too_soon).await;
    a.edit_text(fine, "a classic hello, edited");
    to_b.expect(
        "the clean edit",
        |d| matches!(d, Delivery::Edit { text, .. } if text == "a classic hello, edited"),
    )
    .await;
    let edits: Vec<String> = fake
        .received(7002)
        .into_iter()
        .filter_map(|d| match d {
            Delivery::Edit { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(edits, ["a classic hello, edited"]);

    let refused = [link, telegram_link, mention, listed, caption];
    let copies = copied(&fake, 7002, 7001);
    assert_eq!(copies, vec![fine], "refused: {refused:?}");
    let logs = app.logs();
    for secret in ["SpamWord", "example.com/promo", "spam_channel_x"] {
        assert!(!logs.contains(secret), "the log holds {secret:?}");
    }
}

/// The captcha question sent to `user` last: its message id and the
/// callback data of the right and of a wrong button.
fn captcha(fake: &FakeBotApi, user: i64) -> (i64, String, String) {
    let ask = Text::CaptchaAsk.render();
    let lead = &ask[..ask.find('{').unwrap()];
    let (sent_id, text) = fake
        .received(user)
        .into_iter()
        .rev()
        .find_map(|d| match d {
            Delivery::Text { text, sent_id } if text.starts_with(lead) => Some((sent_id, text)),
            _ => None,
        })
        .expect("a captcha question");
    let animal = Animal::ALL
        .into_iter()
        .find(|a| text == Text::CaptchaAsk.render_with(&[Arg::Plain(a.name().render().into())]))
        .expect("the question names an animal");
    let message = fake.message(user, sent_id).expect("the question is stored");
    let buttons: Vec<Value> = message["reply_markup"]["inline_keyboard"]
        .as_array()
        .expect("a keyboard")
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(buttons.len(), 6, "{buttons:?}");
    let data = |b: &Value| b["callback_data"].as_str().unwrap().to_owned();
    let right = buttons.iter().find(|b| b["text"] == animal.emoji());
    let wrong = buttons.iter().find(|b| b["text"] != animal.emoji());
    let (right, wrong) = (data(right.unwrap()), data(wrong.unwrap()));
    assert!(right.starts_with("cap:") && !right.contains(animal.emoji()));
    (sent_id, right, wrong)
}

async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_captcha_holds_the_first_chat_until_the_named_animal_is_tapped() {
    let mut app = spawn_app_with(&[("CAPTCHA", "on")]).await;
    let fake = app.fake.clone();
    let user = fake.user(7101, "Ann", None);
    let mut inbox = Inbox::new(&fake, 7101);
    user.send_command("/chat");
    let asked = || !texts(&fake, 7101).is_empty();
    eventually("a captcha question", asked).await;
    let (question, _, wrong) = captcha(&fake, 7101);
    user.press_button(question, &wrong);
    inbox.expect_text(Text::CaptchaWrong).await;
    eventually("a second question", || captcha(&fake, 7101).0 != question).await;
    let (question, right, _) = captcha(&fake, 7101);
    user.press_button(question, &right);
    inbox.expect_text(Text::CaptchaPassed).await;
    inbox.expect_text(Text::Searching).await;

    // Passing is remembered across a restart.
    user.send_command("/stop");
    inbox.expect_text(Text::SearchStopped).await;
    let status = app.terminate().await;
    assert!(status.success());
    app.start().await;
    let questions = |fake: &FakeBotApi| {
        let lead = &Text::CaptchaAsk.render()[..10];
        texts(fake, 7101)
            .iter()
            .filter(|t| t.starts_with(lead))
            .count()
    };
    let before = questions(&fake);
    user.send_command("/chat");
    inbox.expect_text(Text::Searching).await;
    assert_eq!(questions(&fake), before, "not asked again");
}

/// A local stand-in for an OpenAI-compatible /v1/moderations endpoint:
/// flags texts with "badstuff", takes 5 s over texts with "slowpoke", and
/// keeps every request it gets.
struct FakeModerator {
    url: String,
    seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

async fn fake_moderator() -> FakeModerator {
    type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;
    async fn moderate(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        seen.lock().unwrap().push((headers, body.clone()));
        let input = body["input"].as_str().unwrap_or_default().to_owned();
        if input.contains("slowpoke") {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let flagged = input.contains("badstuff");
        Json(json!({"id": "modr-1", "model": "omni-moderation-latest",
            "results": [{"flagged": flagged, "categories": {}}]}))
    }
    async fn chat(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        seen.lock().unwrap().push((headers, body.clone()));
        let said = body["messages"][1]["content"].as_str().unwrap_or_default();
        let verdict = if said.contains("badstuff") {
            "FLAGGED"
        } else {
            "OK"
        };
        Json(
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": verdict}}]}),
        )
    }
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/v1/moderations", post(moderate))
        .route("/v1/chat/completions", post(chat))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeModerator {
        url: format!("http://{addr}/v1/moderations"),
        seen,
    }
}

impl FakeModerator {
    fn inputs(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(_, body)| body["input"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Waits until /metrics shows every one of `lines`.
async fn metrics_show(app: &TestApp, lines: &[&str]) {
    let url = format!("{}/metrics", app.admin_url());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        if lines.iter().all(|line| text.contains(line)) {
            return;
        }
        assert!(Instant::now() < deadline, "{lines:?} not in\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn ai_moderation_blocks_flagged_passes_clean_and_fails_open() {
    let moderator = fake_moderator().await;
    let app = spawn_app_with(&[
        ("MODERATION_URL", &moderator.url),
        ("MODERATION_KEY", "test-moderation-key"),
        ("MODERATION_TIMEOUT", "1"),
    ])
    .await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, mut to_b) = chatting(&fake, 7201, 7202).await;

    let flagged = a.send_text("some badstuff for you");
    to_a.expect_text(Text::ModerationBlocked).await;
    let clean = a.send_text("hello there");
    to_b.expect_copy(7201, clean).await;
    let slow = a.send_text("slowpoke question");
    to_b.expect_copy(7201, slow).await;
    assert!(!copied(&fake, 7202, 7201).contains(&flagged));

    let idle = SimUser::clone(&fake.user(7203, "Cy", None));
    idle.send_text("nobody to talk to");
    Inbox::new(&fake, 7203).expect_text(Text::NotInChat).await;

    let inputs = moderator.inputs();
    assert_eq!(
        inputs,
        ["some badstuff for you", "hello there", "slowpoke question"],
        "only chat messages are checked, each once"
    );
    for (headers, body) in moderator.seen.lock().unwrap().iter() {
        assert_eq!(headers["authorization"], "Bearer test-moderation-key");
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["input", "model"], "nothing about the user: {body}");
    }
    metrics_show(
        &app,
        &[
            "randchat_moderation_checks_total{outcome=\"clean\"} 1",
            "randchat_moderation_checks_total{outcome=\"flagged\"} 1",
            "randchat_moderation_checks_total{outcome=\"error\"} 1",
        ],
    )
    .await;
    let logs = app.logs();
    assert!(logs.contains("moderation check failed"), "{logs}");
    assert!(!logs.contains("test-moderation-key") && !logs.contains("badstuff"));
}

#[tokio::test]
async fn the_client_speaks_the_chat_endpoint_too() {
    use randchat::moderation_ai::{Moderator, ModeratorSettings, OpenAiModerator, Verdict};
    let fake = fake_moderator().await;
    let url = fake.url.replace("/v1/moderations", "/v1/chat/completions");
    let client = OpenAiModerator::new(ModeratorSettings {
        url: url.parse().unwrap(),
        key: None,
        model: "some-chat-model".into(),
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    assert_eq!(client.check("badstuff").await.unwrap(), Verdict::Flagged);
    assert_eq!(client.check("hello").await.unwrap(), Verdict::Clean);
    let (headers, body) = fake.seen.lock().unwrap()[0].clone();
    assert!(headers.get("authorization").is_none(), "no key, no header");
    assert_eq!(body["model"], "some-chat-model");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "badstuff"})
    );
    let broken = OpenAiModerator::new(ModeratorSettings {
        url: "http://127.0.0.1:9/v1/moderations".parse().unwrap(),
        key: None,
        model: "m".into(),
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    assert!(broken.check("x").await.is_err(), "nobody listens on port 9");
}

#[tokio::test]
async fn without_moderation_url_no_text_goes_anywhere() {
    let moderator = fake_moderator().await;
    let app = spawn_app_with(&[]).await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = chatting(&fake, 7301, 7302).await;
    let message = a.send_text("some badstuff for you");
    to_b.expect_copy(7301, message).await;
    metrics_show(
        &app,
        &[
            "randchat_relayed_total{kind=\"message\"} 1",
            "randchat_moderation_checks_total{outcome=\"clean\"} 0",
            "randchat_moderation_checks_total{outcome=\"flagged\"} 0",
            "randchat_moderation_checks_total{outcome=\"error\"} 0",
        ],
    )
    .await;
    assert!(moderator.inputs().is_empty());
    assert!(!app.logs().contains("AI moderation on"));
}

#[tokio::test]
async fn a_bans_end_is_announced_and_admins_cannot_be_banned() {
    let app = spawn_app_with(&[("ADMIN_IDS", "7401")]).await;
    let fake = app.fake.clone();
    let admin = fake.user(7401, "Mod", None);
    let mut to_admin = Inbox::new(&fake, 7401);
    let user = fake.user(7402, "Ann", None);
    let mut to_user = Inbox::new(&fake, 7402);

    admin.send_command("/ban 7401 1h oops");
    to_admin.expect_text(Text::AdminCantBanAdmin).await;
    user.send_command("/start");
    to_user.expect_text(Text::Welcome).await;
    admin.send_command("/ban 7402 2s spam");
    let banned = Text::BannedByAdmin.render();
    let lead = &banned[..banned.find('{').unwrap()];
    to_user
        .expect(
            "the ban notice",
            |d| matches!(d, Delivery::Text { text, .. } if text.starts_with(lead)),
        )
        .await;
    to_user.expect_text(Text::BanExpired).await;
    user.send_command("/chat");
    to_user.expect_text(Text::Searching).await;
}
