//! The rules, one (state, input) pair at a time.

use super::*;
use crate::domain::{ChatId, MessageId};
use crate::i18n::Text;

pub(super) const NOW: Timestamp = Timestamp(1_700_000_000);

fn cmd(engine: &Engine, user: i64, command: Command) -> Outcome {
    cmd_at(engine, user, command, NOW)
}

pub(super) fn cmd_at(engine: &Engine, user: i64, command: Command, at: Timestamp) -> Outcome {
    engine.handle(
        &Event::Command {
            user: UserId(user),
            command,
        },
        at,
    )
}

fn msg(engine: &Engine, user: i64, id: i32, relayable: bool) -> Outcome {
    msg_at(engine, user, id, relayable, NOW)
}

pub(super) fn msg_at(
    engine: &Engine,
    user: i64,
    id: i32,
    relayable: bool,
    at: Timestamp,
) -> Outcome {
    engine.handle(
        &Event::Message {
            user: UserId(user),
            message: MessageId(id),
            relayable,
            media: None,
        },
        at,
    )
}

/// Whether `out` relays a message from `from`.
pub(super) fn relays(out: &Outcome, from: i64) -> bool {
    out.sends
        .iter()
        .any(|send| matches!(send, Outbound::Relay { from: f, .. } if f.0 == from))
}

pub(super) fn told(out: &Outcome, user: i64) -> Vec<Text> {
    out.sends
        .iter()
        .filter_map(|send| match send {
            Outbound::Tell { user: u, text } if u.0 == user => Some(*text),
            _ => None,
        })
        .collect()
}

fn paired(a: i64, b: i64) -> Engine {
    let engine = Engine::new();
    cmd(&engine, a, Command::Chat);
    cmd(&engine, b, Command::Chat);
    assert_eq!(engine.presence_of(UserId(a)), Presence::Chatting(UserId(b)));
    engine
}

#[test]
fn first_searcher_waits_and_second_is_paired_with_them() {
    let engine = Engine::new();
    let out = cmd(&engine, 1, Command::Chat);
    assert_eq!(told(&out, 1), vec![Text::Searching]);
    assert!(matches!(
        engine.presence_of(UserId(1)),
        Presence::Searching(_)
    ));
    assert!(out
        .records
        .iter()
        .any(|r| matches!(r, Record::Enqueue { .. })));

    let out = cmd(&engine, 2, Command::Chat);
    assert_eq!(told(&out, 1), vec![Text::PartnerFound]);
    assert_eq!(told(&out, 2), vec![Text::PartnerFound]);
    assert!(out.records.contains(&Record::Pair {
        a: UserId(1),
        b: UserId(2),
        since: NOW
    }));
    assert_eq!(engine.presence_of(UserId(2)), Presence::Chatting(UserId(1)));
    engine.check_invariants().unwrap();
}

#[test]
fn messages_relay_only_inside_a_chat() {
    let engine = Engine::new();
    assert_eq!(told(&msg(&engine, 1, 10, true), 1), vec![Text::NotInChat]);
    cmd(&engine, 1, Command::Chat);
    assert_eq!(
        told(&msg(&engine, 1, 11, true), 1),
        vec![Text::StillSearching]
    );
    cmd(&engine, 2, Command::Chat);
    let out = msg(&engine, 1, 12, true);
    assert_eq!(
        out.sends,
        vec![Outbound::Relay {
            from: UserId(1),
            to: UserId(2),
            message: MessageId(12)
        }]
    );
    let out = msg(&engine, 2, 5, false);
    assert_eq!(
        out.sends,
        vec![Outbound::Tell {
            user: UserId(2),
            text: Text::UnsupportedMessage
        }]
    );
}

#[test]
fn stop_ends_the_chat_and_tells_the_partner() {
    let engine = paired(1, 2);
    let out = cmd(&engine, 2, Command::Stop);
    assert_eq!(told(&out, 1), vec![Text::PartnerLeft]);
    assert_eq!(told(&out, 2), vec![Text::YouLeftChat]);
    assert_eq!(engine.presence_of(UserId(1)), Presence::Idle);
    assert_eq!(engine.presence_of(UserId(2)), Presence::Idle);
    assert!(out.records.contains(&Record::Unpair {
        a: UserId(2),
        b: UserId(1)
    }));
}

#[test]
fn next_ends_the_chat_and_searches_again_without_the_old_partner() {
    let engine = paired(1, 2);
    let out = cmd(&engine, 1, Command::Next);
    assert_eq!(told(&out, 2), vec![Text::PartnerLeft]);
    assert_eq!(told(&out, 1), vec![Text::SearchingAgain]);
    assert!(matches!(
        engine.presence_of(UserId(1)),
        Presence::Searching(_)
    ));
    assert_eq!(engine.presence_of(UserId(2)), Presence::Idle);

    let out = cmd(&engine, 3, Command::Chat);
    assert_eq!(told(&out, 1), vec![Text::PartnerFound]);
    assert_eq!(engine.presence_of(UserId(3)), Presence::Chatting(UserId(1)));
}

#[test]
fn every_state_and_command_has_an_answer() {
    use Command::*;
    let cases: [(Command, [Vec<Text>; 3]); 6] = [
        // (command, [idle, searching, chatting])
        (
            Start,
            [
                vec![Text::Welcome],
                vec![Text::Welcome, Text::StatusSearching],
                vec![Text::Welcome, Text::StatusChatting],
            ],
        ),
        (Help, [vec![Text::Help], vec![Text::Help], vec![Text::Help]]),
        (
            Chat,
            [
                vec![Text::Searching],
                vec![Text::AlreadySearching],
                vec![Text::AlreadyChatting],
            ],
        ),
        (
            Next,
            [
                vec![Text::Searching],
                vec![Text::AlreadySearching],
                vec![Text::SearchingAgain],
            ],
        ),
        (
            Stop,
            [
                vec![Text::NothingToStop],
                vec![Text::SearchStopped],
                vec![Text::YouLeftChat],
            ],
        ),
        (
            Unknown,
            [
                vec![Text::UnknownCommand],
                vec![Text::UnknownCommand],
                vec![Text::UnknownCommand],
            ],
        ),
    ];
    for (command, [idle, searching, chatting]) in cases {
        let engine = Engine::new();
        assert_eq!(
            told(&cmd(&engine, 1, command.clone()), 1),
            idle,
            "{command:?} while idle"
        );

        let engine = Engine::new();
        cmd(&engine, 1, Chat);
        assert_eq!(
            told(&cmd(&engine, 1, command.clone()), 1),
            searching,
            "{command:?} while searching"
        );

        let engine = paired(2, 1);
        assert_eq!(
            told(&cmd(&engine, 1, command.clone()), 1),
            chatting,
            "{command:?} while chatting"
        );
        engine.check_invariants().unwrap();
    }
}

#[test]
fn report_asks_why_then_targets_the_current_or_last_partner() {
    let engine = Engine::new();
    assert_eq!(
        told(&cmd(&engine, 1, Command::Report), 1),
        vec![Text::NothingToReport]
    );

    let engine = paired(1, 2);
    let out = cmd(&engine, 1, Command::Report);
    assert_eq!(
        out.sends,
        vec![Outbound::AskReportReason { user: UserId(1) }]
    );
    assert!(out
        .records
        .iter()
        .all(|r| !matches!(r, Record::FiledReport { .. })));
    let out = press(&engine, 1, "report:abuse", NOW);
    assert_eq!(told(&out, 1), vec![Text::ReportThanks]);
    assert!(told(&out, 2).is_empty(), "the reported user is never told");
    assert!(out.records.contains(&Record::FiledReport {
        id: ReportId(1),
        report: Report {
            reporter: UserId(1),
            reported: UserId(2),
            at: NOW,
            reason: ReportReason::Abuse,
        }
    }));

    cmd(&engine, 2, Command::Stop);
    let out = press(&engine, 1, "report:spam", NOW);
    assert!(out.records.iter().any(
        |r| matches!(r, Record::FiledReport { report: rep, .. } if rep.reported == UserId(2))
    ));
}

/// A press of the button with `data`; asserts the query is answered.
pub(super) fn press(engine: &Engine, user: i64, data: &str, at: Timestamp) -> Outcome {
    let out = engine.handle(
        &Event::Callback {
            user: UserId(user),
            query_id: format!("q{user}"),
            data: data.to_owned(),
        },
        at,
    );
    let answered = out.sends.iter().any(|send| {
        matches!(send, Outbound::AnswerCallback { user: u, query_id, .. }
            if u.0 == user && *query_id == format!("q{user}"))
    });
    assert!(answered, "the press was not answered: {out:?}");
    out
}

#[test]
fn the_queue_is_first_in_first_out() {
    let engine = Engine::new();
    for user in 1..=5 {
        cmd(&engine, user, Command::Chat);
        cmd(&engine, user + 100, Command::Stop); // noise from idle users
    }
    // 1 and 2 were paired, 3 and 4 were paired, 5 waits.
    assert_eq!(engine.presence_of(UserId(1)), Presence::Chatting(UserId(2)));
    assert_eq!(engine.presence_of(UserId(3)), Presence::Chatting(UserId(4)));
    cmd(&engine, 6, Command::Chat);
    cmd(&engine, 7, Command::Chat);
    assert_eq!(engine.presence_of(UserId(6)), Presence::Chatting(UserId(5)));
    assert!(matches!(
        engine.presence_of(UserId(7)),
        Presence::Searching(_)
    ));
}

#[test]
fn groups_are_told_and_left() {
    let engine = Engine::new();
    let out = engine.handle(&Event::NotPrivate { chat: ChatId(-100) }, NOW);
    assert_eq!(
        out.sends,
        vec![
            Outbound::TellChat {
                chat: ChatId(-100),
                text: Text::PrivateChatsOnly
            },
            Outbound::LeaveChat { chat: ChatId(-100) }
        ]
    );
    assert!(out.records.is_empty());
}

#[test]
fn restore_resumes_pairs_queue_and_last_partners() {
    let engine = paired(1, 2);
    cmd(&engine, 3, Command::Chat);
    cmd(&engine, 4, Command::Chat);
    cmd(&engine, 4, Command::Stop);
    cmd(&engine, 5, Command::Chat);
    let snapshot = Snapshot {
        pairs: vec![(UserId(1), UserId(2), NOW)],
        waiting: vec![(Ticket(9), UserId(5), NOW)],
        last_partners: vec![(UserId(3), UserId(4), NOW)],
        ..Snapshot::default()
    };
    let restored = Engine::restore(&snapshot);
    restored.check_invariants().unwrap();
    assert_eq!(
        restored.presence_of(UserId(2)),
        Presence::Chatting(UserId(1))
    );
    assert_eq!(
        restored.presence_of(UserId(5)),
        Presence::Searching(Ticket(9))
    );
    let out = press(&restored, 3, "report:other", NOW);
    assert!(out.records.iter().any(
        |r| matches!(r, Record::FiledReport { report: rep, .. } if rep.reported == UserId(4))
    ));
    let out = cmd(&restored, 6, Command::Chat);
    assert_eq!(told(&out, 5), vec![Text::PartnerFound]);
}

#[test]
fn an_unreachable_user_leaves_the_chat_or_the_queue() {
    let engine = paired(1, 2);
    let out = engine.handle(&Event::Unreachable { user: UserId(2) }, NOW);
    assert_eq!(told(&out, 1), vec![Text::PartnerLeft]);
    assert!(told(&out, 2).is_empty());
    assert_eq!(engine.presence_of(UserId(1)), Presence::Idle);

    cmd(&engine, 3, Command::Chat);
    let out = engine.handle(&Event::Unreachable { user: UserId(3) }, NOW);
    assert!(out.sends.is_empty());
    assert_eq!(engine.presence_of(UserId(3)), Presence::Idle);
    engine.check_invariants().unwrap();
}
