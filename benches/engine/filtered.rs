//! `filtered/*`: matching with wishes, 8 filter buckets always active.
//!
//! Waiters are men who want women, in 8 classes: own age 20, 30, 40 or 60,
//! times a wished age range of 18–25 or 26–35. No two waiters accept each
//! other, so all 8 buckets stay full. Each seeker is a woman whose age and
//! wishes fit exactly one of the classes (her age is the low end of its
//! range, she wants a man of exactly its age), so every search looks at
//! all 8 buckets and finds its match in one of them. Profiles are loaded
//! through `Engine::restore`, as after a restart; recent partners and
//! ratings are kept as in a running bot.
//!
//! - `filtered/match`: one element is one match: a seeker's /chat, which
//!   finds the oldest compatible waiter among the 8 active buckets and
//!   pairs them (its records and sends built and dropped). Timed in runs of
//!   [`RUN`] matches; between runs, untimed, each seeker sends /stop and
//!   her partner sends /chat to go back to the end of his bucket. Target:
//!   at least 1,000,000 matches/s on one thread.
//! - `filtered/cycle`: one element is a match plus that /stop and that
//!   requeue, all timed: three engine calls, the whole round trip.

use super::{command, user};
use criterion::{black_box, Criterion, Throughput};
use randchat::domain::UserId;
use randchat::engine::{AgeRange, Command, Engine, EngineConfig, Gender, Presence, Profile};
use randchat::store::Snapshot;
use std::time::{Duration, Instant};

const CLASSES: usize = 8;
/// Waiters per class, and seekers per class.
const PER_CLASS: usize = 64;
/// Filtered users come after the other benchmarks' ids.
const FIRST: usize = 1_000_000;
/// Matches per timed run of `filtered/match`: 8 per class, so every
/// bucket keeps at least 56 waiters and all 8 stay active, and the two
/// clock reads per run are a small fraction of a nanosecond per match.
const RUN: usize = 64;
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

/// An engine with all waiters queued in their 8 buckets.
fn waiting_engine() -> Engine {
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
    engine
}

/// The `n`th seeker: classes in turn, each class's seekers in turn.
fn nth_seeker(n: usize) -> UserId {
    seeker(n % CLASSES, (n / CLASSES) % PER_CLASS)
}

/// The partner `s` was just matched with.
fn partner_of(engine: &Engine, s: UserId) -> UserId {
    let Presence::Chatting(partner) = engine.presence_of(s) else {
        panic!("a seeker always finds her class");
    };
    partner
}

/// Ends `s`'s chat and puts her partner back at the end of his bucket.
fn part(engine: &Engine, s: UserId, partner: UserId) {
    black_box(command(engine, s, Command::Stop));
    black_box(command(engine, partner, Command::Chat));
}

pub fn filtered(c: &mut Criterion) {
    let mut group = c.benchmark_group("filtered");
    group.throughput(Throughput::Elements(1));

    let engine = waiting_engine();
    let mut next = 0usize;
    for class in 0..CLASSES {
        let s = nth_seeker(next);
        next += 1;
        command(&engine, s, Command::Chat);
        let partner = partner_of(&engine, s);
        let index = (partner.0 - user(FIRST).0) as usize;
        assert_eq!(index / PER_CLASS, class, "setup: matched in her class");
        part(&engine, s, partner);
    }
    let mut matched = Vec::with_capacity(RUN);
    group.bench_function("match", |bench| {
        bench.iter_custom(|matches| {
            let mut timed = Duration::ZERO;
            let mut left = matches as usize;
            while left > 0 {
                let run = left.min(RUN);
                let seekers = (next..next + run).map(nth_seeker);
                next += run;
                let started = Instant::now();
                for s in seekers {
                    black_box(command(&engine, s, Command::Chat));
                }
                timed += started.elapsed();
                matched.extend((next - run..next).map(nth_seeker));
                for s in matched.drain(..) {
                    part(&engine, s, partner_of(&engine, s));
                }
                left -= run;
            }
            timed
        })
    });
    assert_eq!(engine.active_buckets(), CLASSES);
    assert_eq!(
        engine.counts(),
        (CLASSES * PER_CLASS, 0),
        "every run parted"
    );
    engine.check_invariants().expect("filtered invariants");

    let engine = waiting_engine();
    let mut next = 0usize;
    let mut cycle = || {
        let s = nth_seeker(next);
        next += 1;
        command(&engine, s, Command::Chat);
        let partner = partner_of(&engine, s);
        part(&engine, s, partner);
        partner
    };
    group.bench_function("cycle", |bench| bench.iter(|| black_box(cycle())));
    group.finish();
    assert_eq!(engine.active_buckets(), CLASSES);
    engine.check_invariants().expect("filtered invariants");
}
