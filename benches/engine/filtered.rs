//! `filtered/*`: matching with wishes, 8 filter buckets always active.
//!
//! The workload is `filtered_workload.rs`: 8 buckets always full, each
//! seeker fitting exactly one, so every search looks at all 8.
//!
//! - `filtered/match`: one element is one match: a seeker's /chat, which
//!   finds the oldest compatible waiter among the 8 active buckets and
//!   pairs them (its records and sends built and dropped). Timed in runs of
//!   [`RUN`] matches; between runs, untimed, each seeker sends /stop and
//!   her partner sends /chat to go back to the end of his bucket. Target:
//!   at least 1,000,000 matches/s on one thread.
//! - `filtered/cycle`: one element is a match plus that /stop and that
//!   requeue, all timed: three engine calls, the whole round trip.

use super::filtered_workload::{nth_seeker, waiter, waiting_engine, CLASSES, PER_CLASS};
use super::{command, NOW};
use criterion::{black_box, Criterion, Throughput};
use randchat::domain::UserId;
use randchat::engine::{Command, Engine, Presence};
use std::time::{Duration, Instant};

/// Matches per timed run of `filtered/match`: 8 per class, so every
/// bucket keeps at least 56 waiters and all 8 stay active, and the two
/// clock reads per run are a small fraction of a nanosecond per match.
const RUN: usize = 64;
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

    let engine = waiting_engine(NOW);
    let mut next = 0usize;
    for class in 0..CLASSES {
        let s = nth_seeker(next);
        next += 1;
        command(&engine, s, Command::Chat);
        let partner = partner_of(&engine, s);
        let in_her_class = (0..PER_CLASS).any(|i| waiter(class, i) == partner);
        assert!(in_her_class, "setup: matched in her class");
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

    let engine = waiting_engine(NOW);
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
