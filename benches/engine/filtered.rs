//! `filtered/match`: matching with wishes, 8 filter buckets always active.
//!
//! Waiters are men who want women, in 8 classes: own age 20, 30, 40 or 60,
//! times a wished age range of 18–25 or 26–35. No two waiters accept each
//! other, so all 8 buckets stay full. Each seeker is a woman whose age and
//! wishes fit exactly one of the classes (her age is the low end of its
//! range, she wants a man of exactly its age), so every search checks all
//! 8 buckets and finds its match in one of them.
//!
//! One element is one match: a seeker sends /chat (paired with the oldest
//! waiter of her class), then /stop, and the waiter sends /chat again to
//! go back to the end of his bucket. Profiles are loaded through
//! `Engine::restore`, as after a restart; recent partners and ratings are
//! kept as in a running bot. Target: at least 1,000,000 matches/s on one
//! thread.

use super::{command, user};
use criterion::{black_box, Criterion, Throughput};
use randchat::domain::UserId;
use randchat::engine::{AgeRange, Command, Engine, EngineConfig, Gender, Presence, Profile};
use randchat::store::Snapshot;

const CLASSES: usize = 8;
/// Waiters per class, and seekers per class.
const PER_CLASS: usize = 64;
/// Filtered users come after the other benchmarks' ids.
const FIRST: usize = 1_000_000;
const AGES: [u8; 4] = [20, 30, 40, 60];
const RANGES: [AgeRange; 2] = [AgeRange { min: 18, max: 25 }, AgeRange { min: 26, max: 35 }];

fn waiter(class: usize, i: usize) -> UserId {
    user(FIRST + class * PER_CLASS + i)
}

fn seeker(class: usize, i: usize) -> UserId {
    user(FIRST + (CLASSES + class) * PER_CLASS + i)
}

fn profiles() -> Vec<(UserId, Profile)> {
    let mut all = Vec::new();
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
            all.push((waiter(class, i), man));
            all.push((seeker(class, i), woman));
        }
    }
    all
}

pub fn filtered(c: &mut Criterion) {
    // Flood control off: with the bench's frozen clock every seeker's
    // /chat would count within one minute and soon be refused.
    let snapshot = Snapshot {
        profiles: profiles(),
        ..Snapshot::default()
    };
    let engine = Engine::restore_with(&snapshot, EngineConfig::unlimited());
    for class in 0..CLASSES {
        for i in 0..PER_CLASS {
            command(&engine, waiter(class, i), Command::Chat);
        }
    }
    assert_eq!(engine.counts(), (CLASSES * PER_CLASS, 0), "setup: all wait");
    assert_eq!(engine.active_buckets(), CLASSES, "setup: 8 active buckets");

    let mut next = 0usize;
    let mut cycle = || {
        let class = next % CLASSES;
        let s = seeker(class, (next / CLASSES) % PER_CLASS);
        next += 1;
        command(&engine, s, Command::Chat);
        let Presence::Chatting(partner) = engine.presence_of(s) else {
            panic!("a seeker always finds her class");
        };
        black_box(command(&engine, s, Command::Stop));
        black_box(command(&engine, partner, Command::Chat));
        partner
    };
    for class in 0..CLASSES {
        let partner = cycle();
        let index = (partner.0 - user(FIRST).0) as usize;
        assert_eq!(index / PER_CLASS, class, "setup: matched in her class");
    }

    let mut group = c.benchmark_group("filtered");
    group.throughput(Throughput::Elements(1));
    group.bench_function("match", |bench| bench.iter(|| black_box(cycle())));
    group.finish();
    assert_eq!(engine.active_buckets(), CLASSES);
    engine.check_invariants().expect("filtered invariants");
}
