//! The engine's invariants under concurrency and random command sequences.
//!
//! - Many threads fire /chat, /next, /stop and messages at a shared pool of
//!   users; afterwards nobody is in two pairs, paired with themselves, in an
//!   asymmetric pair, or both searching and chatting, and no two searchers
//!   are left waiting side by side.
//! - Random single-threaded sequences are compared step by step with a
//!   ten-line reference model (a FIFO queue and a pair map), and the records
//!   the engine emits, replayed into a model store, restore the same state.

use proptest::prelude::*;
use randchat::domain::{MessageId, Ticket, Timestamp, UserId};
use randchat::engine::{Command, Engine, Event, Presence, Record};
use randchat::store::Snapshot;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

const NOW: Timestamp = Timestamp(1_700_000_000);

#[derive(Clone, Copy, Debug)]
enum Action {
    Chat,
    Next,
    Stop,
    Say,
}

fn event(user: i64, action: Action) -> Event {
    let user = UserId(user);
    match action {
        Action::Chat => Event::Command {
            user,
            command: Command::Chat,
        },
        Action::Next => Event::Command {
            user,
            command: Command::Next,
        },
        Action::Stop => Event::Command {
            user,
            command: Command::Stop,
        },
        Action::Say => Event::Message {
            user,
            message: MessageId(1),
            relayable: true,
        },
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn invariants_hold_under_concurrent_churn() {
    for round in 0..20u64 {
        let engine = Arc::new(Engine::new());
        let threads: Vec<_> = (0..8u64)
            .map(|thread| {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (round * 131 + thread + 1);
                    for _ in 0..5_000 {
                        let user = (xorshift(&mut seed) % 48) as i64 + 1;
                        let action = match xorshift(&mut seed) % 10 {
                            0..=3 => Action::Chat,
                            4..=5 => Action::Next,
                            6..=7 => Action::Stop,
                            _ => Action::Say,
                        };
                        let out = engine.handle(&event(user, action), NOW);
                        for send in &out.sends {
                            if let randchat::engine::Outbound::Relay { from, to, .. } = send {
                                assert_ne!(from, to, "relayed to themselves");
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("a worker panicked");
        }
        engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let (searching, _) = engine.counts();
        assert!(
            searching <= 1,
            "round {round}: {searching} searchers left waiting side by side"
        );
    }
}

/// The product's rules, written as simply as possible.
#[derive(Default)]
struct Model {
    queue: VecDeque<i64>,
    partner: HashMap<i64, i64>,
}

impl Model {
    fn search(&mut self, user: i64) {
        match self.queue.pop_front() {
            Some(waiter) => {
                self.partner.insert(user, waiter);
                self.partner.insert(waiter, user);
            }
            None => self.queue.push_back(user),
        }
    }

    fn end(&mut self, user: i64) {
        if let Some(partner) = self.partner.remove(&user) {
            self.partner.remove(&partner);
        }
    }

    fn apply(&mut self, user: i64, action: Action) {
        let chatting = self.partner.contains_key(&user);
        let searching = self.queue.contains(&user);
        match action {
            Action::Chat if !chatting && !searching => self.search(user),
            Action::Next if chatting => {
                self.end(user);
                self.search(user);
            }
            Action::Next if !searching => self.search(user),
            Action::Stop if chatting => self.end(user),
            Action::Stop if searching => self.queue.retain(|u| *u != user),
            _ => {}
        }
    }

    fn presence(&self, user: i64) -> &'static str {
        if self.partner.contains_key(&user) {
            "chatting"
        } else if self.queue.contains(&user) {
            "searching"
        } else {
            "idle"
        }
    }
}

/// Replays records the way a store would.
#[derive(Default)]
struct ModelStore {
    pairs: HashMap<i64, i64>,
    waiting: BTreeMap<Ticket, i64>,
}

impl ModelStore {
    fn apply(&mut self, record: &Record) {
        match record {
            Record::Pair { a, b, .. } => {
                self.pairs.insert(a.0, b.0);
                self.pairs.insert(b.0, a.0);
            }
            Record::Unpair { a, b } => {
                self.pairs.remove(&a.0);
                self.pairs.remove(&b.0);
            }
            Record::Enqueue { ticket, user, .. } => {
                self.waiting.insert(*ticket, user.0);
            }
            Record::Dequeue { ticket, .. } => {
                self.waiting.remove(ticket);
            }
            _ => {}
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            pairs: self
                .pairs
                .iter()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| (UserId(*a), UserId(*b), NOW))
                .collect(),
            waiting: self
                .waiting
                .iter()
                .map(|(t, u)| (*t, UserId(*u), NOW))
                .collect(),
            ..Snapshot::default()
        }
    }
}

fn presence_name(presence: Presence) -> &'static str {
    match presence {
        Presence::Idle => "idle",
        Presence::Searching(_) => "searching",
        Presence::Chatting(_) => "chatting",
    }
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Chat),
        Just(Action::Next),
        Just(Action::Stop),
        Just(Action::Say)
    ]
}

proptest! {
    #[test]
    fn engine_matches_the_reference_model(steps in prop::collection::vec((1i64..8, action()), 1..200)) {
        let engine = Engine::new();
        let mut model = Model::default();
        let mut store = ModelStore::default();
        for (user, action) in steps {
            let out = engine.handle(&event(user, action), NOW);
            model.apply(user, action);
            out.records.iter().for_each(|r| store.apply(r));
            engine.check_invariants().map_err(TestCaseError::fail)?;
            for u in 1..8 {
                prop_assert_eq!(presence_name(engine.presence_of(UserId(u))), model.presence(u), "user {}", u);
                if let Some(p) = model.partner.get(&u) {
                    prop_assert_eq!(engine.presence_of(UserId(u)), Presence::Chatting(UserId(*p)));
                }
            }
        }
        let restored = Engine::restore(&store.snapshot());
        restored.check_invariants().map_err(TestCaseError::fail)?;
        for u in 1..8 {
            prop_assert_eq!(restored.presence_of(UserId(u)), engine.presence_of(UserId(u)));
        }
    }
}
