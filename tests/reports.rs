//! /reports end to end: an admin lists open reports, bans for one and
//! dismisses another with the buttons; the card is edited to say what was
//! done; the result survives a restart; everyone else gets the
//! unknown-command answer.

mod support;

use randchat::i18n::{Arg, Text};
use support::{chatting, report_with_reason, spawn_app_with, Delivery, Inbox};

const ADMIN: i64 = 9_001;

/// The next report card in the admin's chat: (its message id, its text).
async fn card(inbox: &mut Inbox, report: u64) -> (i64, String) {
    let heading = format!("Report #{report} ·");
    let found = inbox
        .expect(
            &format!("report card #{report}"),
            |d| matches!(d, Delivery::Text { text, .. } if text.contains(&heading)),
        )
        .await;
    match found {
        Delivery::Text { text, sent_id } => (sent_id, text),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn admins_ban_or_dismiss_reports_with_the_buttons() {
    let admin_ids = ADMIN.to_string();
    let mut app = spawn_app_with(&[("ADMIN_IDS", admin_ids.as_str())]).await;
    let fake = app.fake.clone();
    let (a, _b, mut to_a, mut to_b) = chatting(&fake, 101, 102).await;
    report_with_reason(&a, &mut to_a, "report:spam").await;
    let (c, _d, mut to_c, _to_d) = chatting(&fake, 103, 104).await;
    report_with_reason(&c, &mut to_c, "report:abuse").await;

    // Someone else can't list reports.
    let nosy = fake.user(105, "Nosy", None);
    let mut to_nosy = Inbox::new(&fake, 105);
    nosy.send_command("/reports");
    to_nosy.expect_text(Text::UnknownCommand).await;

    let admin = fake.user(ADMIN, "Mod", None);
    let mut to_admin = Inbox::new(&fake, ADMIN);
    admin.send_command("/reports");
    let (second, text) = card(&mut to_admin, 2).await;
    assert!(text.contains(Text::ReasonAbuse.render()), "{text}");
    assert!(text.contains("104") && text.contains("103"), "{text}");
    let (first, text) = card(&mut to_admin, 1).await;
    assert!(
        text.contains(Text::ReasonSpam.render()) && text.contains("102"),
        "{text}"
    );
    let keyboard = fake.message(ADMIN, first).unwrap()["reply_markup"].to_string();
    assert!(
        keyboard.contains("rep:ban:1") && keyboard.contains("rep:dismiss:1"),
        "{keyboard}"
    );

    // Ban for report #1: user 102 is told, and the card says what happened.
    admin.press_button(first, "rep:ban:1");
    to_b.expect(
        "the ban notice",
        |d| matches!(d, Delivery::Text { text, .. } if text.contains(Text::ReasonSpam.render())),
    )
    .await;
    let edited = to_admin
        .expect(
            "the card edited",
            |d| matches!(d, Delivery::Edit { message_id, .. } if *message_id == first),
        )
        .await;
    let Delivery::Edit { text, .. } = edited else {
        unreachable!()
    };
    assert!(
        text.starts_with("🛡 Report #1: the user is banned until"),
        "{text}"
    );

    // Dismiss report #2; pressing it again says it was handled.
    admin.press_button(second, "rep:dismiss:2");
    let dismissed = Text::ReportDismissed.render_with(&[Arg::Number(2)]);
    to_admin
        .expect(
            "dismissed",
            |d| matches!(d, Delivery::Edit { text, .. } if *text == dismissed),
        )
        .await;
    admin.press_button(second, "rep:ban:2");
    let handled = Text::ReportNotOpen.render_with(&[Arg::Number(2)]);
    to_admin
        .expect(
            "already handled",
            |d| matches!(d, Delivery::Edit { text, .. } if *text == handled),
        )
        .await;

    // Both decisions were committed: after a restart nothing is open and the
    // ban holds.
    app.restart().await;
    admin.send_command("/reports");
    to_admin.expect_text(Text::AdminNoOpenReports).await;
    let banned = fake.user(102, "Ben", None);
    banned.send_command("/chat");
    to_b.expect(
        "still banned",
        |d| matches!(d, Delivery::Text { text, .. } if text.starts_with("🚫 You are banned")),
    )
    .await;
}
