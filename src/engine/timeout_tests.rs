//! Idle chats and long searches end on a tick, and nothing else does.

use super::tests::{cmd_at, msg_at, press, told, NOW};
use super::*;
use crate::i18n::Text;
use std::time::Duration;

const IDLE: u64 = 600;
const SEARCH: u64 = 300;

fn config() -> EngineConfig {
    EngineConfig {
        chat_idle_timeout: Some(Duration::from_secs(IDLE)),
        search_timeout: Some(Duration::from_secs(SEARCH)),
        ..EngineConfig::unlimited()
    }
}

fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 + secs)
}

fn tick(engine: &Engine, secs: u64) -> Outcome {
    let out = engine.handle(&Event::Tick, at(secs));
    engine.check_invariants().unwrap();
    out
}

/// 1 waits, 2 joins at `secs`: paired.
fn pair_at(engine: &Engine, a: i64, b: i64, secs: u64) {
    cmd_at(engine, a, Command::Chat, at(secs));
    cmd_at(engine, b, Command::Chat, at(secs));
    assert_eq!(engine.presence_of(UserId(a)), Presence::Chatting(UserId(b)));
}

#[test]
fn a_silent_chat_ends_at_the_idle_timeout_and_both_are_told() {
    let engine = Engine::with_config(config());
    pair_at(&engine, 1, 2, 0);
    assert_eq!(tick(&engine, IDLE - 1), Outcome::default());

    let out = tick(&engine, IDLE);
    assert_eq!(told(&out, 1), vec![Text::ChatIdleEnded]);
    assert_eq!(told(&out, 2), vec![Text::ChatIdleEnded]);
    // The two notices, then the two rating prompts.
    assert_eq!(out.sends.len(), 4);
    let (a, b) = (UserId(1), UserId(2));
    assert_eq!(
        out.records[..4],
        [
            Record::Unpair { a, b },
            Record::LastPartner {
                user: a,
                partner: b,
                ended_at: at(IDLE)
            },
            Record::LastPartner {
                user: b,
                partner: a,
                ended_at: at(IDLE)
            },
            Record::Count {
                counter: Counter::ChatsEnded,
                delta: 1
            },
        ]
    );
    assert_eq!(engine.presence_of(a), Presence::Idle);
    assert_eq!(engine.presence_of(b), Presence::Idle);
    let out = press(&engine, 2, "report:spam", at(IDLE + 1));
    assert_eq!(told(&out, 2), vec![Text::ReportThanks]);
    // Past the report window the last partners are forgotten, in the store too.
    let out = tick(&engine, 10 * IDLE + REPORT_WINDOW_SECS);
    assert!(out.sends.is_empty());
    assert_eq!(
        out.records,
        vec![
            Record::ForgetLastPartner { user: a },
            Record::ForgetLastPartner { user: b }
        ]
    );
    let out = cmd_at(
        &engine,
        2,
        Command::Report,
        at(10 * IDLE + REPORT_WINDOW_SECS),
    );
    assert_eq!(told(&out, 2), vec![Text::NothingToReport]);
    assert_eq!(
        tick(&engine, 20 * IDLE + REPORT_WINDOW_SECS),
        Outcome::default()
    );
}

#[test]
fn a_relayed_message_from_either_side_postpones_the_end() {
    let engine = Engine::with_config(config());
    pair_at(&engine, 1, 2, 0);
    msg_at(&engine, 1, 1, true, at(300));
    assert!(tick(&engine, IDLE).sends.is_empty());
    msg_at(&engine, 2, 2, true, at(500));
    assert!(tick(&engine, 300 + IDLE).sends.is_empty());
    assert!(tick(&engine, 500 + IDLE - 1).sends.is_empty());
    assert_eq!(
        told(&tick(&engine, 500 + IDLE), 1),
        vec![Text::ChatIdleEnded]
    );
}

#[test]
fn a_message_that_is_not_relayed_is_not_activity() {
    let engine = Engine::with_config(config());
    pair_at(&engine, 1, 2, 0);
    msg_at(&engine, 1, 1, false, at(300));
    assert_eq!(told(&tick(&engine, IDLE), 2), vec![Text::ChatIdleEnded]);
}

#[test]
fn a_new_chat_between_the_same_two_keeps_its_own_deadline() {
    let engine = Engine::with_config(config());
    pair_at(&engine, 1, 2, 0);
    cmd_at(&engine, 1, Command::Stop, at(10));
    pair_at(&engine, 1, 2, 500);
    assert!(tick(&engine, IDLE).sends.is_empty());
    assert_eq!(engine.presence_of(UserId(1)), Presence::Chatting(UserId(2)));
    assert_eq!(
        told(&tick(&engine, 500 + IDLE), 1),
        vec![Text::ChatIdleEnded]
    );
}

#[test]
fn a_search_ends_at_the_search_timeout() {
    let engine = Engine::with_config(config());
    cmd_at(&engine, 1, Command::Chat, at(0));
    let Presence::Searching(ticket) = engine.presence_of(UserId(1)) else {
        panic!("not searching");
    };
    assert_eq!(tick(&engine, SEARCH - 1), Outcome::default());
    let out = tick(&engine, SEARCH);
    assert_eq!(
        out.records,
        vec![Record::Dequeue {
            ticket,
            user: UserId(1)
        }]
    );
    assert_eq!(told(&out, 1), vec![Text::SearchTimedOut]);
    assert_eq!(engine.presence_of(UserId(1)), Presence::Idle);
    assert_eq!(engine.counts(), (0, 0));

    // They can search again, and the next one to look finds them.
    cmd_at(&engine, 1, Command::Chat, at(SEARCH + 1));
    cmd_at(&engine, 2, Command::Chat, at(SEARCH + 2));
    assert_eq!(engine.presence_of(UserId(1)), Presence::Chatting(UserId(2)));
}

#[test]
fn a_search_that_found_someone_or_was_stopped_is_left_alone() {
    let engine = Engine::with_config(config());
    pair_at(&engine, 1, 2, 0);
    cmd_at(&engine, 3, Command::Chat, at(0));
    cmd_at(&engine, 3, Command::Stop, at(1));
    cmd_at(&engine, 3, Command::Chat, at(200));
    let out = tick(&engine, SEARCH);
    assert!(out.sends.is_empty(), "{out:?}");
    assert!(matches!(
        engine.presence_of(UserId(3)),
        Presence::Searching(_)
    ));
    assert_eq!(
        told(&tick(&engine, 200 + SEARCH), 3),
        vec![Text::SearchTimedOut]
    );
}

#[test]
fn zero_or_none_disables_each_timeout() {
    for off in [None, Some(Duration::ZERO)] {
        let engine = Engine::with_config(EngineConfig {
            chat_idle_timeout: off,
            search_timeout: off,
            ..config()
        });
        pair_at(&engine, 1, 2, 0);
        cmd_at(&engine, 3, Command::Chat, at(0));
        assert_eq!(tick(&engine, 1_000_000), Outcome::default());
        assert_eq!(engine.counts(), (1, 1));
        assert_eq!(engine.tracked().0, 0, "nothing is put on the clock");
    }
    // One can be on while the other is off.
    let engine = Engine::with_config(EngineConfig {
        search_timeout: None,
        ..config()
    });
    pair_at(&engine, 1, 2, 0);
    cmd_at(&engine, 3, Command::Chat, at(0));
    let out = tick(&engine, IDLE);
    assert_eq!(told(&out, 1), vec![Text::ChatIdleEnded]);
    assert!(told(&out, 3).is_empty());
}

#[test]
fn restored_chats_and_searches_count_from_the_first_tick() {
    let long_ago = Timestamp(1_000);
    let snapshot = Snapshot {
        pairs: vec![(UserId(1), UserId(2), long_ago)],
        waiting: vec![(Ticket(7), UserId(3), long_ago)],
        ..Snapshot::default()
    };
    let engine = Engine::restore_with(&snapshot, config());
    engine.check_invariants().unwrap();
    assert_eq!(engine.config(), config());
    assert_eq!(tick(&engine, 0), Outcome::default());
    assert_eq!(tick(&engine, SEARCH - 1), Outcome::default());
    assert_eq!(told(&tick(&engine, SEARCH), 3), vec![Text::SearchTimedOut]);
    msg_at(&engine, 2, 1, true, at(100));
    assert!(tick(&engine, IDLE).sends.is_empty());
    assert_eq!(
        told(&tick(&engine, 100 + IDLE), 1),
        vec![Text::ChatIdleEnded]
    );
    tick(&engine, 100 + IDLE + REPORT_WINDOW_SECS);
    assert_eq!(engine.tracked().0, 0);
}

#[test]
fn restore_keeps_the_defaults() {
    let engine = Engine::restore(&Snapshot::default());
    assert_eq!(engine.config(), EngineConfig::default());
    assert_eq!(Engine::new().config(), EngineConfig::default());
}

#[test]
fn stale_deadlines_leave_once_their_time_has_passed() {
    let engine = Engine::with_config(config());
    for round in 0..50 {
        pair_at(&engine, 1, 2, round);
        cmd_at(&engine, 1, Command::Stop, at(round));
    }
    pair_at(&engine, 5, 6, 100);
    // Each round left a chat deadline and a search deadline (1 waited);
    // the /stops left one report-window deadline per user, re-armed for
    // their latest chat when it falls due.
    assert_eq!(engine.tracked().0, 2 * 51 + 2);
    tick(&engine, IDLE.max(REPORT_WINDOW_SECS) + 50);
    assert_eq!(
        engine.tracked().0,
        1,
        "only the live chat 5–6 is on the clock"
    );
}
