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
                for identity in &identities {
                    assert!(
                        !text.contains(identity.as_str()),
                        "{identity} leaked in {text:?}"
                    );
                }
                let extra: Vec<_> = request
                    .params
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !["chat_id", "text"].contains(&k.as_str()))
                    // Only the report question has buttons: the reasons.
                    .filter(|k| !(*k == "reply_markup" && text == Text::ReportAskReason.render()))
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

const ADMIN: i64 = 6_600_778_899;
const DASHBOARD_TOKEN: &str = "anonymity-dashboard-token-0123456789";

/// Report handling and the dashboard add admin-only views of users. Only
/// admins see ids, the reported user never learns who reported them, and
/// the debug-level JSON logs of the whole run hold no id, name, username,
/// message text, ban reason or secret.
#[tokio::test]
async fn reports_and_the_dashboard_keep_reporters_hidden_and_logs_clean() {
    use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
    use support::{spawn_app_with, Delivery};

    let admin_ids = ADMIN.to_string();
    let mut app = spawn_app_with(&[
        ("ADMIN_IDS", admin_ids.as_str()),
        ("ADMIN_TOKEN", DASHBOARD_TOKEN),
    ])
    .await;
    let fake = app.fake.clone();
    let a = fake.user(ALICE, "Alicia Zephyrine", Some("alicia_zeph"));
    let b = fake.user(BOB, "Bartholomew Quill", Some("bart_quill"));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, ALICE), Inbox::new(&fake, BOB));
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_copy(ALICE, a.send_text(SECRET_TEXT)).await;
    support::report_with_reason(&a, &mut to_a, "report:abuse").await;

    // The admin bans Bob from the report card.
    let admin = fake.user(ADMIN, "Moderatrix Ulm", Some("mod_ulm"));
    let mut to_admin = Inbox::new(&fake, ADMIN);
    admin.send_command("/reports");
    let card = to_admin
        .expect(
            "the card",
            |d| matches!(d, Delivery::Text { text, .. } if text.contains("Report #1")),
        )
        .await;
    let Delivery::Text { sent_id, text } = card else {
        unreachable!()
    };
    assert!(
        text.contains(&ALICE.to_string()),
        "admins do see the reporter"
    );
    admin.press_button(sent_id, "rep:ban:1");
    to_b.expect(
        "the ban",
        |d| matches!(d, Delivery::Text { text, .. } if text.starts_with("🚫")),
    )
    .await;

    // The dashboard: log in, look, unban Bob.
    let base = app.admin_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{base}/login"))
        .form(&[("token", DASHBOARD_TOKEN)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = http.get(format!("{base}/")).header(COOKIE, &session);
    assert_eq!(page.send().await.unwrap().status(), 200);
    let unban = http
        .post(format!("{base}/actions/unban"))
        .header(AUTHORIZATION, format!("Bearer {DASHBOARD_TOKEN}"))
        .form(&[("target", BOB.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(unban.status(), 200);
    to_b.expect_text(Text::Unbanned).await;
    assert!(app.terminate().await.success());

    // Bob never received anything naming Alice.
    for delivery in fake.received(BOB) {
        if let Delivery::Text { text, .. } = delivery {
            for identity in [ALICE.to_string(), "Alicia".into(), "alicia_zeph".into()] {
                assert!(
                    !text.contains(&identity),
                    "{identity} reached Bob: {text:?}"
                );
            }
        }
    }

    let logs = app.logs();
    assert!(
        logs.contains("dashboard action committed"),
        "the run was logged"
    );
    let session_id = session.split_once('=').unwrap().1.to_owned();
    for secret in [
        ALICE.to_string(),
        BOB.to_string(),
        ADMIN.to_string(),
        "Alicia".into(),
        "Zephyrine".into(),
        "alicia_zeph".into(),
        "Bartholomew".into(),
        "bart_quill".into(),
        "Moderatrix".into(),
        "mod_ulm".into(),
        SECRET_TEXT.into(),
        DASHBOARD_TOKEN.into(),
        session_id,
        "AAFakeToken".into(),
    ] {
        assert!(!logs.contains(&secret), "the logs contain {secret:?}");
    }
}
