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

#[path = "../benches/engine/filtered_workload.rs"]
mod filtered_workload;

use filtered_workload::{nth_seeker, waiting_engine, CLASSES};
use randchat::domain::{Timestamp, UserId};
use randchat::engine::{Command, Engine, Event, Presence};
use std::hint::black_box;

const NOW: Timestamp = Timestamp(1_700_000_000);

fn command(engine: &Engine, user: UserId, command: Command) {
    black_box(engine.handle(&Event::Command { user, command }, NOW));
}

fn main() {
    let matches: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |n| n.parse().expect("a number of matches"));
    let engine = waiting_engine(NOW);
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
        let s = nth_seeker(next);
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
