//! /media end to end: a user refuses photos with a toggle; a photo sent to
//! them is not relayed and its sender is told, in the sender's language;
//! other kinds, and photos the other way, still go through.

mod support;

use randchat::i18n::{Arg, Lang, Text};
use support::{spawn_app, Delivery, Inbox};

#[tokio::test]
async fn a_refused_photo_is_not_relayed_and_the_sender_is_told() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let pia = fake.user(9301, "Pia", None).speaking("es");
    let raf = fake.user(9302, "Raf", None);
    let (mut to_pia, mut to_raf) = (Inbox::new(&fake, 9301), Inbox::new(&fake, 9302));
    pia.send_command("/chat");
    raf.send_command("/chat");
    to_raf.expect_text(Text::PartnerFound).await;

    raf.send_command("/media");
    let menu_text = Text::MediaMenu.render();
    let menu = to_raf
        .expect(
            "the /media toggles",
            |d| matches!(d, Delivery::Text { text, .. } if text == menu_text),
        )
        .await;
    let Delivery::Text { sent_id: menu, .. } = menu else {
        unreachable!()
    };
    let buttons = fake.message(9302, menu).expect("the menu")["reply_markup"].to_string();
    assert!(
        buttons.contains("✅ Photos") && buttons.contains("media:photos"),
        "{buttons}"
    );
    raf.press_button(menu, "media:photos");
    to_raf
        .expect(
            "the toggles redrawn",
            |d| matches!(d, Delivery::Edit { message_id, .. } if *message_id == menu),
        )
        .await;
    let buttons = fake.message(9302, menu).expect("the menu")["reply_markup"].to_string();
    assert!(
        buttons.contains("🚫 Photos") && buttons.contains("✅ Videos"),
        "{buttons}"
    );

    let photo = pia.send_photo("look");
    let refused = Text::MediaRefused.render_with_in(Lang::Es, &[Arg::Text(Text::MediaPhotos)]);
    to_pia
        .expect(
            "the refusal, in Spanish",
            |d| matches!(d, Delivery::Text { text, .. } if *text == refused),
        )
        .await;
    // A later text arrives, and the photo never did.
    let text = pia.send_text("ok, words then");
    to_raf.expect_copy(9301, text).await;
    let copied_photo = fake.received(9302).iter().any(|d| {
        matches!(d, Delivery::Copy { from_chat_id: 9301, message_id, .. } if *message_id == photo)
    });
    assert!(!copied_photo, "the refused photo was relayed");

    // Raf's own photos still reach Pia, who refused nothing.
    let own = raf.send_photo("mine");
    to_pia.expect_copy(9302, own).await;

    // Allowing photos again lets them through.
    raf.press_button(menu, "media:photos");
    to_raf
        .expect(
            "the toggles redrawn",
            |d| matches!(d, Delivery::Edit { message_id, .. } if *message_id == menu),
        )
        .await;
    let again = pia.send_photo("now?");
    to_raf.expect_copy(9301, again).await;
}
