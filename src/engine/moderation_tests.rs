//! Moderation, one rule at a time: reasons, distinct reporters, the
//! threshold, repeat bans, what a ban does, expiry and the admin commands.

use super::tests::{cmd_at, press, told, NOW};
use super::*;
use crate::i18n::{Arg, Text};
use std::time::Duration;

pub(super) const HOUR: u64 = 3600;
pub(super) const ADMIN: i64 = 900;
pub(super) const TARGET: i64 = 100;

pub(super) fn engine() -> Engine {
    Engine::with_config(EngineConfig::unlimited()).with_moderation(ModerationConfig {
        report_ban_threshold: 3,
        report_window: Duration::from_secs(HOUR),
        ban_duration: Duration::from_secs(HOUR),
        admins: vec![UserId(ADMIN)],
    })
}

pub(super) fn at(offset: u64) -> Timestamp {
    Timestamp(NOW.0 + offset)
}

fn pair(engine: &Engine, a: i64, b: i64, now: Timestamp) {
    cmd_at(engine, a, Command::Chat, now);
    cmd_at(engine, b, Command::Chat, now);
    assert_eq!(engine.presence_of(UserId(a)), Presence::Chatting(UserId(b)));
}

/// `reporter` chats with [`TARGET`], leaves, and reports them.
pub(super) fn chat_then_report(engine: &Engine, reporter: i64, now: Timestamp) -> Outcome {
    pair(engine, reporter, TARGET, now);
    cmd_at(engine, reporter, Command::Stop, now);
    press(engine, reporter, "report:spam", now)
}

pub(super) fn admin(engine: &Engine, user: i64, text: &str, now: Timestamp) -> Outcome {
    let command = Command::parse(text, "bot").expect("a command");
    cmd_at(engine, user, command, now)
}

pub(super) fn ban_record(out: &Outcome) -> Option<Ban> {
    out.records.iter().find_map(|r| match r {
        Record::Ban { ban, .. } => Some(ban.clone()),
        _ => None,
    })
}

/// The catalog texts (with arguments) told to `user`.
pub(super) fn told_with(out: &Outcome, user: i64) -> Vec<(Text, Vec<Arg>)> {
    out.sends
        .iter()
        .filter_map(|send| match send {
            Outbound::TellWith {
                user: u,
                text,
                args,
            } if u.0 == user => Some((*text, args.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn every_reason_is_recorded_and_odd_data_is_answered_politely() {
    let engine = engine();
    pair(&engine, 1, 2, NOW);
    for reason in ReportReason::ALL {
        let out = press(&engine, 1, &reason.callback_data(), NOW);
        let recorded = out.records.iter().any(|r| {
            matches!(r, Record::FiledReport { report: rep, .. } if rep.reason == reason && rep.reported == UserId(2))
        });
        assert!(recorded, "{reason:?}");
    }
    for data in [
        "",
        "report:",
        "report:SPAM",
        "report:spam ",
        "x".repeat(5000).as_str(),
        "🙂",
    ] {
        let out = press(&engine, 1, data, NOW);
        assert!(out
            .records
            .iter()
            .all(|r| !matches!(r, Record::FiledReport { .. })));
        assert!(out.sends.contains(&Outbound::AnswerCallback {
            user: UserId(1),
            query_id: "q1".into(),
            text: Some(Text::ButtonExpired),
        }));
    }
}

#[test]
fn a_reason_chosen_after_the_window_reports_nobody() {
    let engine = engine();
    pair(&engine, 1, 2, NOW);
    cmd_at(&engine, 1, Command::Stop, NOW);
    let late = at(REPORT_WINDOW_SECS + 1);
    let out = press(&engine, 1, "report:abuse", late);
    assert_eq!(told(&out, 1), vec![Text::NothingToReport]);
}

#[test]
fn one_user_reporting_many_times_counts_once() {
    let engine = engine();
    for _ in 0..5 {
        let out = chat_then_report(&engine, 1, NOW);
        assert_eq!(ban_record(&out), None);
    }
    assert_eq!(engine.ban_in_force(UserId(TARGET), NOW), None);
}

#[test]
fn the_third_distinct_reporter_bans_and_the_partner_only_sees_a_departure() {
    let engine = engine();
    chat_then_report(&engine, 1, at(0));
    chat_then_report(&engine, 2, at(10));
    pair(&engine, 3, TARGET, at(20));
    cmd_at(&engine, 3, Command::Stop, at(20));
    pair(&engine, 4, TARGET, at(30)); // the target is chatting with 4
    let out = press(&engine, 3, "report:abuse", at(40));

    let until = at(40 + HOUR);
    let ban = ban_record(&out).expect("banned");
    assert_eq!((ban.until, ban.count), (until, 1));
    assert_eq!(told(&out, 4), vec![Text::PartnerLeft], "neutral notice");
    assert!(told_with(&out, 4).is_empty());
    assert_eq!(
        told_with(&out, TARGET),
        vec![(Text::BannedByReports, vec![Arg::Until(until.0)])]
    );
    assert_eq!(told(&out, 3), vec![Text::ReportThanks]);
    assert_eq!(engine.presence_of(UserId(TARGET)), Presence::Idle);
    engine.check_invariants().unwrap();
}

#[test]
fn reports_older_than_the_window_do_not_count_and_are_swept() {
    let engine = engine();
    chat_then_report(&engine, 1, at(0));
    chat_then_report(&engine, 2, at(10));
    let out = chat_then_report(&engine, 3, at(HOUR + 5));
    assert_eq!(ban_record(&out), None, "the first report left the window");
    assert_eq!(engine.reported_users(), 1);
    engine.handle(&Event::Tick, at(3 * HOUR));
    assert_eq!(engine.reported_users(), 0, "swept");
}

#[test]
fn a_repeat_ban_lasts_twice_as_long() {
    let engine = engine();
    for reporter in 1..=3 {
        chat_then_report(&engine, reporter, at(0));
    }
    assert_eq!(engine.ban_in_force(UserId(TARGET), at(1)), Some(at(HOUR)));
    let later = at(2 * HOUR);
    assert_eq!(engine.ban_in_force(UserId(TARGET), later), None, "expired");
    let mut last = Outcome::default();
    for reporter in 4..=6 {
        last = chat_then_report(&engine, reporter, later);
    }
    let ban = ban_record(&last).expect("banned again");
    assert_eq!((ban.count, ban.until), (2, Timestamp(later.0 + 2 * HOUR)));
}

#[test]
fn a_banned_searcher_leaves_the_queue_and_chat_and_next_are_refused_until_expiry() {
    let engine = engine();
    cmd_at(&engine, TARGET, Command::Chat, NOW);
    let out = admin(&engine, ADMIN, &format!("/ban {TARGET} 2h spam links"), NOW);
    assert!(out
        .records
        .iter()
        .any(|r| matches!(r, Record::Dequeue { user, .. } if user.0 == TARGET)));
    let until = Arg::Until(at(2 * HOUR).0);
    assert_eq!(
        told_with(&out, TARGET),
        vec![(
            Text::BannedByAdmin,
            vec![until.clone(), Arg::Plain("spam links".into())]
        )]
    );
    assert_eq!(engine.presence_of(UserId(TARGET)), Presence::Idle);

    for command in [Command::Chat, Command::Next] {
        let out = cmd_at(&engine, TARGET, command, at(60));
        assert_eq!(
            told_with(&out, TARGET),
            vec![(Text::StillBanned, vec![until.clone()])]
        );
        assert_eq!(engine.presence_of(UserId(TARGET)), Presence::Idle);
    }
    assert_eq!(
        told(&cmd_at(&engine, TARGET, Command::Help, at(60)), TARGET),
        vec![Text::Help]
    );
    let out = cmd_at(&engine, TARGET, Command::Chat, at(2 * HOUR));
    assert_eq!(told(&out, TARGET), vec![Text::Searching], "the ban expired");
}

#[test]
fn admin_commands_are_unknown_to_everyone_else() {
    let engine = engine();
    for text in [
        "/admin",
        "/stats",
        "/ban 5 1h x",
        "/ban abc",
        "/unban 5",
        "/warn 5 hi",
    ] {
        let out = admin(&engine, 1, text, NOW);
        assert_eq!(
            out.sends,
            vec![Outbound::Tell {
                user: UserId(1),
                text: Text::UnknownCommand
            }],
            "{text}"
        );
        assert!(out.records.iter().all(|r| matches!(r, Record::Seen { .. })));
    }
}

#[test]
fn malformed_admin_commands_get_a_usage_hint() {
    let engine = engine();
    let cases = [
        ("/ban abc", Text::AdminBanUsage),
        ("/ban 5", Text::AdminBanUsage),
        ("/ban 5 soon rude", Text::AdminBanUsage),
        ("/ban 5 1h", Text::AdminBanUsage),
        ("/unban", Text::AdminUnbanUsage),
        ("/unban x", Text::AdminUnbanUsage),
        ("/warn 5", Text::AdminWarnUsage),
        ("/admin", Text::AdminHelp),
    ];
    for (text, usage) in cases {
        let out = admin(&engine, ADMIN, text, NOW);
        assert_eq!(told(&out, ADMIN), vec![usage], "{text}");
        assert!(
            out.records.iter().all(|r| matches!(r, Record::Seen { .. })),
            "{text}"
        );
    }
}

#[test]
fn admin_ban_perm_unban_warn_and_stats() {
    let engine = engine();
    pair(&engine, 1, 2, NOW);
    cmd_at(&engine, 3, Command::Chat, NOW);
    let out = admin(&engine, ADMIN, "/ban 2 perm scam", NOW);
    assert_eq!(told(&out, 1), vec![Text::PartnerLeft]);
    assert_eq!(
        told_with(&out, ADMIN),
        vec![(Text::AdminBanDone, vec![Arg::Until(0)])]
    );
    assert_eq!(
        engine.ban_in_force(UserId(2), at(1_000 * HOUR)),
        Some(Timestamp(0))
    );

    let out = admin(&engine, ADMIN, "/stats", NOW);
    let stats = vec![Arg::Number(1), Arg::Number(0), Arg::Number(1)];
    assert_eq!(told_with(&out, ADMIN), vec![(Text::AdminStats, stats)]);

    let out = admin(&engine, ADMIN, "/unban 2", NOW);
    assert!(out.records.contains(&Record::Unban { user: UserId(2) }));
    assert_eq!(told(&out, 2), vec![Text::Unbanned]);
    assert_eq!(told(&out, ADMIN), vec![Text::AdminUnbanDone]);
    let out = admin(&engine, ADMIN, "/unban 2", NOW);
    assert_eq!(told(&out, ADMIN), vec![Text::AdminNotBanned]);

    let out = admin(&engine, ADMIN, "/warn 2 be kind", NOW);
    assert_eq!(
        told_with(&out, 2),
        vec![(Text::Warned, vec![Arg::Plain("be kind".into())])]
    );
    assert_eq!(told(&out, ADMIN), vec![Text::AdminWarnDone]);
    engine.check_invariants().unwrap();
}

#[test]
fn bans_and_unused_reports_are_restored() {
    let engine = engine();
    let report = |reporter, reported, secs| Report {
        reporter: UserId(reporter),
        reported: UserId(reported),
        at: at(secs),
        reason: ReportReason::Other,
    };
    let snapshot = Snapshot {
        bans: vec![(
            UserId(7),
            Ban {
                until: at(HOUR),
                count: 1,
                reason: BanReason::Reports,
            },
        )],
        // Reports against 7 before its ban ended were used up by it.
        recent_reports: vec![
            report(1, 7, 0),
            report(2, 7, 10),
            report(1, TARGET, 0),
            report(2, TARGET, 5),
        ],
        ..Snapshot::default()
    };
    let restored = Engine::restore_with(&snapshot, EngineConfig::unlimited())
        .with_moderation(engine.moderation().clone());
    assert_eq!(restored.ban_in_force(UserId(7), at(5)), Some(at(HOUR)));
    let out = cmd_at(&restored, 7, Command::Chat, at(5));
    assert_eq!(told_with(&out, 7).len(), 1, "refused");
    assert_eq!(restored.reported_users(), 1);
    let out = chat_then_report(&restored, 3, at(20));
    assert_eq!(
        ban_record(&out).map(|b| b.count),
        Some(1),
        "two restored + one new"
    );
}

#[test]
fn maintenance_refuses_new_searches_keeps_chats_and_survives_a_restore() {
    let engine = engine();
    pair(&engine, 1, 2, NOW);
    assert_eq!(
        told(&admin(&engine, TARGET, "/maintenance on", NOW), TARGET),
        vec![Text::UnknownCommand],
        "only admins"
    );
    let out = admin(&engine, ADMIN, "/maintenance on", NOW);
    assert_eq!(told(&out, ADMIN), vec![Text::AdminMaintenanceOn]);
    assert!(out.records.contains(&Record::Maintenance { on: true }));
    let chat = cmd_at(&engine, 3, Command::Chat, NOW);
    assert_eq!(told(&chat, 3), vec![Text::Maintenance]);
    let relay = engine.handle(
        &Event::Message {
            user: UserId(1),
            message: crate::domain::MessageId(5),
            relayable: true,
            media: None,
        },
        NOW,
    );
    assert!(
        matches!(relay.sends[..], [Outbound::Relay { .. }]),
        "running chats go on"
    );
    let restored = Engine::restore(&crate::store::Snapshot {
        maintenance: true,
        ..Default::default()
    });
    assert_eq!(
        told(&cmd_at(&restored, 3, Command::Chat, NOW), 3),
        vec![Text::Maintenance]
    );
    assert_eq!(
        told(&admin(&engine, ADMIN, "/maintenance maybe", NOW), ADMIN),
        vec![Text::AdminMaintenanceUsage]
    );
    admin(&engine, ADMIN, "/maintenance off", NOW);
    assert_eq!(
        told(&cmd_at(&engine, 3, Command::Chat, NOW), 3),
        vec![Text::Searching]
    );
}
