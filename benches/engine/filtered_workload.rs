//! The filtered workload, shared by the engine bench's `filtered/*`
//! (`benches/engine/filtered.rs`) and its callgrind harness
//! (`examples/filtered_profile.rs`), so both measure the same thing.
//!
//! Waiters are men who want women, in 8 classes: own age 20, 30, 40 or 60,
//! times a wished age range of 18–25 or 26–35. No two waiters accept each
//! other, so all 8 buckets stay full. Each seeker is a woman whose age and
//! wishes fit exactly one of the classes (her age is the low end of its
//! range, she wants a man of exactly its age), so every search looks at
//! all 8 buckets and finds its match in one of them. Profiles are loaded
//! through `Engine::restore`, as after a restart.

use randchat::domain::UserId;
use randchat::engine::{AgeRange, Command, Engine, EngineConfig, Event, Gender, Profile};
use randchat::store::Snapshot;

pub const CLASSES: usize = 8;
/// Waiters per class, and seekers per class.
pub const PER_CLASS: usize = 64;
/// Filtered users come after the other benchmarks' ids.
const FIRST: i64 = 1_001_000_000;
const AGES: [u8; 4] = [20, 30, 40, 60];
const RANGES: [AgeRange; 2] = [AgeRange { min: 18, max: 25 }, AgeRange { min: 26, max: 35 }];

pub fn waiter(class: usize, i: usize) -> UserId {
    UserId(FIRST + (class * PER_CLASS + i) as i64)
}

pub fn seeker(class: usize, i: usize) -> UserId {
    UserId(FIRST + ((CLASSES + class) * PER_CLASS + i) as i64)
}

/// The `n`th seeker: classes in turn, each class's seekers in turn.
pub fn nth_seeker(n: usize) -> UserId {
    seeker(n % CLASSES, (n / CLASSES) % PER_CLASS)
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

/// An engine with all waiters queued in their 8 buckets, as of `now`.
pub fn waiting_engine(now: randchat::domain::Timestamp) -> Engine {
    // Flood control off: with the bench's frozen clock every seeker's
    // /chat would count within one minute and soon be refused.
    let snapshot = Snapshot {
        profiles: profiles(),
        ..Snapshot::default()
    };
    let engine = Engine::restore_with(&snapshot, EngineConfig::unlimited());
    for class in 0..CLASSES {
        for i in 0..PER_CLASS {
            let user = waiter(class, i);
            engine.handle(
                &Event::Command {
                    user,
                    command: Command::Chat,
                },
                now,
            );
        }
    }
    assert_eq!(engine.counts(), (CLASSES * PER_CLASS, 0), "setup: all wait");
    assert_eq!(engine.active_buckets(), CLASSES, "setup: 8 active buckets");
    engine
}
