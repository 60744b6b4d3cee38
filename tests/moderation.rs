//! Moderation end to end: reasons chosen with buttons, automatic bans,
//! admin commands, and bans that survive a restart.

mod support;

use randchat::i18n::Text;
use std::time::Duration;
use support::{spawn_app_with, Delivery, FakeBotApi, Inbox, SimUser};

const ADMIN: i64 = 8900;

/// Whether `actual` is `text` with its `{n}` placeholders filled somehow.
fn fills(text: Text, actual: &str) -> bool {
    let template = text.render();
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        parts.push(&rest[..open]);
        rest = rest[open..].split_once('}').map_or("", |(_, after)| after);
    }
    parts.push(rest);
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        match actual[at..].find(part) {
            Some(found) if i > 0 || found == 0 => at += found + part.len(),
            _ => return false,
        }
    }
    parts.last().is_none_or(|last| actual.ends_with(last))
}

/// Waits for `text` with its arguments filled in; returns the sentence.
async fn expect_filled(inbox: &mut Inbox, text: Text) -> String {
    let found = inbox
        .expect(
            &format!("{text:?} with arguments"),
            |d| matches!(d, Delivery::Text { text: t, .. } if fills(text, t)),
        )
        .await;
    match found {
        Delivery::Text { text, .. } => text,
        _ => unreachable!(),
    }
}

/// Sends /report, presses the `reason` button under the question, and
/// waits for the thanks and for the press to be answered.
async fn report(fake: &FakeBotApi, user: &SimUser, inbox: &mut Inbox, reason: &str) {
    let answers = fake.requests_for("answerCallbackQuery").len();
    let question = support::report_with_reason(user, inbox, reason).await;
    let buttons = fake.message(user.id(), question).expect("the question")["reply_markup"]
        ["inline_keyboard"]
        .to_string();
    assert!(buttons.contains("report:underage"), "{buttons}");
    fake.wait_for("the press is answered", Duration::from_secs(10), |r| {
        r.iter()
            .filter(|r| r.method_lc == "answercallbackquery")
            .count()
            > answers
    })
    .await;
}

#[tokio::test]
async fn three_reporters_ban_a_user_whose_partner_only_sees_them_leave() {
    let app = spawn_app_with(&[("REPORT_BAN_THRESHOLD", "3")]).await;
    let fake = app.fake.clone();
    let target = fake.user(8100, "Troll", Some("troll_t"));
    let mut to_target = Inbox::new(&fake, 8100);
    let names = ["Ann", "Ben", "Cat"];
    let reporters: Vec<SimUser> = (0..3)
        .map(|i| fake.user(8101 + i, names[i as usize], None))
        .collect();
    let mut inboxes: Vec<Inbox> = (0..3).map(|i| Inbox::new(&fake, 8101 + i)).collect();
    let partner = fake.user(8104, "Dan", None);
    let mut to_partner = Inbox::new(&fake, 8104);

    for (i, reporter) in reporters.iter().enumerate() {
        reporter.send_command("/chat");
        target.send_command("/chat");
        inboxes[i].expect_text(Text::PartnerFound).await;
        reporter.send_command("/stop");
        inboxes[i].expect_text(Text::YouLeftChat).await;
        to_target.expect_text(Text::PartnerLeft).await;
        if i == 2 {
            // The target is chatting with someone else when the last report lands.
            partner.send_command("/chat");
            target.send_command("/chat");
            to_partner.expect_text(Text::PartnerFound).await;
        }
        report(&fake, reporter, &mut inboxes[i], "report:spam").await;
    }

    to_partner.expect_text(Text::PartnerLeft).await;
    let notice = expect_filled(&mut to_target, Text::BannedByReports).await;
    assert!(notice.contains(" UTC"), "{notice}");
    target.send_command("/chat");
    let refusal = expect_filled(&mut to_target, Text::StillBanned).await;
    assert!(refusal.contains(" UTC"), "{refusal}");

    // Unknown button data gets a polite answer, and the bot keeps going.
    target.press_button(1, "report:nonsense\u{0}💥");
    fake.wait_for("an answer with a notice", Duration::from_secs(10), |r| {
        r.iter().any(|r| {
            r.method_lc == "answercallbackquery" && r.params["text"] == Text::ButtonExpired.render()
        })
    })
    .await;
    target.send_command("/help");
    to_target.expect_text(Text::Help).await;

    for text in fake.texts_to(8100) {
        for who in ["8101", "8102", "8103", "Ann", "Ben", "Cat"] {
            assert!(!text.contains(who), "the target learnt {who}: {text}");
        }
    }
}

#[tokio::test]
async fn admins_ban_and_unban_and_bans_survive_a_restart() {
    let admin_ids = ADMIN.to_string();
    let mut app = spawn_app_with(&[("ADMIN_IDS", &admin_ids)]).await;
    let fake = app.fake.clone();
    let admin = fake.user(ADMIN, "Mod", None);
    let mut to_admin = Inbox::new(&fake, ADMIN);
    let (a, b) = (fake.user(8201, "Ann", None), fake.user(8202, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 8201), Inbox::new(&fake, 8202));

    b.send_command("/ban 8201 1h rude");
    to_b.expect_text(Text::UnknownCommand).await;

    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    admin.send_command("/ban abc");
    to_admin.expect_text(Text::AdminBanUsage).await;
    admin.send_command("/ban 8201 12h rude to strangers");
    expect_filled(&mut to_admin, Text::AdminBanDone).await;
    to_b.expect_text(Text::PartnerLeft).await;
    let notice = expect_filled(&mut to_a, Text::BannedByAdmin).await;
    assert!(notice.ends_with("rude to strangers"), "{notice}");

    app.restart().await;
    a.send_command("/next");
    expect_filled(&mut to_a, Text::StillBanned).await;
    admin.send_command("/stats");
    let stats = expect_filled(&mut to_admin, Text::AdminStats).await;
    assert!(stats.ends_with(": 1"), "one ban in force: {stats}");

    admin.send_command("/unban 8201");
    to_admin.expect_text(Text::AdminUnbanDone).await;
    to_a.expect_text(Text::Unbanned).await;
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
}
