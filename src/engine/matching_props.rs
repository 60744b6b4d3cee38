//! A property test of matching: random profiles (wishes, ages, poor
//! ratings) and random /chat and /stop sequences. Every pair formed is
//! mutually compatible, the engine's invariants hold, and no two waiters
//! would accept each other (nobody waits while a match is there).

use super::matching_tests::{at, set};
use super::tests::cmd_at;
use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Chat(i64),
    Stop(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..12i64).prop_map(Step::Chat),
        1 => (0..12i64).prop_map(Step::Stop),
    ]
}

fn profile(seed: u8) -> Profile {
    let gender = [None, Some(Gender::Male), Some(Gender::Female)];
    let wants = [None, Some(Gender::Male), Some(Gender::Female)];
    let ranges = [None, Some(AgeRange { min: 18, max: 30 })];
    Profile {
        gender: gender[(seed % 3) as usize],
        wants_gender: wants[((seed / 3) % 3) as usize],
        age: Some(15 + (seed % 4) * 7),
        wants_age: ranges[((seed / 9) % 2) as usize],
        votes_down: u32::from(seed.is_multiple_of(5)) * 5,
        ..Profile::default()
    }
}

proptest! {
    /// Every pair formed is mutually compatible, and after every step
    /// no two waiters would accept each other (nobody is left waiting
    /// while a match is there).
    #[test]
    fn pairs_are_mutual_and_no_match_is_missed(
        seeds in proptest::collection::vec(any::<u8>(), 12),
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        let engine = Engine::new();
        for (user, seed) in seeds.iter().enumerate() {
            let p = profile(*seed);
            set(&engine, user as i64, |slot| *slot = p);
        }
        let class = |user: UserId| matching::class_of(&engine.profile(user));
        for (i, step) in steps.into_iter().enumerate() {
            let now = at(i as u64);
            match step {
                Step::Chat(u) => cmd_at(&engine, u, Command::Chat, now),
                Step::Stop(u) => cmd_at(&engine, u, Command::Stop, now),
            };
            engine.check_invariants().map_err(TestCaseError::fail)?;
            for user in 0..12 {
                if let Presence::Chatting(p) = engine.presence_of(UserId(user)) {
                    prop_assert!(class(UserId(user)).mutual(&class(p)));
                }
            }
            let waiting = engine.buckets.entries();
            for (_, a) in &waiting {
                for (_, b) in &waiting {
                    prop_assert!(a == b || !class(*a).mutual(&class(*b)));
                }
            }
        }
    }
}
