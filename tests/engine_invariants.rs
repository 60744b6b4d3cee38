//! The engine's invariants under concurrency and random command sequences.
//!
//! - Many threads fire /chat, /next, /stop, messages and ticks at a shared
//!   pool of users, each thread with its own clock running a little ahead
//!   of or behind the others; afterwards nobody is in two pairs, paired with
//!   themselves, in an asymmetric pair, or both searching and chatting, no
//!   two searchers are left waiting side by side, and every chat and search
//!   is on the clock: one tick far in the future ends them all.
//! - Random single-threaded sequences, with time passing, ticks, short
//!   timeouts and low rate limits, are compared step by step with a small
//!   reference model (a FIFO queue, a pair map, activity times and lists of
//!   accepted hits), including who is told of a timeout or to slow down; the
//!   records the engine emits, replayed into a model store, restore the same
//!   state.

use proptest::prelude::*;
use randchat::domain::{MessageId, Ticket, Timestamp, UserId};
use randchat::engine::{Command, Engine, EngineConfig, Event, Outbound, Outcome, Presence, Record};
use randchat::i18n::Text;
use randchat::store::Snapshot;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

const NOW: Timestamp = Timestamp(1_700_000_000);

/// Short enough that a few hundred steps see every timeout and limit.
const IDLE: u64 = 30;
const SEARCH: u64 = 20;
const MESSAGES: u32 = 3;
const SEARCHES: u32 = 2;

fn config() -> EngineConfig {
    EngineConfig {
        chat_idle_timeout: Some(Duration::from_secs(IDLE)),
        search_timeout: Some(Duration::from_secs(SEARCH)),
        message_rate_limit: MESSAGES,
        next_rate_limit: SEARCHES,
        ..EngineConfig::default()
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Chat,
    Next,
    Stop,
    Say,
    /// Time passes; the user is ignored.
    Tick,
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
            media: None,
        },
        Action::Tick => Event::Tick,
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
        let engine = Arc::new(Engine::with_config(config()));
        let threads: Vec<_> = (0..8u64)
            .map(|thread| {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (round * 131 + thread + 1);
                    for step in 0..5_000u64 {
                        let user = (xorshift(&mut seed) % 48) as i64 + 1;
                        let action = match xorshift(&mut seed) % 12 {
                            0..=3 => Action::Chat,
                            4..=5 => Action::Next,
                            6..=7 => Action::Stop,
                            8..=10 => Action::Say,
                            _ => Action::Tick,
                        };
                        // About 200 s per round; threads drift by a few seconds.
                        let now = Timestamp(NOW.0 + step / 25 + xorshift(&mut seed) % 4);
                        let out = engine.handle(&event(user, action), now);
                        for send in &out.sends {
                            if let Outbound::Relay { from, to, .. } = send {
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
        let later = Timestamp(NOW.0 + 10_000);
        engine.handle(&Event::Tick, later);
        // Chats ended by that tick stay reportable for a while; then the
        // last partners are forgotten too.
        let much_later = Timestamp(later.0 + randchat::engine::REPORT_WINDOW_SECS + 1);
        engine.handle(&Event::Tick, much_later);
        engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("round {round}, after the last tick: {e}"));
        assert_eq!(
            engine.counts(),
            (0, 0),
            "round {round}: a chat or search escaped the clock"
        );
        assert_eq!(
            engine.tracked(),
            (0, 0),
            "round {round}: memory not released"
        );
    }
}

/// The product's rules, written as simply as possible.
#[derive(Default)]
struct Model {
    /// Searchers and when they started, oldest first.
    queue: VecDeque<(i64, u64)>,
    partner: HashMap<i64, i64>,
    /// When each chatting user was paired or last had a message relayed.
    active: HashMap<i64, u64>,
    /// Accepted hits per (user, is_search), and who was told to slow down
    /// since their last accepted hit.
    hits: HashMap<(i64, bool), Vec<u64>>,
    warned: HashSet<(i64, bool)>,
}

/// What the model says was told, for the texts timeouts and limits add.
type Told = Vec<(i64, Text)>;

impl Model {
    fn search(&mut self, user: i64, now: u64) {
        match self.queue.pop_front() {
            Some((waiter, _)) => {
                self.partner.insert(user, waiter);
                self.partner.insert(waiter, user);
                self.active.insert(user, now);
                self.active.insert(waiter, now);
            }
            None => self.queue.push_back((user, now)),
        }
    }

    fn end(&mut self, user: i64) {
        if let Some(partner) = self.partner.remove(&user) {
            self.partner.remove(&partner);
            self.active.remove(&user);
            self.active.remove(&partner);
        }
    }

    /// At most `limit` accepted hits in any 60 seconds; one warning per
    /// refused stretch.
    fn allow(&mut self, user: i64, search: bool, now: u64, told: &mut Told) -> bool {
        let (limit, text) = match search {
            true => (SEARCHES, Text::SlowDownSearches),
            false => (MESSAGES, Text::SlowDownMessages),
        };
        let hits = self.hits.entry((user, search)).or_default();
        if hits.iter().filter(|t| **t + 60 > now).count() >= limit as usize {
            if self.warned.insert((user, search)) {
                told.push((user, text));
            }
            return false;
        }
        hits.push(now);
        self.warned.remove(&(user, search));
        true
    }

    fn expire(&mut self, now: u64, told: &mut Told) {
        let mut idle: Vec<i64> = self
            .partner
            .iter()
            .filter(|(u, p)| u < p && self.active[u].max(self.active[p]) + IDLE <= now)
            .map(|(u, _)| *u)
            .collect();
        idle.sort();
        for user in idle {
            told.push((user, Text::ChatIdleEnded));
            told.push((self.partner[&user], Text::ChatIdleEnded));
            self.end(user);
        }
        for &(user, since) in &self.queue {
            if since + SEARCH <= now {
                told.push((user, Text::SearchTimedOut));
            }
        }
        self.queue.retain(|(_, since)| since + SEARCH > now);
    }

    fn apply(&mut self, user: i64, action: Action, now: u64) -> Told {
        let chatting = self.partner.contains_key(&user);
        let searching = self.queue.iter().any(|(u, _)| *u == user);
        let mut told = Told::new();
        // Starting a search and sending while chatting are charged first;
        // a refused one does nothing more.
        match action {
            Action::Chat if !chatting && !searching && self.allow(user, true, now, &mut told) => {
                self.search(user, now)
            }
            Action::Next if !searching && self.allow(user, true, now, &mut told) => {
                self.end(user);
                self.search(user, now);
            }
            Action::Stop if chatting => self.end(user),
            Action::Stop if searching => self.queue.retain(|(u, _)| *u != user),
            Action::Say if chatting && self.allow(user, false, now, &mut told) => {
                self.active.insert(user, now);
            }
            Action::Tick => self.expire(now, &mut told),
            _ => {}
        }
        told.sort_by_key(|&(user, text)| (user, text as u32));
        told
    }

    fn presence(&self, user: i64) -> &'static str {
        if self.partner.contains_key(&user) {
            "chatting"
        } else if self.queue.iter().any(|(u, _)| *u == user) {
            "searching"
        } else {
            "idle"
        }
    }
}

/// What the engine told, for the texts timeouts and limits add.
fn told_new_texts(out: &Outcome) -> Told {
    let new = [
        Text::ChatIdleEnded,
        Text::SearchTimedOut,
        Text::SlowDownMessages,
        Text::SlowDownSearches,
    ];
    let mut told: Told = out
        .sends
        .iter()
        .filter_map(|send| match send {
            Outbound::Tell { user, text } if new.contains(text) => Some((user.0, *text)),
            _ => None,
        })
        .collect();
    told.sort_by_key(|&(user, text)| (user, text as u32));
    told
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
        3 => Just(Action::Chat),
        2 => Just(Action::Next),
        2 => Just(Action::Stop),
        4 => Just(Action::Say),
        2 => Just(Action::Tick),
    ]
}

proptest! {
    #[test]
    fn engine_matches_the_reference_model(steps in prop::collection::vec((1i64..8, action(), 0u64..8), 1..300)) {
        let engine = Engine::with_config(config());
        let mut model = Model::default();
        let mut store = ModelStore::default();
        let mut now = NOW.0;
        for (user, action, wait) in steps {
            now += wait;
            let out = engine.handle(&event(user, action), Timestamp(now));
            let told = model.apply(user, action, now);
            prop_assert_eq!(told_new_texts(&out), told, "{:?} by {} at +{}", action, user, now - NOW.0);
            out.records.iter().for_each(|r| store.apply(r));
            engine.check_invariants().map_err(TestCaseError::fail)?;
            for u in 1..8 {
                prop_assert_eq!(presence_name(engine.presence_of(UserId(u))), model.presence(u), "user {}", u);
                if let Some(p) = model.partner.get(&u) {
                    prop_assert_eq!(engine.presence_of(UserId(u)), Presence::Chatting(UserId(*p)));
                }
            }
        }
        let restored = Engine::restore_with(&store.snapshot(), config());
        restored.check_invariants().map_err(TestCaseError::fail)?;
        for u in 1..8 {
            prop_assert_eq!(restored.presence_of(UserId(u)), engine.presence_of(UserId(u)));
        }
    }
}
