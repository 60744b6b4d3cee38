//! The load generator: the real bot binary against the fake Bot API.
//!
//! ```sh
//! cargo bench --bench loadgen                       # max throughput, 10,000 users
//! cargo bench --bench loadgen -- --rate 2000        # fixed rate: the latency target
//! cargo bench --bench loadgen -- --dataset          # 1M users, 100k chats: memory, start-up
//! cargo bench --bench loadgen -- --store redis     # the same on the Redis store (private redis-server)
//! cargo bench --bench loadgen -- --users 1000 --seconds 5 --ceiling-seconds 2
//! ```
//!
//! It starts the fake Bot API in lean mode in this process and the release
//! build of the bot as a child process (THROTTLE=off, see README
//! "Performance"), then plays N users who search, chat with every message
//! kind, skip (/next) and leave (/stop). It reports:
//! - relayed messages per second (copyMessage calls reaching the fake);
//! - added latency, p50 and p99: from the moment an update is injected into
//!   the fake's queue (available to the bot's getUpdates) until its
//!   copyMessage reaches the fake. Also shown from the moment getUpdates
//!   handed it out. Meaningful at a fixed rate; at max throughput it is
//!   mostly the backlog the load generator keeps queued;
//! - lost, duplicated and misrouted messages, against a model of the
//!   matching (`loadgen/model.rs`); any of them makes the run fail;
//! - the bot's peak RSS (VmHWM) and CPU time (utime + stime) per relayed
//!   message over the measured window;
//! - the ceiling: before the bot starts and after it stops, a bare loop
//!   calls copyMessage on the same fake as fast as it can, from a process
//!   of its own (as the bot is), through the bot's own HTTP client settings
//!   and with the bot's concurrency; the bot's rate is shown as a fraction
//!   of the mean of the two;
//! - at max throughput, the CPU budget behind that fraction
//!   (`loadgen/ceiling.rs`): what one ceiling call costs the fake and the
//!   bare client, what one relayed message cost the fake and the load
//!   generator in the bot's run, and so how much CPU per relayed message
//!   the bot could use and still reach 70% of the ceiling if the cores
//!   never idled. A bot within that budget that still falls short is
//!   bounded by its serial update loop, not by CPU.
//!
//! To profile the bot, set `LOADGEN_WRAP`, e.g.
//! `LOADGEN_WRAP="valgrind --tool=callgrind --instr-atstart=no"` (collects
//! during the measured window only); to compare builds, `LOADGEN_BOT=path`.
//!
//! `cargo test --benches` runs this file without `--bench`: it then does
//! nothing, so the tests stay fast.

#[path = "loadgen/bot.rs"]
mod bot;
#[path = "loadgen/ceiling.rs"]
mod ceiling;
#[path = "loadgen/dataset.rs"]
mod dataset;
#[path = "loadgen/model.rs"]
mod model;

use bot::{mib, Bot};
use ceiling::{Ceiling, TARGET_SHARE};
use model::Model;
use randchat::telegram::poller::MAX_IN_FLIGHT;
use randchat::testing::{FakeBotApi, RedisServer, Track};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo bench --bench loadgen -- [--users N (10000)] \
[--seconds S (10)] [--rate MESSAGES_PER_SECOND (max)] [--warmup-seconds S (2)] \
[--ceiling-seconds S (3)] [--store embedded|redis (embedded)] \
[--dataset [--dataset-users N (1000000)] [--dataset-chats N (100000)]]";

#[derive(Clone, Debug)]
pub struct Args {
    pub users: usize,
    pub seconds: f64,
    /// Messages per second; `None` is max throughput.
    pub rate: Option<f64>,
    pub dataset: bool,
    pub dataset_users: usize,
    pub dataset_chats: usize,
    pub ceiling_seconds: f64,
    pub warmup_seconds: f64,
    /// Run the bot on the Redis store (a private redis-server with
    /// `appendfsync always`) instead of the embedded one.
    pub redis: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.iter().any(|a| a == "--bench") {
        return Ok(None);
    }
    if let [_, flag, url, seconds] = &raw[..] {
        if flag == "--ceiling-client" {
            ceiling::client(url, seconds.parse().map_err(|_| "bad seconds")?);
            std::process::exit(0);
        }
    }
    let mut args = Args {
        users: 10_000,
        seconds: 10.0,
        rate: None,
        dataset: false,
        dataset_users: 1_000_000,
        dataset_chats: 100_000,
        ceiling_seconds: 3.0,
        warmup_seconds: 2.0,
        redis: false,
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<f64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--help" | "-h" => return Err(USAGE.into()),
            "--users" => args.users = value("--users")? as usize,
            "--seconds" => args.seconds = value("--seconds")?,
            "--rate" => args.rate = Some(value("--rate")?),
            "--dataset" => args.dataset = true,
            "--dataset-users" => args.dataset_users = value("--dataset-users")? as usize,
            "--dataset-chats" => args.dataset_chats = value("--dataset-chats")? as usize,
            "--ceiling-seconds" => args.ceiling_seconds = value("--ceiling-seconds")?,
            "--warmup-seconds" => args.warmup_seconds = value("--warmup-seconds")?,
            "--store" => {
                args.redis = match it.next().as_deref() {
                    Some("embedded") => false,
                    Some("redis") => true,
                    _ => return Err("--store takes embedded or redis".into()),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.users < 2 || args.seconds <= 0.0 || args.rate.is_some_and(|r| r <= 0.0) {
        return Err("need --users >= 2, --seconds > 0, --rate > 0".into());
    }
    if args.dataset && args.redis {
        return Err("--dataset measures the embedded store only".into());
    }
    Ok(Some(args))
}

fn main() {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("loadgen: run with `cargo bench --bench loadgen`; skipped under cargo test");
            return;
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    print_machine();
    let ok = if args.dataset {
        runtime.block_on(dataset::run(&args))
    } else {
        runtime.block_on(throughput(&args))
    };
    if !ok {
        std::process::exit(1);
    }
}

fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |m| m.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "machine: {cores} cores, {model}; load average before the run {}",
        load.join(" ")
    );
}

/// What the ceiling costs per call, and what 70% of it would leave the
/// bot per relayed message on this machine's cores, once the fake and the
/// load generator have had theirs.
fn print_budget(ceilings: &Ceiling, harness_per_message: f64, bot_per_message: f64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    line(
        "ceiling CPU per call: fake / bare client",
        format!("{:.1} / {:.1} µs", ceilings.fake_cpu, ceilings.client_cpu),
        None,
    );
    let all = ceiling::cpu_per_message_at(ceilings.rate, TARGET_SHARE, cores);
    let left = all - harness_per_message;
    line(
        "CPU budget for the bot at 70% of the ceiling",
        format!(
            "{left:.1} µs per message ({all:.1} µs on {cores:.0} cores, less \
             {harness_per_message:.1} for the fake and load generator); it used {bot_per_message:.1} µs"
        ),
        None,
    );
}

/// Injects updates: as fast as the bot takes them (keeping a backlog so
/// every getUpdates gets a full batch), or at `rate` messages a second.
async fn inject(fake: FakeBotApi, mut model: Model, rate: Option<f64>, stop: Arc<AtomicBool>) {
    const BACKLOG: usize = 1_000;
    const CHUNK: usize = 200;
    let start = Instant::now();
    let mut sent = 0.0;
    while !stop.load(Ordering::Relaxed) {
        let want = match rate {
            None if fake.lean_pending() < BACKLOG => CHUNK,
            None => 0,
            Some(rate) => (rate * start.elapsed().as_secs_f64() - sent).max(0.0) as usize,
        };
        if want > 0 {
            let mut updates = Vec::with_capacity(want + 8);
            let mut messages = 0;
            while messages < want {
                let (user, action) = model.next_action();
                let update = model.apply(user, action);
                messages += usize::from(update.track.is_some());
                updates.push(update);
            }
            sent += messages as f64;
            fake.lean_push(updates);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the bot has taken every update and `done` holds, or
/// nothing has moved for `quiet`.
async fn settle(fake: &FakeBotApi, quiet: Duration, done: impl Fn(&FakeBotApi) -> bool) {
    let mut last = (u64::MAX, u64::MAX);
    let mut since = Instant::now();
    loop {
        let c = fake.lean_counts();
        if fake.lean_pending() == 0 && done(fake) {
            return;
        }
        let now = (c.copy_message, c.send_message);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() > quiet {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn throughput(args: &Args) -> bool {
    let fake = FakeBotApi::start_lean().await;
    let ceiling_before = ceiling::measure(&fake, args.ceiling_seconds).await;
    println!(
        "ceiling: {:.0} copyMessage/s (bare client, {MAX_IN_FLIGHT} in flight, {}s)",
        ceiling_before.rate, args.ceiling_seconds
    );
    fake.lean_reset();

    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let redis = args.redis.then(RedisServer::start_persistent);
    if let Some(redis) = &redis {
        println!(
            "store: Redis, redis-server with appendfsync always on {}",
            redis.url()
        );
    }
    let redis_url = redis.as_ref().map(RedisServer::url);
    let mut bot = Bot::start(&fake, &data_dir, &dir.path().join("bot.log"), redis_url);
    let started = Instant::now();
    while fake.lean_first_poll().is_none() {
        if let Err(e) = bot.check_alive() {
            eprintln!("{e}");
            print_log(dir.path());
            return false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the bot never polled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Everyone searches once: users pair up in order.
    let mut model = Model::new(args.users, 1_000_000_000, 0x5eed);
    let searches: Vec<_> = (0..model.users())
        .map(|user| model.apply(user, model::Action::Chat))
        .collect();
    fake.lean_push(searches);
    let expected_texts = (args.users as u64 * 3) / 2;
    settle(&fake, Duration::from_secs(10), |f| {
        f.lean_counts().send_message >= expected_texts
    })
    .await;
    println!(
        "{} users paired in {:.2}s",
        args.users,
        started.elapsed().as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let injector = tokio::spawn(inject(fake.clone(), model, args.rate, stop.clone()));
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_seconds)).await;

    profiler_window(&bot, true);
    let (t0, c0, cpu0, own0) = (
        Instant::now(),
        fake.lean_counts(),
        bot.cpu(),
        bot::own_cpu(),
    );
    let switches0 = bot.context_switches();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    let switches1 = bot.context_switches();
    let (t1, c1, cpu1, own1) = (
        Instant::now(),
        fake.lean_counts(),
        bot.cpu(),
        bot::own_cpu(),
    );
    profiler_window(&bot, false);
    stop.store(true, Ordering::Relaxed);
    let _ = injector.await;
    let alive = bot.check_alive();

    settle(&fake, Duration::from_secs(10), |f| {
        f.lean_tracks()
            .iter()
            .all(|t| t.expected_to.is_none() || !t.copies.is_empty())
    })
    .await;
    let (_, peak) = bot.memory();
    let clean_exit = bot.stop();
    let tracks = fake.lean_tracks();
    let ceiling_after = ceiling::measure(&fake, args.ceiling_seconds).await;
    let ceilings = Ceiling::mean(ceiling_before, ceiling_after);
    let ceiling_rate = ceilings.rate;

    let window = (t1 - t0).as_secs_f64();
    let relayed = c1.copy_message - c0.copy_message;
    let rate = relayed as f64 / window;
    let (user, system) = (
        (cpu1.0 - cpu0.0).as_secs_f64(),
        (cpu1.1 - cpu0.1).as_secs_f64(),
    );
    let cpu = user + system;
    let check = check_deliveries(&tracks);
    let in_window: Vec<&Track> = tracks
        .iter()
        .filter(|t| t.injected >= t0 && t.injected < t1)
        .collect();
    let from_injection = percentiles(in_window.iter().filter_map(|t| {
        let copy = t.copies.first()?;
        Some(copy.1 - t.injected)
    }));
    let from_handout = percentiles(in_window.iter().filter_map(|t| {
        let copy = t.copies.first()?;
        Some(copy.1 - t.handed_out?)
    }));

    let mode = match args.rate {
        None => "max throughput".to_string(),
        Some(r) => format!("fixed rate {r:.0} messages/s"),
    };
    println!(
        "\n== randchat loadgen: {mode}, {} users, {window:.1}s measured ==",
        args.users
    );
    println!(
        "updates handed out {}, getUpdates calls {} ({:.1} updates/call), sendMessage {}",
        c1.updates_handed_out - c0.updates_handed_out,
        c1.get_updates - c0.get_updates,
        (c1.updates_handed_out - c0.updates_handed_out) as f64
            / (c1.get_updates - c0.get_updates).max(1) as f64,
        c1.send_message - c0.send_message
    );
    let per_message = cpu / relayed.max(1) as f64 * 1e6;
    let fraction = rate / ceiling_rate * 100.0;
    line(
        "relayed messages/s",
        format!("{rate:.0}"),
        args.rate
            .is_none()
            .then_some((rate >= 20_000.0, "≥ 20,000")),
    );
    line(
        "added latency p50 / p99 (from injection)",
        format!(
            "{:.2} / {:.2} ms (max {:.2})",
            from_injection.0, from_injection.1, from_injection.2
        ),
        args.rate
            .is_some()
            .then_some((from_injection.1 <= 5.0, "p99 ≤ 5 ms at 2,000/s")),
    );
    line(
        "added latency p50 / p99 (from getUpdates)",
        format!(
            "{:.2} / {:.2} ms (max {:.2})",
            from_handout.0, from_handout.1, from_handout.2
        ),
        None,
    );
    line(
        "bot CPU per relayed message",
        format!("{per_message:.1} µs ({cpu:.2}s CPU over {window:.1}s: {user:.2}s user, {system:.2}s system)"),
        args.rate
            .is_none()
            .then_some((per_message <= 50.0, "≤ 50 µs")),
    );
    line(
        "bot context switches per relayed message",
        format!(
            "{:.2}",
            (switches1 - switches0) as f64 / relayed.max(1) as f64
        ),
        None,
    );
    let harness = (own1 - own0).as_secs_f64();
    let harness_per_message = harness / relayed.max(1) as f64 * 1e6;
    line(
        "load generator + fake CPU",
        format!("{harness:.2}s, {harness_per_message:.1} µs per relayed message"),
        None,
    );
    line(
        "bot peak RSS (VmHWM)",
        format!("{:.1} MiB", mib(peak)),
        None,
    );
    line(
        "ceiling (bare copyMessage loop)",
        format!(
            "{ceiling_rate:.0}/s (before {:.0}, after {:.0}); \
             the bot reached {fraction:.0}%",
            ceiling_before.rate, ceiling_after.rate
        ),
        args.rate
            .is_none()
            .then_some((fraction >= TARGET_SHARE * 100.0, "≥ 70%")),
    );
    if args.rate.is_none() {
        print_budget(&ceilings, harness_per_message, per_message);
    }
    line(
        "messages followed / lost / duplicated / misrouted",
        format!(
            "{} / {} / {} / {}",
            check.followed, check.lost, check.duplicated, check.misrouted
        ),
        Some((check.is_clean(), "0 / 0 / 0")),
    );
    let mut ok = check.is_clean();
    if let Err(e) = alive {
        println!("FAIL: {e}");
        ok = false;
    }
    if !clean_exit {
        println!("FAIL: the bot did not stop cleanly on SIGTERM");
        ok = false;
    }
    if !ok {
        print_log(dir.path());
    }
    ok
}

/// Under `LOADGEN_WRAP="valgrind --tool=callgrind --instr-atstart=no ..."`,
/// collects only during the measured window.
fn profiler_window(bot: &Bot, on: bool) {
    let wrap = std::env::var("LOADGEN_WRAP").unwrap_or_default();
    if wrap.contains("callgrind") && wrap.contains("--instr-atstart=no") {
        let _ = std::process::Command::new("callgrind_control")
            .args(["-i", if on { "on" } else { "off" }, &bot.pid().to_string()])
            .stdout(std::process::Stdio::null())
            .status();
    }
}

fn line(what: &str, value: String, target: Option<(bool, &str)>) {
    let verdict = match target {
        Some((true, t)) => format!("  [met: {t}]"),
        Some((false, t)) => format!("  [MISSED: {t}]"),
        None => String::new(),
    };
    println!("{what:<50} {value}{verdict}");
}

fn print_log(dir: &std::path::Path) {
    let log = std::fs::read_to_string(dir.join("bot.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    eprintln!("last lines of the bot's log:");
    for l in tail.iter().rev() {
        eprintln!("  {l}");
    }
}

#[derive(Default)]
pub struct Check {
    pub followed: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub misrouted: u64,
}

impl Check {
    pub fn is_clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.misrouted == 0
    }
}

/// Every copy must reach the partner the model expects, exactly once; a
/// message from someone not chatting must not be copied at all.
pub fn check_deliveries(tracks: &[Track]) -> Check {
    let mut check = Check::default();
    for track in tracks {
        check.followed += 1;
        let wrong = track
            .copies
            .iter()
            .filter(|(to, _)| Some(*to) != track.expected_to)
            .count() as u64;
        let right = track.copies.len() as u64 - wrong;
        check.misrouted += wrong;
        match (track.expected_to, right) {
            (Some(_), 0) => check.lost += 1,
            (_, n) if n > 1 => check.duplicated += n - 1,
            _ => {}
        }
    }
    check
}

/// p50, p99 and max, in milliseconds.
pub fn percentiles(samples: impl Iterator<Item = Duration>) -> (f64, f64, f64) {
    let mut v: Vec<Duration> = samples.collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.50), at(0.99), at(1.0))
}
