//! Languages end to end: a user's Telegram language is spoken from their
//! first message, texts a partner's action sends are in the recipient's
//! language, /language switches (and the switch survives a restart), and
//! the command menu is registered per language.

mod support;

use randchat::i18n::{Lang, MenuCommand, Text};
use support::{spawn_app, Delivery, Inbox};

/// Waits for `text` rendered in `lang`.
async fn expect_in(inbox: &mut Inbox, text: Text, lang: Lang) -> i64 {
    let wanted = text.render_in(lang);
    let found = inbox
        .expect(
            &format!("{text:?} in {lang:?}"),
            |d| matches!(d, Delivery::Text { text, .. } if text == wanted),
        )
        .await;
    match found {
        Delivery::Text { sent_id, .. } => sent_id,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_russian_speaker_is_answered_in_russian_and_her_partner_in_english() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let olga = fake.user(9101, "Olga", None).speaking("ru-RU");
    let tom = fake.user(9102, "Tom", None);
    let (mut to_olga, mut to_tom) = (Inbox::new(&fake, 9101), Inbox::new(&fake, 9102));

    olga.send_command("/start");
    expect_in(&mut to_olga, Text::Welcome, Lang::Ru).await;
    olga.send_command("/chat");
    expect_in(&mut to_olga, Text::Searching, Lang::Ru).await;
    tom.send_command("/chat");
    expect_in(&mut to_tom, Text::PartnerFound, Lang::En).await;
    expect_in(&mut to_olga, Text::PartnerFound, Lang::Ru).await;
    // Sent to Olga because of Tom's action: still in Russian.
    tom.send_command("/stop");
    expect_in(&mut to_tom, Text::YouLeftChat, Lang::En).await;
    expect_in(&mut to_olga, Text::PartnerLeft, Lang::Ru).await;
    assert!(
        !fake
            .texts_to(9101)
            .iter()
            .any(|t| t == Text::Welcome.render()),
        "Olga got English"
    );
}

#[tokio::test]
async fn a_language_switch_changes_the_texts_and_survives_a_restart() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let ana = fake.user(9201, "Ana", None);
    let mut to_ana = Inbox::new(&fake, 9201);

    ana.send_command("/help");
    expect_in(&mut to_ana, Text::Help, Lang::En).await;
    ana.send_command("/language");
    let picker = expect_in(&mut to_ana, Text::LanguagePick, Lang::En).await;
    let buttons = fake.message(9201, picker).expect("the picker")["reply_markup"].to_string();
    for data in ["lang:en", "lang:ru", "lang:es"] {
        assert!(buttons.contains(data), "{buttons}");
    }
    ana.press_button(picker, "lang:es");
    expect_in(&mut to_ana, Text::LanguageSet, Lang::Es).await;
    ana.send_command("/help");
    expect_in(&mut to_ana, Text::Help, Lang::Es).await;

    // The settings menu's button shows the same picker.
    ana.press_button(picker, "lang:menu");
    expect_in(&mut to_ana, Text::LanguagePick, Lang::Es).await;

    app.restart().await;
    ana.send_command("/chat");
    expect_in(&mut to_ana, Text::Searching, Lang::Es).await;
}

#[tokio::test]
async fn the_command_menu_is_registered_in_every_language() {
    let app = spawn_app().await;
    let calls = app.fake.requests_for("setMyCommands");
    for lang in Lang::ALL {
        let call = calls
            .iter()
            .find(|c| c.params["language_code"] == lang.code())
            .unwrap_or_else(|| panic!("no menu for {lang:?}: {calls:?}"));
        let menu = call.params["commands"].to_string();
        for command in MenuCommand::ALL {
            assert!(menu.contains(command.describe(lang)), "{lang:?}: {menu}");
        }
        assert!(
            menu.contains("\"language\"")
                && menu.contains("\"link\"")
                && menu.contains("\"media\"")
        );
    }
    let default = calls
        .iter()
        .find(|c| c.params["language_code"].is_null())
        .expect("a default menu");
    assert!(default.params["commands"]
        .to_string()
        .contains(MenuCommand::Chat.describe(Lang::En)));
}
