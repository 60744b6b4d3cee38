//! A profiling harness for the engine bench's `filtered/match` workload:
//! the same 8 full filter buckets and the same element (a seeker's /chat
//! that matches, her /stop, the waiter's requeue), run a fixed number of
//! times with no criterion around it, so `valgrind --tool=callgrind`
//! instruction counts divide cleanly by the number of matches.
//!
//! ```text
//! cargo build --profile profiling --example filtered_profile
//! valgrind --tool=callgrind --toggle-collect='*filtered_profile::run*' \
//!     target/profiling/examples/filtered_profile 200000
//! ```
//!
//! Speed is measured by the bench (`cargo bench --bench engine -- filtered`),
//! never here.

use randchat::domain::{Timestamp, UserId};
use randchat::engine::{AgeRange, Command, Engine, EngineConfig, Event, Gender, Presence, Profile};
use randchat::store::Snapshot;
use std::hint::black_box;

const NOW: Timestamp = Timestamp(1_700_000_000);
const CLASSES: usize = 8;
const PER_CLASS: usize = 64;
const FIRST: i64 = 1_001_000_000;
const AGES: [u8; 4] = [20, 30, 40, 60];
const RANGES: [AgeRange; 2] = [AgeRange { min: 18, max: 25 }, AgeRange { min: 26, max: 35 }];

fn waiter(class: usize, i: usize) -> UserId {
    UserId(FIRST + (class * PER_CLASS + i) as i64)
}

fn seeker(class: usize, i: usize) -> UserId {
    UserId(FIRST + ((CLASSES + class) * PER_CLASS + i) as i64)
}

fn command(engine: &Engine, user: UserId, command: Command) {
    black_box(engine.handle(&Event::Command { user, command }, NOW));
}

fn main() {
    let matches: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |n| n.parse().expect("a number of matches"));
    let mut profiles = Vec::new();
    for class in 0..CLASSES {
        let (age, range) = (AGES[class % 4], RANGES[class / 4]);
        for i in 0..PER_CLASS {
            let man = Profile {
                gender: Some(Gender::Male),
                age: Some(age),
                wants_gender: Some(Gender::Female),
                wants_age: Some(range),
                ..Profile::default()
            };
            let woman = Profile {
                gender: Some(Gender::Female),
                age: Some(range.min),
                wants_gender: Some(Gender::Male),
                wants_age: Some(AgeRange { min: age, max: age }),
                ..Profile::default()
            };
            profiles.push((waiter(class, i), man));
            profiles.push((seeker(class, i), woman));
        }
    }
    let snapshot = Snapshot {
        profiles,
        ..Snapshot::default()
    };
    let engine = Engine::restore_with(&snapshot, EngineConfig::unlimited());
    for class in 0..CLASSES {
        for i in 0..PER_CLASS {
            command(&engine, waiter(class, i), Command::Chat);
        }
    }
    assert_eq!(engine.active_buckets(), CLASSES);
    run(&engine, matches);
    assert_eq!(engine.active_buckets(), CLASSES);
    engine.check_invariants().expect("invariants");
}

/// The measured part: `--toggle-collect=*run*` counts only this. The
/// three calls of an element are separate functions, so callgrind's
/// inclusive counts split it into the match, the /stop and the requeue.
#[inline(never)]
fn run(engine: &Engine, matches: usize) {
    for next in 0..matches {
        let s = seeker(next % CLASSES, (next / CLASSES) % PER_CLASS);
        matching_chat(engine, s);
        let Presence::Chatting(partner) = engine.presence_of(s) else {
            panic!("a seeker always finds her class");
        };
        stop(engine, s);
        requeue(engine, partner);
    }
}

#[inline(never)]
fn matching_chat(engine: &Engine, s: UserId) {
    command(engine, s, Command::Chat);
}

#[inline(never)]
fn stop(engine: &Engine, s: UserId) {
    command(engine, s, Command::Stop);
}

#[inline(never)]
fn requeue(engine: &Engine, waiter: UserId) {
    command(engine, waiter, Command::Chat);
}
