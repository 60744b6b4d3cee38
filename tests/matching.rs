//! Matching end to end through the fake Bot API: /settings (with the age
//! typed, errors included), mutual wishes, the no-repeat rule, ratings, and
//! the per-user protect-content choice.

mod support;

use randchat::i18n::Text;
use serde_json::Value;
use std::time::Duration;
use support::{spawn_app, Delivery, FakeBotApi, Inbox, RecordedRequest, SimUser};

/// The settings menu the user was sent last: its message id and text.
async fn open_settings(user: &SimUser, inbox: &mut Inbox) -> (i64, String) {
    user.send_command("/settings");
    let menu = inbox
        .expect(
            "the settings menu",
            |d| matches!(d, Delivery::Text { text, .. } if text.starts_with("⚙️")),
        )
        .await;
    match menu {
        Delivery::Text { sent_id, text } => (sent_id, text),
        _ => unreachable!(),
    }
}

/// Presses `data` under the menu and waits for the menu to be edited.
async fn press(user: &SimUser, inbox: &mut Inbox, menu: i64, data: &str) -> String {
    user.press_button(menu, data);
    let edited = inbox
        .expect(
            &format!("the menu edited after {data}"),
            |d| matches!(d, Delivery::Edit { message_id, .. } if *message_id == menu),
        )
        .await;
    match edited {
        Delivery::Edit { text, .. } => text,
        _ => unreachable!(),
    }
}

/// Sets a user's choices by pressing `presses` in /settings.
async fn settle(fake: &FakeBotApi, id: i64, presses: &[&str]) -> (SimUser, Inbox) {
    let user = fake.user(id, "Sim", None);
    let mut inbox = Inbox::new(fake, id);
    let (menu, _) = open_settings(&user, &mut inbox).await;
    for data in presses {
        press(&user, &mut inbox, menu, data).await;
    }
    (user, inbox)
}

/// "female, wants men": gender cycles unset → male → female; "meet" cycles
/// anyone → men.
const WOMAN_WANTING_MEN: &[&str] = &["set:g", "set:g", "set:wg"];
const MAN_WANTING_WOMEN: &[&str] = &["set:g", "set:wg", "set:wg"];
const WOMAN: &[&str] = &["set:g", "set:g"];

fn answers_to(fake: &FakeBotApi) -> Vec<Option<String>> {
    fake.requests_for("answerCallbackQuery")
        .iter()
        .map(|r| r.params["text"].as_str().map(str::to_owned))
        .collect()
}

async fn wait_answers(fake: &FakeBotApi, count: usize) {
    fake.wait_for("the press is answered", Duration::from_secs(10), |r| {
        r.iter()
            .filter(|r| r.method_lc == "answercallbackquery")
            .count()
            >= count
    })
    .await;
}

fn never_found(inbox: &Inbox) -> bool {
    let found = Text::PartnerFound.render();
    !inbox
        .unread()
        .iter()
        .any(|d| matches!(d, Delivery::Text { text, .. } if text == found))
}

#[tokio::test]
async fn settings_menu_is_edited_in_place_and_the_age_is_typed_with_errors() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let user = fake.user(13_001, "Ann", None);
    let mut inbox = Inbox::new(&fake, 13_001);
    let (menu, text) = open_settings(&user, &mut inbox).await;
    assert!(text.contains("Gender: not set"), "{text}");
    let keyboard = fake.message(13_001, menu).expect("the menu")["reply_markup"].to_string();
    for data in [
        "set:g",
        "set:age",
        "lang:menu",
        "set:wg",
        "set:wa",
        "set:sl",
        "set:pc",
    ] {
        assert!(keyboard.contains(data), "{data} in {keyboard}");
    }
    let edited = press(&user, &mut inbox, menu, "set:g").await;
    assert!(edited.contains("Gender: male"), "{edited}");
    let edited = press(&user, &mut inbox, menu, "set:wa").await;
    assert!(edited.contains("Age: 18–25"), "{edited}");

    user.press_button(menu, "set:age");
    inbox.expect_text(Text::AskAge).await;
    user.send_text("old enough");
    inbox.expect_text(Text::AgeNotANumber).await;
    user.send_text("7");
    inbox.expect_text(Text::AgeOutOfRange).await;
    user.send_text("34");
    let saved = Text::AgeSaved.render().replace("{0}", "34");
    inbox
        .expect(
            "the age saved",
            |d| matches!(d, Delivery::Text { text, .. } if *text == saved),
        )
        .await;
    let (_, text) = open_settings(&user, &mut inbox).await;
    assert!(text.contains("Age: 34"), "{text}");
    assert!(text.contains("Gender: male"), "{text}");
}

#[tokio::test]
async fn wishes_are_mutual_end_to_end() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (ann, mut to_ann) = settle(&fake, 13_101, WOMAN_WANTING_MEN).await;
    let (bea, mut to_bea) = settle(&fake, 13_102, WOMAN).await;
    ann.send_command("/chat");
    to_ann.expect_text(Text::Searching).await;
    bea.send_command("/chat");
    to_bea.expect_text(Text::Searching).await;
    // Bea would meet Ann, but Ann wants a man: both keep waiting.
    let (cal, mut to_cal) = settle(&fake, 13_103, MAN_WANTING_WOMEN).await;
    cal.send_command("/chat");
    to_cal.expect_text(Text::PartnerFound).await;
    to_ann.expect_text(Text::PartnerFound).await;
    let hello = cal.send_text("hello there, Ann!");
    to_ann.expect_copy(13_103, hello).await;
    // Bea is still searching and was never paired.
    assert!(never_found(&to_bea), "{:?}", to_bea.unread());
    bea.send_command("/chat");
    to_bea.expect_text(Text::AlreadySearching).await;
}

#[tokio::test]
async fn a_recent_partner_is_not_met_again_while_someone_else_waits() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (ann, mut to_ann) = settle(&fake, 13_201, WOMAN_WANTING_MEN).await;
    let (dot, mut to_dot) = settle(&fake, 13_202, WOMAN_WANTING_MEN).await;
    let (cal, mut to_cal) = settle(&fake, 13_203, MAN_WANTING_WOMEN).await;
    ann.send_command("/chat");
    cal.send_command("/chat");
    to_ann.expect_text(Text::PartnerFound).await;
    to_cal.expect_text(Text::PartnerFound).await;
    cal.send_command("/stop");
    to_ann.expect_text(Text::PartnerLeft).await;
    ann.send_command("/chat");
    to_ann.expect_text(Text::Searching).await;
    dot.send_command("/chat");
    to_dot.expect_text(Text::Searching).await;
    // Ann waited longer, but Cal just talked to her: he meets Dot.
    cal.send_command("/chat");
    to_dot.expect_text(Text::PartnerFound).await;
    let hi = cal.send_text("hi, who's this?");
    to_dot.expect_copy(13_203, hi).await;
    assert!(never_found(&to_ann));
    // Now Ann is the only one waiting: the rule gives way.
    cal.send_command("/next");
    to_ann.expect_text(Text::PartnerFound).await;
}

#[tokio::test]
async fn both_sides_rate_a_chat_and_only_the_first_vote_counts() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, mut to_b) = support::chatting(&fake, 13_301, 13_302).await;
    a.send_command("/stop");
    let ask = Text::RatingAsk.render();
    let asked = |d: &Delivery| matches!(d, Delivery::Text { text, .. } if text == ask);
    let Delivery::Text { sent_id, .. } = to_a.expect("the rating buttons", asked).await else {
        unreachable!()
    };
    to_b.expect("the rating buttons", asked).await;
    let markup: Value =
        fake.message(13_301, sent_id).expect("the question")["reply_markup"].clone();
    let buttons = markup["inline_keyboard"][0]
        .as_array()
        .expect("a row")
        .clone();
    assert_eq!(buttons.len(), 2, "{markup}");
    let data: Vec<String> = buttons
        .iter()
        .map(|b| b["callback_data"].as_str().unwrap().to_owned())
        .collect();
    assert!(data.iter().all(|d| d.starts_with("rate:")), "{data:?}");
    assert!(
        !markup.to_string().contains("13302"),
        "the buttons don't name the partner"
    );
    a.press_button(sent_id, &data[1]);
    wait_answers(&fake, 1).await;
    a.press_button(sent_id, &data[0]);
    wait_answers(&fake, 2).await;
    let before_restart = answered_ids(&fake);
    // The mark that the chat was rated survives a restart.
    app.restart().await;
    a.press_button(sent_id, &data[0]);
    // A kill can repeat an answer that was in flight (replayed from the
    // outbox at start-up), never lose one; so the press after the restart
    // is told apart by its callback query id, not by how many answers came.
    let is_new = |r: &RecordedRequest| {
        r.method_lc == "answercallbackquery"
            && !before_restart.iter().any(|id| id == callback_id(r))
    };
    fake.wait_for(
        "the press after the restart is answered",
        Duration::from_secs(10),
        |r| r.iter().any(is_new),
    )
    .await;
    let thanks = Text::RatingThanks.render().to_owned();
    let already = Text::RatingAlreadyGiven.render().to_owned();
    // The first press is thanked, the second is not, and the press after
    // the restart is not counted either.
    let answers = answers_to(&fake);
    assert_eq!(answers[0], Some(thanks), "{answers:?}");
    assert_eq!(answers[1], Some(already.clone()), "{answers:?}");
    let requests = fake.requests_for("answerCallbackQuery");
    let after = requests.iter().find(|r| is_new(r)).expect("waited for");
    assert_eq!(
        after.params["text"].as_str(),
        Some(already.as_str()),
        "{answers:?}"
    );
}

/// The callback query ids answered so far.
fn answered_ids(fake: &FakeBotApi) -> Vec<String> {
    let answers = fake.requests_for("answerCallbackQuery");
    answers.iter().map(|r| callback_id(r).to_owned()).collect()
}

fn callback_id(request: &RecordedRequest) -> &str {
    request.params["callback_query_id"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn protect_content_is_per_sender() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, mut to_a) = settle(&fake, 13_401, &["set:pc"]).await;
    let b = fake.user(13_402, "Ben", None);
    let mut to_b = Inbox::new(&fake, 13_402);
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let mine = a.send_text("this one is protected, keep it");
    to_b.expect_copy(13_401, mine).await;
    let theirs = b.send_text("mine can be forwarded, that's fine");
    to_a.expect_copy(13_402, theirs).await;
    let copies = fake.requests_for("copyMessage");
    let protect_of = |from: i64| {
        copies
            .iter()
            .find(|r| r.params["from_chat_id"] == from)
            .map(|r| r.params["protect_content"].clone())
            .expect("a copy")
    };
    assert_eq!(protect_of(13_401), Value::Bool(true));
    assert_ne!(protect_of(13_402), Value::Bool(true));
}

#[tokio::test]
async fn a_long_search_relaxes_and_the_searcher_is_told() {
    let app = support::spawn_app_with(&[("MATCH_RELAX_AFTER", "1")]).await;
    let fake = app.fake.clone();
    let (ann, mut to_ann) = settle(&fake, 13_501, WOMAN_WANTING_MEN).await;
    let (bea, mut to_bea) = settle(&fake, 13_502, WOMAN).await;
    ann.send_command("/chat");
    to_ann.expect_text(Text::Searching).await;
    bea.send_command("/chat");
    to_bea.expect_text(Text::Searching).await;
    // Within a tick or two Ann's own wish is dropped; Bea wants anyone.
    to_ann.expect_text(Text::SearchRelaxed).await;
    to_ann.expect_text(Text::PartnerFound).await;
    to_bea.expect_text(Text::PartnerFound).await;
}
