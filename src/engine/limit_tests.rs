//! Flood control: bursts pass, floods are dropped with one warning, and
//! nobody else notices.

use super::tests::{cmd_at, msg_at, relays, told, NOW};
use super::*;
use crate::i18n::Text;

const MESSAGES: u32 = 5;
const SEARCHES: u32 = 3;

fn config() -> EngineConfig {
    EngineConfig {
        message_rate_limit: MESSAGES,
        next_rate_limit: SEARCHES,
        ..EngineConfig::unlimited()
    }
}

fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 + secs)
}

/// Pairs `a` (who waits) with `b`.
fn pair(engine: &Engine, a: i64, b: i64, secs: u64) {
    cmd_at(engine, a, Command::Chat, at(secs));
    cmd_at(engine, b, Command::Chat, at(secs));
    assert_eq!(engine.presence_of(UserId(a)), Presence::Chatting(UserId(b)));
}

fn relayed_count(out: &Outcome) -> bool {
    out.records.iter().any(|r| {
        matches!(
            r,
            Record::Count {
                counter: Counter::Relayed,
                ..
            }
        )
    })
}

#[test]
fn a_burst_passes_and_a_flood_is_dropped_with_one_warning() {
    let engine = Engine::with_config(config());
    pair(&engine, 1, 2, 0);
    for id in 0..MESSAGES as i32 {
        let out = msg_at(&engine, 1, id, true, at(1));
        assert!(relays(&out, 1) && relayed_count(&out), "message {id}");
    }
    let out = msg_at(&engine, 1, 99, true, at(1));
    assert!(!relays(&out, 1) && !relayed_count(&out));
    assert_eq!(told(&out, 1), vec![Text::SlowDownMessages]);
    assert!(told(&out, 2).is_empty());
    for secs in [1, 2, 30, 60] {
        let out = msg_at(&engine, 1, 100, true, at(secs));
        assert!(out.sends.is_empty(), "silently dropped at {secs}: {out:?}");
        assert_eq!(
            out.records,
            vec![Record::Seen {
                user: UserId(1),
                at: at(secs)
            }]
        );
    }
    // The partner is not limited by 1's flood.
    assert!(relays(&msg_at(&engine, 2, 1, true, at(2)), 2));

    // The burst at 1 s leaves the window at 61 s.
    for id in 0..MESSAGES as i32 {
        assert!(relays(&msg_at(&engine, 1, id, true, at(61)), 1));
    }
    // A new stretch gets a new warning.
    let out = msg_at(&engine, 1, 0, true, at(62));
    assert_eq!(told(&out, 1), vec![Text::SlowDownMessages]);
    engine.check_invariants().unwrap();
}

#[test]
fn a_steady_sender_under_the_rate_is_never_limited() {
    let engine = Engine::with_config(config());
    pair(&engine, 1, 2, 0);
    // One message every 12 s is exactly five a minute.
    for n in 0..50u64 {
        assert!(relays(&msg_at(&engine, 1, n as i32, true, at(n * 12)), 1));
    }
}

#[test]
fn only_messages_sent_while_chatting_count() {
    let engine = Engine::with_config(config());
    for id in 0..20 {
        assert_eq!(
            told(&msg_at(&engine, 1, id, true, at(0)), 1),
            vec![Text::NotInChat]
        );
    }
    cmd_at(&engine, 1, Command::Chat, at(0));
    for id in 0..20 {
        assert_eq!(
            told(&msg_at(&engine, 1, id, true, at(0)), 1),
            vec![Text::StillSearching]
        );
    }
    cmd_at(&engine, 2, Command::Chat, at(0));
    for id in 0..MESSAGES as i32 {
        assert!(relays(&msg_at(&engine, 1, id, true, at(0)), 1));
    }
}

#[test]
fn unsupported_messages_count_too() {
    let engine = Engine::with_config(config());
    pair(&engine, 1, 2, 0);
    for id in 0..MESSAGES as i32 {
        let out = msg_at(&engine, 1, id, false, at(0));
        assert_eq!(told(&out, 1), vec![Text::UnsupportedMessage]);
    }
    let out = msg_at(&engine, 1, 0, false, at(0));
    assert_eq!(told(&out, 1), vec![Text::SlowDownMessages]);
    assert!(msg_at(&engine, 1, 0, true, at(0)).sends.is_empty());
}

#[test]
fn next_is_limited_and_the_chat_goes_on_when_it_is_refused() {
    let engine = Engine::with_config(config());
    for waiter in 10..20 {
        cmd_at(&engine, waiter, Command::Chat, at(0));
        cmd_at(&engine, waiter + 100, Command::Chat, at(0));
    }
    // Ten pairs chatting; 1 takes a partner from a queue refilled by hand.
    let refill = |user: i64| {
        cmd_at(&engine, user, Command::Chat, at(0));
    };
    refill(50);
    cmd_at(&engine, 1, Command::Chat, at(0)); // search 1
    assert_eq!(
        engine.presence_of(UserId(1)),
        Presence::Chatting(UserId(50))
    );
    refill(51);
    let out = cmd_at(&engine, 1, Command::Next, at(1)); // search 2
    assert_eq!(told(&out, 50), vec![Text::PartnerLeft]);
    refill(52);
    cmd_at(&engine, 1, Command::Next, at(2)); // search 3
    assert_eq!(
        engine.presence_of(UserId(1)),
        Presence::Chatting(UserId(52))
    );
    refill(53);

    let out = cmd_at(&engine, 1, Command::Next, at(3));
    assert_eq!(told(&out, 1), vec![Text::SlowDownSearches]);
    assert!(told(&out, 52).is_empty());
    assert_eq!(out.records.len(), 1, "only Seen: {out:?}");
    assert_eq!(
        engine.presence_of(UserId(1)),
        Presence::Chatting(UserId(52))
    );
    // Refused quietly for the rest of the stretch, /chat included.
    assert!(cmd_at(&engine, 1, Command::Next, at(4)).sends.is_empty());
    let out = cmd_at(&engine, 1, Command::Stop, at(5));
    assert_eq!(told(&out, 1), vec![Text::YouLeftChat]);
    assert!(cmd_at(&engine, 1, Command::Chat, at(6)).sends.is_empty());
    assert_eq!(engine.presence_of(UserId(1)), Presence::Idle);
    // Answers that start no search are never limited.
    assert_eq!(
        told(&cmd_at(&engine, 1, Command::Help, at(7)), 1),
        vec![Text::Help]
    );
    // Others are unaffected: 53 is still waiting and 60 finds them.
    cmd_at(&engine, 60, Command::Chat, at(7));
    assert_eq!(
        engine.presence_of(UserId(60)),
        Presence::Chatting(UserId(53))
    );

    // The first search left the window at 60 s.
    let out = cmd_at(&engine, 1, Command::Chat, at(60));
    assert_eq!(told(&out, 1), vec![Text::Searching]);
    engine.check_invariants().unwrap();
}

#[test]
fn commands_that_start_no_search_are_not_charged() {
    let engine = Engine::with_config(config());
    cmd_at(&engine, 1, Command::Chat, at(0));
    for _ in 0..10 {
        let out = cmd_at(&engine, 1, Command::Next, at(0));
        assert_eq!(told(&out, 1), vec![Text::AlreadySearching]);
        let out = cmd_at(&engine, 1, Command::Chat, at(0));
        assert_eq!(told(&out, 1), vec![Text::AlreadySearching]);
    }
    cmd_at(&engine, 1, Command::Stop, at(0));
    for _ in 1..SEARCHES {
        cmd_at(&engine, 1, Command::Chat, at(0));
        cmd_at(&engine, 1, Command::Stop, at(0));
    }
    let out = cmd_at(&engine, 1, Command::Next, at(0));
    assert_eq!(told(&out, 1), vec![Text::SlowDownSearches]);
}

#[test]
fn zero_means_no_limit() {
    let engine = Engine::with_config(EngineConfig::unlimited());
    pair(&engine, 1, 2, 0);
    for id in 0..1_000 {
        assert!(relays(&msg_at(&engine, 1, id, true, at(0)), 1));
    }
    assert_eq!(engine.tracked(), (0, 0));
}

#[test]
fn idle_users_are_forgotten_by_a_later_tick() {
    let engine = Engine::with_config(config());
    pair(&engine, 1, 2, 0);
    msg_at(&engine, 1, 1, true, at(0));
    assert_eq!(engine.tracked().1, 2);
    engine.handle(&Event::Tick, at(30));
    assert_eq!(engine.tracked().1, 2, "windows still hold hits");
    engine.handle(&Event::Tick, at(120));
    assert_eq!(engine.tracked().1, 0);
}
