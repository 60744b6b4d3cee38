//! Report handling, one rule at a time: ids, /reports for admins only, the
//! Ban and Dismiss buttons, the dashboard's actions, and a restore.

use super::dashboard::DashboardAction;
use super::moderation_tests::{
    admin, at, ban_record, chat_then_report, engine, told_with, ADMIN, HOUR, TARGET,
};
use super::tests::{told, NOW};
use super::*;
use crate::i18n::{Arg, Text};

fn press_card(engine: &Engine, user: i64, data: &str, now: Timestamp) -> Outcome {
    let event = Event::ReportButton {
        user: UserId(user),
        query_id: "q".into(),
        card: Some(crate::domain::MessageId(77)),
        data: data.into(),
    };
    engine.handle(&event, now)
}

fn status_of(out: &Outcome) -> Option<(ReportId, ReportStatus)> {
    out.records.iter().find_map(|r| match r {
        Record::ReportStatus { id, status } => Some((*id, *status)),
        _ => None,
    })
}

#[test]
fn reports_are_numbered_listed_newest_first_and_only_for_admins() {
    let engine = engine();
    chat_then_report(&engine, 1, NOW);
    chat_then_report(&engine, 2, at(10));
    let ids: Vec<u64> = engine.open_reports(10).iter().map(|r| r.id.0).collect();
    assert_eq!(ids, vec![2, 1]);

    let out = admin(&engine, ADMIN, "/reports", at(20));
    let cards: Vec<u64> = out
        .sends
        .iter()
        .filter_map(|s| match s {
            Outbound::ReportCard { admin, entry } if admin.0 == ADMIN => Some(entry.id.0),
            _ => None,
        })
        .collect();
    assert_eq!(cards, vec![2, 1]);
    let out = admin(&engine, 5, "/reports", at(20));
    assert_eq!(told(&out, 5), vec![Text::UnknownCommand]);
    assert!(!out
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::ReportCard { .. })));
}

#[test]
fn ban_button_bans_for_the_default_duration_records_the_status_and_edits_the_card() {
    let engine = engine();
    chat_then_report(&engine, 1, NOW);
    let id = engine.open_reports(1)[0].id;
    let out = press_card(&engine, ADMIN, &ReportAction::Ban.callback_data(id), at(5));
    let ban = ban_record(&out).expect("a ban");
    assert_eq!(ban.until, at(5 + HOUR));
    assert_eq!(
        ban.reason,
        BanReason::Admin(Text::ReasonSpam.render().into())
    );
    assert_eq!(status_of(&out), Some((id, ReportStatus::ActedOn)));
    assert!(out.sends.contains(&Outbound::EditReportCard {
        admin: UserId(ADMIN),
        message: crate::domain::MessageId(77),
        text: Text::ReportBanned,
        args: vec![Arg::Number(id.0), Arg::Until(at(5 + HOUR).0)],
    }));
    assert_eq!(told_with(&out, TARGET)[0].0, Text::BannedByAdmin);
    assert!(engine.open_reports(10).is_empty());

    // A second press (another admin, or a double tap) changes nothing.
    let again = press_card(&engine, ADMIN, &ReportAction::Ban.callback_data(id), at(6));
    assert!(ban_record(&again).is_none() && status_of(&again).is_none());
    assert!(again.sends.iter().any(|s| matches!(
        s,
        Outbound::EditReportCard {
            text: Text::ReportNotOpen,
            ..
        }
    )));
}

#[test]
fn dismiss_button_and_non_admin_presses() {
    let engine = engine();
    chat_then_report(&engine, 1, NOW);
    let id = engine.open_reports(1)[0].id;
    let data = ReportAction::Dismiss.callback_data(id);
    let out = press_card(&engine, 1, &data, at(1));
    assert!(out.records.iter().all(|r| matches!(r, Record::Seen { .. })));
    assert_eq!(engine.open_report_count(), 1, "a non-admin can't dismiss");
    let out = press_card(&engine, ADMIN, &data, at(2));
    assert_eq!(status_of(&out), Some((id, ReportStatus::Dismissed)));
    assert!(ban_record(&out).is_none());
    assert_eq!(engine.open_report_count(), 0);
}

#[test]
fn dashboard_actions_run_the_admin_code_and_report_what_they_did() {
    use crate::engine::dashboard::Verdict;
    let engine = engine();
    let order = BanOrder {
        target: UserId(TARGET),
        secs: None,
        reason: "spam".into(),
    };
    let out = engine.handle(&Event::Dashboard(DashboardAction::Ban(order)), NOW);
    assert_eq!(Verdict::of(&out), Verdict::Banned(Timestamp(0)));
    assert_eq!(told_with(&out, TARGET)[0].0, Text::BannedByAdmin);
    let unban = Event::Dashboard(DashboardAction::Unban(UserId(TARGET)));
    let out = engine.handle(&unban, at(1));
    assert_eq!(Verdict::of(&out), Verdict::Unbanned);
    assert_eq!(told(&out, TARGET), vec![Text::Unbanned]);
    assert_eq!(
        Verdict::of(&engine.handle(&unban, at(2))),
        Verdict::Unchanged
    );
}

#[test]
fn open_reports_and_numbering_survive_a_restore() {
    let engine = engine();
    chat_then_report(&engine, 1, NOW);
    let filed = engine.open_reports(1);
    let snapshot = crate::store::Snapshot {
        open_reports: filed.clone(),
        last_report_id: 7,
        ..Default::default()
    };
    let restored = Engine::restore(&snapshot);
    assert_eq!(restored.open_reports(10), filed);
    let mut out = Outcome::default();
    let next = restored.file(filed[0].report.clone(), &mut out);
    assert_eq!(next, ReportId(8));
}
