//! Nobody learns who their partner is, and the logs don't either.
//!
//! Runs a chat through every message kind, then inspects every request the
//! bot made: no forwardMessage, copies carry nothing but the ids Telegram
//! needs to find the message, and every text a user receives is a catalog
//! text that can't contain anyone's name. Finally the bot's own logs are
//! scanned for ids, names and message texts.

mod support;

use randchat::i18n::Text;
use support::{spawn_app, Inbox, SimKind};

const ALICE: i64 = 7_700_112_233;
const BOB: i64 = 8_800_445_566;
const SECRET_TEXT: &str = "my secret phone is 555-0199";

#[tokio::test]
async fn no_request_carries_the_partners_identity_and_logs_are_clean() {
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let a = fake.user(ALICE, "Alicia Zephyrine", Some("alicia_zeph"));
    let b = fake.user(BOB, "Bartholomew Quill", Some("bart_quill"));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, ALICE), Inbox::new(&fake, BOB));

    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    for kind in SimKind::ALL.into_iter().filter(|k| *k != SimKind::Command) {
        to_b.expect_copy(ALICE, a.send_kind(kind)).await;
        to_a.expect_copy(BOB, b.send_kind(kind)).await;
    }
    to_b.expect_copy(ALICE, a.send_text(SECRET_TEXT)).await;
    support::report_with_reason(&a, &mut to_a, "report:abuse").await;
    b.send_command("/next");
    to_a.expect_text(Text::PartnerLeft).await;
    assert!(app.terminate().await.success());

    let catalog: Vec<&str> = Text::ALL.iter().map(|t| t.render()).collect();
    let identities = [
        ALICE.to_string(),
        BOB.to_string(),
        "Alicia".into(),
        "Zephyrine".into(),
        "alicia_zeph".into(),
        "Bartholomew".into(),
        "bart_quill".into(),
    ];
    for request in fake.requests() {
        let method = request.method_lc.as_str();
        assert_ne!(method, "forwardmessage", "a forward shows who sent it");
        match method {
            "copymessage" => {
                let keys: Vec<_> = request
                    .params
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                for key in &keys {
                    assert!(
                        ["chat_id", "from_chat_id", "message_id"].contains(&key.as_str()),
                        "copyMessage carries {key}: {:?}",
                        request.params
                    );
                }
                let (to, from) = (
                    request.params["chat_id"].as_i64(),
                    request.params["from_chat_id"].as_i64(),
                );
                assert!(
                    matches!(
                        (from, to),
                        (Some(ALICE), Some(BOB)) | (Some(BOB), Some(ALICE))
                    ),
                    "a copy went somewhere odd: {:?}",
                    request.params
                );
            }
            "sendmessage" => {
                let text = request.params["text"].as_str().unwrap_or_default();
                assert!(
                    catalog.contains(&text),
                    "an uncatalogued text was sent: {text:?}"
                );
                let buttons = request.params["reply_markup"].to_string();
                for identity in &identities {
                    assert!(
                        !text.contains(identity.as_str()),
                        "{identity} leaked in {text:?}"
                    );
                    assert!(
                        !buttons.contains(identity.as_str()),
                        "{identity} leaked in the buttons {buttons}"
                    );
                }
                let extra: Vec<_> = request
                    .params
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !["chat_id", "text"].contains(&k.as_str()))
                    // Only the report question (the reasons) and the rating
                    // question (👍/👎, naming the chat by its end time) have
                    // buttons.
                    .filter(|k| {
                        let asks = [Text::ReportAskReason.render(), Text::RatingAsk.render()];
                        !(*k == "reply_markup" && asks.contains(&text))
                    })
                    .cloned()
                    .collect();
                assert!(extra.is_empty(), "sendMessage carries {extra:?}");
            }
            _ => {}
        }
    }

    let logs = app.logs();
    assert!(!logs.is_empty(), "the bot logged nothing at all");
    for secret in identities
        .iter()
        .map(String::as_str)
        .chain([SECRET_TEXT, "AAFakeToken"])
    {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}
