//! Group commit over the real embedded store, on disk.
//!
//! ```sh
//! cargo bench --bench store
//! cargo bench --bench store -- --users 10000 --submitters 256 --seconds 5 --rate 10000
//! cargo bench --bench store -- --store redis     # only one store (default: both)
//! cargo bench --bench store -- --prune-links 1000000   # the link prune only (prune.rs)
//! ```
//!
//! 10,000 simulated users churn: they queue (Enqueue), give up (Dequeue),
//! pair with a waiter (Dequeue + Pair) and leave (Unpair). Each change is a
//! `Record` in a `Batch` with its update id, submitted to
//! `randchat::store::group_commit::GroupCommit`, exactly as the bot commits,
//! over each store in turn, in the same run:
//! - the embedded store, in a fresh directory (under TMPDIR, or `--dir`);
//! - the Redis store, on a private `redis-server` (on a unix socket) that
//!   writes every change to its append-only file with `appendfsync always`
//!   before it answers: the same durability as the embedded store's fsync.
//!
//! Two phases per store:
//! 1. throughput: many concurrent submitters, each waiting for its commit
//!    before the next; durable state changes per second (target ≥ 100,000);
//! 2. paced: 10,000 changes a second arriving on a steady clock; the wait
//!    from submission until the commit is durable, p50 and p99 (target p99
//!    ≤ 5 ms).
//!
//! `cargo test --benches` runs this without `--bench`: it then does nothing.

#[path = "store/prune.rs"]
mod prune;

use randchat::domain::{Ticket, Timestamp, UserId};
use randchat::engine::Record;
use randchat::store::group_commit::GroupCommit;
use randchat::store::{
    Backend, Batch, BoxFuture, EmbeddedStore, RedisStore, Snapshot, Stats, StoreError,
};
use randchat::testing::RedisServer;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    users: usize,
    submitters: usize,
    seconds: f64,
    rate: f64,
    dir: Option<std::path::PathBuf>,
    stores: Vec<StoreKind>,
    /// Time the link prune on this many links instead (`prune.rs`).
    prune_links: Option<usize>,
}

#[derive(Clone, Copy, Debug)]
enum StoreKind {
    Embedded,
    Redis,
}

fn parse_args() -> Result<Option<Args>, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.iter().any(|a| a == "--bench") {
        return Ok(None);
    }
    let mut args = Args {
        users: 10_000,
        submitters: 256,
        seconds: 5.0,
        rate: 10_000.0,
        dir: None,
        stores: vec![StoreKind::Embedded, StoreKind::Redis],
        prune_links: None,
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<f64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--users" => args.users = value("--users")? as usize,
            "--submitters" => args.submitters = value("--submitters")? as usize,
            "--seconds" => args.seconds = value("--seconds")?,
            "--rate" => args.rate = value("--rate")?,
            "--prune-links" => args.prune_links = Some(value("--prune-links")? as usize),
            "--dir" => args.dir = Some(it.next().ok_or("--dir needs a value")?.into()),
            "--store" => {
                args.stores = match it.next().as_deref() {
                    Some("embedded") => vec![StoreKind::Embedded],
                    Some("redis") => vec![StoreKind::Redis],
                    Some("both") => vec![StoreKind::Embedded, StoreKind::Redis],
                    _ => return Err("--store takes embedded, redis or both".into()),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.submitters == 0 || args.users < 2 * args.submitters {
        return Err("need --submitters >= 1 and --users >= 2 x submitters".into());
    }
    Ok(Some(args))
}

/// The store, counting its transactions.
struct Counted {
    inner: Arc<dyn Backend>,
    transactions: AtomicU64,
}

impl Backend for Counted {
    fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>> {
        self.inner.clone().load()
    }
    fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>> {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.inner.clone().commit(batch)
    }
    // As the bot's store: the group commit commits in place, on its thread.
    fn commits_in_place(&self) -> bool {
        self.inner.commits_in_place()
    }
    fn commit_in_place(&self, batch: &Batch) -> Result<(), StoreError> {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.inner.commit_in_place(batch)
    }
    fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>> {
        self.inner.clone().stats()
    }
    fn linked(
        self: Arc<Self>,
        messages: Vec<randchat::engine::effect::Counterpart>,
    ) -> BoxFuture<'static, Result<Vec<Option<randchat::engine::event::Linked>>, StoreError>> {
        self.inner.clone().linked(messages)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Presence {
    Idle,
    Searching(Ticket),
    Chatting(UserId),
}

/// A slice of the users, churning by the bot's rules.
struct Churn {
    users: Vec<UserId>,
    presence: HashMap<UserId, Presence>,
    queue: VecDeque<(Ticket, UserId)>,
    rng: u64,
}

static TICKETS: AtomicU64 = AtomicU64::new(1);
static UPDATE_IDS: AtomicI64 = AtomicI64::new(1);

impl Churn {
    fn new(users: Vec<UserId>, seed: u64) -> Self {
        let presence = users.iter().map(|&u| (u, Presence::Idle)).collect();
        Churn {
            users,
            presence,
            queue: VecDeque::new(),
            rng: seed | 1,
        }
    }

    fn random(&mut self) -> u64 {
        let x = &mut self.rng;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The records of one user action: one or two state changes.
    fn step(&mut self, now: Timestamp) -> Vec<Record> {
        let pick = (self.random() % self.users.len() as u64) as usize;
        let user = self.users[pick];
        match self.presence[&user] {
            Presence::Idle => match self.queue.pop_front() {
                Some((ticket, waiter)) => {
                    self.presence.insert(waiter, Presence::Chatting(user));
                    self.presence.insert(user, Presence::Chatting(waiter));
                    vec![
                        Record::Dequeue {
                            ticket,
                            user: waiter,
                        },
                        Record::Pair {
                            a: waiter,
                            b: user,
                            since: now,
                        },
                    ]
                }
                None => {
                    let ticket = Ticket(TICKETS.fetch_add(1, Ordering::Relaxed));
                    self.queue.push_back((ticket, user));
                    self.presence.insert(user, Presence::Searching(ticket));
                    vec![Record::Enqueue {
                        ticket,
                        user,
                        since: now,
                    }]
                }
            },
            Presence::Searching(ticket) => {
                self.queue.retain(|&(t, _)| t != ticket);
                self.presence.insert(user, Presence::Idle);
                vec![Record::Dequeue { ticket, user }]
            }
            Presence::Chatting(partner) => {
                self.presence.insert(user, Presence::Idle);
                self.presence.insert(partner, Presence::Idle);
                vec![Record::Unpair {
                    a: user,
                    b: partner,
                }]
            }
        }
    }

    fn batch(&mut self) -> Batch {
        Batch {
            records: self.step(Timestamp::now()),
            last_update_id: Some(UPDATE_IDS.fetch_add(1, Ordering::Relaxed)),
            ..Batch::default()
        }
    }
}

fn slices(users: usize, parts: usize) -> Vec<Vec<UserId>> {
    (0..parts)
        .map(|k| {
            (k..users)
                .step_by(parts)
                .map(|u| UserId(5_000_000_000 + u as i64))
                .collect()
        })
        .collect()
}

/// Phase 1: every submitter commits one action's records after another.
async fn throughput(commits: &GroupCommit, args: &Args) -> (f64, u64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = slices(args.users, args.submitters)
        .into_iter()
        .enumerate()
        .map(|(k, users)| {
            let (commits, stop) = (commits.clone(), stop.clone());
            tokio::spawn(async move {
                let mut churn = Churn::new(users, 0x5708e + k as u64);
                let (mut changes, mut waits) = (0u64, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let batch = churn.batch();
                    let n = batch.records.len() as u64;
                    let asked = Instant::now();
                    commits.commit(batch).await.expect("commit");
                    waits.push(asked.elapsed());
                    changes += n;
                }
                (changes, waits)
            })
        })
        .collect();
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut changes, mut waits) = (0, Vec::new());
    for task in tasks {
        let (c, w) = task.await.expect("submitter");
        changes += c;
        waits.extend(w);
    }
    (start.elapsed().as_secs_f64(), changes, waits)
}

/// Phase 2: changes arrive on a clock at `rate` a second, each waiting for
/// its own commit.
async fn paced(commits: &GroupCommit, args: &Args) -> (u64, Vec<Duration>) {
    let mut churn = Churn::new(slices(args.users, 1).remove(0), 0xbace);
    let start = Instant::now();
    let mut issued = 0u64;
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    while start.elapsed().as_secs_f64() < args.seconds {
        tick.tick().await;
        let due = (args.rate * start.elapsed().as_secs_f64()) as u64;
        while issued < due {
            let batch = churn.batch();
            issued += batch.records.len() as u64;
            let commits = commits.clone();
            let asked = Instant::now();
            tasks.push(tokio::spawn(async move {
                commits.commit(batch).await.expect("commit");
                asked.elapsed()
            }));
        }
    }
    let mut waits = Vec::with_capacity(tasks.len());
    for task in tasks {
        waits.push(task.await.expect("commit task"));
    }
    (issued, waits)
}

fn percentiles(mut v: Vec<Duration>) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99), at(1.0))
}

fn verdict(met: bool, target: &str) -> String {
    if met {
        format!("[met: {target}]")
    } else {
        format!("[MISSED: {target}]")
    }
}

async fn run(args: Args) {
    if let Some(links) = args.prune_links {
        let tmp = match &args.dir {
            Some(dir) => tempfile::tempdir_in(dir),
            None => tempfile::tempdir(),
        }
        .expect("temp dir");
        return prune::run(links.max(1), tmp.path()).await;
    }
    for &kind in &args.stores {
        // Kept until the store's phases are done.
        let (store, _place): (Arc<dyn Backend>, Box<dyn std::any::Any>) = match kind {
            StoreKind::Embedded => {
                let tmp = match &args.dir {
                    Some(dir) => tempfile::tempdir_in(dir),
                    None => tempfile::tempdir(),
                }
                .expect("temp dir");
                println!("\n== embedded store, database in {}", tmp.path().display());
                (
                    EmbeddedStore::open(tmp.path()).expect("open the store"),
                    Box::new(tmp),
                )
            }
            StoreKind::Redis => {
                let server = RedisServer::start_persistent();
                println!(
                    "\n== Redis store, redis-server with appendfsync always on {}",
                    server.url()
                );
                let store = RedisStore::open(&server.url(), "bench:")
                    .await
                    .expect("open Redis");
                (store, Box::new(server))
            }
        };
        run_phases(store, &args).await;
    }
}

async fn run_phases(store: Arc<dyn Backend>, args: &Args) {
    let counted = Arc::new(Counted {
        inner: store.clone(),
        transactions: AtomicU64::new(0),
    });
    let commits = GroupCommit::start(counted.clone());
    println!(
        "store bench: {} users, {} submitters, {}s per phase",
        args.users, args.submitters, args.seconds,
    );

    let (elapsed, changes, waits) = throughput(&commits, args).await;
    let transactions = counted.transactions.swap(0, Ordering::Relaxed);
    let batches = waits.len();
    let (p50, p99, max) = percentiles(waits);
    let rate = changes as f64 / elapsed;
    println!(
        "throughput: {rate:.0} durable state changes/s {}",
        verdict(rate >= 100_000.0, "≥ 100,000/s")
    );
    println!(
        "  {changes} changes in {batches} batches, {transactions} transactions \
         ({:.0} batches and {:.0} fsynced commits per second); commit wait p50 {p50:.2} ms, \
         p99 {p99:.2} ms, max {max:.2} ms",
        batches as f64 / elapsed,
        transactions as f64 / elapsed
    );

    let (issued, waits) = paced(&commits, args).await;
    let transactions = counted.transactions.swap(0, Ordering::Relaxed);
    let batches = waits.len();
    let (p50, p99, max) = percentiles(waits);
    println!(
        "paced at {:.0} changes/s: commit wait p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms {}",
        args.rate,
        verdict(p99 <= 5.0, "p99 ≤ 5 ms")
    );
    println!(
        "  {issued} changes in {batches} batches, {transactions} transactions ({:.1} batches per transaction)",
        batches as f64 / transactions.max(1) as f64
    );

    let snapshot = store.clone().load().await.expect("load");
    let mut partner = HashMap::new();
    for (a, b, _) in &snapshot.pairs {
        assert!(partner.insert(*a, *b).is_none() && partner.insert(*b, *a).is_none());
    }
    println!(
        "  afterwards: {} pairs and {} waiting in the store, all consistent",
        snapshot.pairs.len(),
        snapshot.waiting.len()
    );
}

fn main() {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("store bench: run with `cargo bench --bench store`; skipped under cargo test");
            return;
        }
        Err(e) => {
            eprintln!("store bench: {e}");
            std::process::exit(2);
        }
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(args));
}
