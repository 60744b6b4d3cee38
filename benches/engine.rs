//! Benchmarks of the pure engine: `Engine::handle` with no store, no network
//! and no clock, so the numbers are the ceiling the rest of the bot can reach.
//!
//! Every benchmark counts engine calls (or cycles of calls) as criterion
//! "elements", so the `thrpt` line reads as operations per second. The
//! returned [`Outcome`] is dropped inside the timed loop: building it (two
//! small `Vec`s) is part of what one event costs.
//!
//! - `pair_unpair/cycle`: one thread; user A sends /chat (queued), user B
//!   sends /chat (paired with A), A sends /stop (chat ended). One element is
//!   one such three-call cycle, the engine's whole matching round trip. Pairs
//!   come from a rotating pool so the maps hold warm entries, as they would
//!   in a running bot. Target: at least 2,000,000 cycles/s on one thread.
//! - `next_churn/ops`: 10,000 users, nearly all paired. Each step a random
//!   chatting user sends /next (ends the chat, leaves the partner idle and
//!   searches again) and the longest-idle user sends /chat. A backlog of idle
//!   users keeps the queue from pairing partners straight back together. One
//!   element is one call; a step is two.
//! - `relay/message`: 10,000 paired users; a random one sends a relayable
//!   message. One element is one message: the per-message cost of the
//!   engine, which is most of a busy bot's traffic.
//! - `mixed/threads/{1,2}`: a simulated population mixing messages, /chat,
//!   /next and /stop in realistic proportions (see [`Client::step`]), driven
//!   by one thread, then by two threads sharing one `Arc<Engine>`, each with
//!   its own half of the users (they still meet in the shared queue, so
//!   pairs cross threads). Measured with `iter_custom` as the wall time from
//!   releasing the threads until the last one finishes; one element is one
//!   call on any thread, so the two results compare as total ops/s.
//! - `mixed/separate_engines/2`: the control for `mixed/threads/2`: the same
//!   two threads and workload, each on its own `Engine`, so nothing is
//!   shared. It shows how far the machine itself scales to two threads;
//!   the gap between it and `mixed/threads/2` is what sharing one engine
//!   (its maps, stripes and queue) costs.
//!
//! - `filtered/match` and `filtered/cycle`: matching with wishes, 8 active
//!   filter buckets; see [`filtered`]. `match` times the matching /chat
//!   alone, `cycle` that /chat plus the /stop and requeue that undo it.
//!   Target: at least 1,000,000 matches/s on one thread.
//!
//! Run briefly with:
//!
//! ```text
//! cargo bench --bench engine -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! `cargo test --all-targets` (and `cargo bench --bench engine -- --test`)
//! runs each benchmark once, as a smoke test; each setup also checks that the
//! engine takes the path the benchmark claims to measure.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use randchat::domain::{MessageId, Timestamp, UserId};
use randchat::engine::{Command, Engine, EngineConfig, Event, Outbound, Outcome, Presence, Record};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The engine never reads a clock; every call gets the same moment.
const NOW: Timestamp = Timestamp(1_700_000_000);
/// Telegram-like user ids: large, and sequential within a benchmark.
const FIRST_USER: i64 = 1_000_000_000;
/// Pairs in the `pair_unpair` rotation.
const PAIR_POOL: usize = 4_096;
/// Users in `next_churn`, `relay` and `mixed`.
const POPULATION: usize = 10_000;
/// Idle users `next_churn` holds back before they search again.
const IDLE_BACKLOG: usize = 100;

/// xorshift64: deterministic, cheap, and good enough to pick users.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (multiply-shift, no division).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

fn user(index: usize) -> UserId {
    UserId(FIRST_USER + index as i64)
}

fn command(engine: &Engine, user: UserId, command: Command) -> Outcome {
    engine.handle(&Event::Command { user, command }, NOW)
}

fn message(engine: &Engine, user: UserId, message: MessageId) -> Outcome {
    let event = Event::Message {
        user,
        message,
        relayable: true,
        media: None,
    };
    engine.handle(&event, NOW)
}

/// The partner whose chat `outcome` ended, if it ended one.
fn unpaired_partner(outcome: &Outcome, user: UserId) -> Option<UserId> {
    outcome.records.iter().find_map(|record| match *record {
        Record::Unpair { a, b } if a == user => Some(b),
        _ => None,
    })
}

/// An engine where users `0..population` are paired (0 with 1, 2 with 3...).
fn paired_population(population: usize) -> Engine {
    pair_up(Engine::new(), population)
}

/// Pairs users `0..population` in `engine`.
fn pair_up(engine: Engine, population: usize) -> Engine {
    for index in 0..population {
        command(&engine, user(index), Command::Chat);
    }
    assert_eq!(
        engine.presence_of(user(0)),
        Presence::Chatting(user(1)),
        "setup: consecutive searchers should pair"
    );
    engine
}

fn pair_unpair(c: &mut Criterion) {
    let engine = Engine::new();
    let mut next = 0;
    let mut cycle = || {
        let (a, b) = (user(2 * next), user(2 * next + 1));
        next = (next + 1) % PAIR_POOL;
        let queued = command(&engine, a, Command::Chat);
        let paired = command(&engine, b, Command::Chat);
        let ended = command(&engine, a, Command::Stop);
        (a, b, queued, paired, ended)
    };

    // One checked cycle, then a lap of the pool so every map entry exists.
    let (a, b, queued, paired, ended) = cycle();
    assert!(queued
        .records
        .iter()
        .any(|r| matches!(r, Record::Enqueue { user, .. } if *user == a)));
    assert!(paired
        .records
        .iter()
        .any(|r| matches!(r, Record::Pair { a: x, b: y, .. } if (*x, *y) == (a, b))));
    assert_eq!(unpaired_partner(&ended, a), Some(b));
    for _ in 1..PAIR_POOL {
        cycle();
    }
    assert_eq!(
        engine.counts(),
        (0, 0),
        "setup: every cycle should end idle"
    );

    let mut group = c.benchmark_group("pair_unpair");
    group.throughput(Throughput::Elements(1));
    group.bench_function("cycle", |bench| bench.iter(|| black_box(cycle())));
    group.finish();
    engine.check_invariants().expect("pair_unpair invariants");
}

/// The `next_churn` population: who is idle, and who goes back in first.
struct Churn {
    engine: Engine,
    rng: XorShift,
    idle: Vec<bool>,
    backlog: VecDeque<usize>,
}

impl Churn {
    fn new() -> Self {
        // Flood control off: which users come back to search, and how
        // often within the benchmark's one frozen minute, depends on whom
        // the no-repeat rule pairs with whom; a refused /chat would lose a
        // user from the workload.
        let engine = Engine::with_config(EngineConfig::unlimited());
        Churn {
            engine: pair_up(engine, POPULATION),
            rng: XorShift::new(0x5EED_0001),
            idle: vec![false; POPULATION],
            backlog: VecDeque::with_capacity(IDLE_BACKLOG + 1),
        }
    }

    /// A random non-idle user sends /next; their partner joins the idle
    /// backlog; the longest-idle user sends /chat once the backlog is full.
    fn step(&mut self) {
        let leaver = loop {
            let index = self.rng.below(POPULATION);
            if !self.idle[index] {
                break user(index);
            }
        };
        let out = command(&self.engine, leaver, Command::Next);
        if let Some(partner) = unpaired_partner(&out, leaver) {
            let index = (partner.0 - FIRST_USER) as usize;
            self.idle[index] = true;
            self.backlog.push_back(index);
        }
        black_box(out);
        if self.backlog.len() > IDLE_BACKLOG {
            let index = self.backlog.pop_front().expect("backlog is not empty");
            self.idle[index] = false;
            black_box(command(&self.engine, user(index), Command::Chat));
        }
    }
}

fn next_churn(c: &mut Criterion) {
    let mut churn = Churn::new();
    for _ in 0..POPULATION {
        churn.step();
    }
    let (searching, pairs) = churn.engine.counts();
    assert!(searching <= 1, "setup: at most one user should wait");
    assert!(
        pairs * 2 + searching + IDLE_BACKLOG == POPULATION,
        "setup: everyone not held back should be paired or waiting"
    );

    let mut group = c.benchmark_group("next_churn");
    group.throughput(Throughput::Elements(2));
    group.bench_function("ops", |bench| bench.iter(|| churn.step()));
    group.finish();
    churn
        .engine
        .check_invariants()
        .expect("next_churn invariants");
}

fn relay(c: &mut Criterion) {
    let engine = paired_population(POPULATION);
    let out = message(&engine, user(0), MessageId(1));
    assert!(
        out.sends
            .iter()
            .any(|send| matches!(send, Outbound::Relay { to, .. } if *to == user(1))),
        "setup: a paired user's message should be relayed"
    );

    let mut rng = XorShift::new(0x5EED_0002);
    let mut next_message = 1;
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(1));
    group.bench_function("message", |bench| {
        bench.iter(|| {
            next_message += 1;
            message(
                &engine,
                user(rng.below(POPULATION)),
                MessageId(next_message),
            )
        })
    });
    group.finish();
}

/// One thread's share of the `mixed` population: users
/// `first..first + count`, acting on what the engine says they are doing.
struct Client {
    engine: Arc<Engine>,
    first: usize,
    count: usize,
    rng: XorShift,
    next_message: i32,
}

impl Client {
    fn new(engine: Arc<Engine>, first: usize, count: usize, seed: u64) -> Self {
        Client {
            engine,
            first,
            count,
            rng: XorShift::new(seed),
            next_message: 0,
        }
    }

    /// One call to the engine from a random user of this client. A chatting
    /// user sends a message 90% of the time, /next 6% and /stop 4%; an idle
    /// user sends /chat; a searching user sends a message (told "still
    /// searching") 80% of the time and gives up with /stop 20%. That settles
    /// near 87% of users chatting and a mix of about 78% messages, 12% /chat,
    /// 5% /next and 4% /stop. Reading the user's presence first is the
    /// simulated user looking at their screen; it costs one map read.
    fn step(&mut self) {
        let user = user(self.first + self.rng.below(self.count));
        let roll = self.rng.below(100);
        let event = match self.engine.presence_of(user) {
            Presence::Chatting(_) if roll < 90 => self.message(user),
            Presence::Chatting(_) if roll < 96 => Self::command(user, Command::Next),
            Presence::Chatting(_) => Self::command(user, Command::Stop),
            Presence::Idle => Self::command(user, Command::Chat),
            Presence::Searching(_) if roll < 80 => self.message(user),
            Presence::Searching(_) => Self::command(user, Command::Stop),
        };
        black_box(self.engine.handle(&event, NOW));
    }

    fn run(&mut self, steps: u64) {
        for _ in 0..steps {
            self.step();
        }
    }

    /// How many of this client's users are chatting.
    fn chatting(&self) -> usize {
        (self.first..self.first + self.count)
            .filter(|&index| matches!(self.engine.presence_of(user(index)), Presence::Chatting(_)))
            .count()
    }

    fn message(&mut self, user: UserId) -> Event {
        self.next_message = self.next_message.wrapping_add(1);
        Event::Message {
            user,
            message: MessageId(self.next_message),
            relayable: true,
            media: None,
        }
    }

    fn command(user: UserId, command: Command) -> Event {
        Event::Command { user, command }
    }
}

/// Splits the population into `threads` clients, on one shared engine or
/// on one engine each, and runs them until the mix is steady.
fn mixed_clients(threads: usize, engines: Engines) -> Vec<Client> {
    let shared = Arc::new(Engine::new());
    let share = POPULATION / threads;
    let mut clients: Vec<_> = (0..threads)
        .map(|t| {
            let engine = match engines {
                Engines::Shared => shared.clone(),
                Engines::Separate => Arc::new(Engine::new()),
            };
            Client::new(engine, t * share, share, 0x5EED_1000 + t as u64)
        })
        .collect();
    for client in &mut clients {
        client.run(5 * share as u64);
    }
    let chatting: usize = clients.iter().map(Client::chatting).sum();
    assert!(
        chatting > POPULATION * 3 / 4,
        "setup: most of the mixed population should be chatting"
    );
    clients
}

#[derive(Clone, Copy)]
enum Engines {
    Shared,
    Separate,
}

/// Worker threads, each owning a [`Client`], that run `iters` steps each
/// when told and report the wall time until the last one is done. Kept
/// alive across samples so thread start-up is never timed.
struct Crew {
    shared: Arc<CrewShared>,
    workers: Vec<JoinHandle<()>>,
}

struct CrewShared {
    start: Barrier,
    finish: Barrier,
    /// Steps per worker for the next run; `u64::MAX` means stop.
    steps: AtomicU64,
}

impl Crew {
    const STOP: u64 = u64::MAX;

    fn new(clients: Vec<Client>) -> Self {
        let shared = Arc::new(CrewShared {
            start: Barrier::new(clients.len() + 1),
            finish: Barrier::new(clients.len() + 1),
            steps: AtomicU64::new(0),
        });
        let workers = clients
            .into_iter()
            .map(|mut client| {
                let shared = shared.clone();
                std::thread::spawn(move || loop {
                    shared.start.wait();
                    let steps = shared.steps.load(Ordering::Relaxed);
                    if steps == Self::STOP {
                        return;
                    }
                    client.run(steps);
                    shared.finish.wait();
                })
            })
            .collect();
        Crew { shared, workers }
    }

    fn run(&self, steps: u64) -> Duration {
        self.shared.steps.store(steps, Ordering::Relaxed);
        let started = Instant::now();
        self.shared.start.wait();
        self.shared.finish.wait();
        started.elapsed()
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        self.shared.steps.store(Self::STOP, Ordering::Relaxed);
        self.shared.start.wait();
        for worker in self.workers.drain(..) {
            worker.join().expect("a mixed worker panicked");
        }
    }
}

fn mixed(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixed");

    let mut client = mixed_clients(1, Engines::Shared).remove(0);
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("threads", 1), |bench| {
        bench.iter_custom(|steps| {
            let started = Instant::now();
            client.run(steps);
            started.elapsed()
        })
    });
    client.engine.check_invariants().expect("mixed invariants");

    for (name, engines) in [
        ("threads", Engines::Shared),
        ("separate_engines", Engines::Separate),
    ] {
        let clients = mixed_clients(2, engines);
        let used: Vec<_> = clients.iter().map(|c| c.engine.clone()).collect();
        let crew = Crew::new(clients);
        group.throughput(Throughput::Elements(2));
        group.bench_function(BenchmarkId::new(name, 2), |bench| {
            bench.iter_custom(|steps| crew.run(steps))
        });
        drop(crew);
        for engine in used {
            engine.check_invariants().expect("mixed invariants");
        }
    }

    group.finish();
}

#[path = "engine/filtered.rs"]
mod filtered;
#[path = "engine/filtered_workload.rs"]
mod filtered_workload;

criterion_group!(
    benches,
    pair_unpair,
    next_churn,
    relay,
    mixed,
    filtered::filtered
);
criterion_main!(benches);
