//! The fake's own ceiling, and what each call of it costs in CPU.
//!
//! Why the CPU figures: the bot, the fake and the load generator share the
//! machine's cores, so the share of the ceiling the bot can reach is
//! bounded by CPU as much as by the update loop's rounds. The ceiling run
//! measures what one copyMessage costs the fake and a bare client; the bot
//! run measures what one relayed message costs the load generator and the
//! fake. From those and [`cpu_per_message_at`] follows how much CPU per
//! relayed message the bot may use if the run is to reach a given share
//! of the ceiling.

use crate::bot;
use randchat::telegram::poller::MAX_IN_FLIGHT;
use randchat::testing::FakeBotApi;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One ceiling run: calls per second, and CPU per call on either side.
#[derive(Clone, Copy, Debug)]
pub struct Ceiling {
    pub rate: f64,
    /// The bare client process's CPU per copyMessage call, in µs.
    pub client_cpu: f64,
    /// This process's (the fake's) CPU per copyMessage call, in µs.
    pub fake_cpu: f64,
}

impl Ceiling {
    /// The mean of two runs (before and after the bot's).
    pub fn mean(a: Ceiling, b: Ceiling) -> Ceiling {
        Ceiling {
            rate: (a.rate + b.rate) / 2.0,
            client_cpu: (a.client_cpu + b.client_cpu) / 2.0,
            fake_cpu: (a.fake_cpu + b.fake_cpu) / 2.0,
        }
    }
}

/// The ceiling: this program again, as a bare client process (see
/// [`client`]).
pub async fn measure(fake: &FakeBotApi, seconds: f64) -> Ceiling {
    let exe = std::env::current_exe().expect("own path");
    let args = [
        "--bench".to_string(),
        "--ceiling-client".into(),
        fake.url(),
        seconds.to_string(),
    ];
    let calls_before = fake.lean_counts().copy_untracked;
    let fake_before = bot::own_cpu();
    let run = move || std::process::Command::new(exe).args(args).output();
    let out = tokio::task::spawn_blocking(run)
        .await
        .expect("ceiling task")
        .expect("run the ceiling client");
    let fake_cpu = bot::own_cpu() - fake_before;
    let calls = fake.lean_counts().copy_untracked - calls_before;
    let text = String::from_utf8_lossy(&out.stdout);
    let reported = text.lines().find_map(|l| {
        let mut words = l.strip_prefix("CEILING ")?.split_whitespace();
        let rate: f64 = words.next()?.parse().ok()?;
        let cpu: f64 = words.next()?.parse().ok()?;
        Some((rate, cpu))
    });
    let (rate, client_seconds) =
        reported.unwrap_or_else(|| panic!("the ceiling client failed: {text}"));
    let per_call = |seconds: f64| seconds / calls.max(1) as f64 * 1e6;
    Ceiling {
        rate,
        client_cpu: per_call(client_seconds),
        fake_cpu: per_call(fake_cpu.as_secs_f64()),
    }
}

/// A bare client loop calling copyMessage as fast as it can: the most the
/// fake and the HTTP stack allow on this machine. Runs in a process of its
/// own with a runtime like the bot's, and prints `CEILING <calls/s> <CPU
/// seconds this process used>`.
pub fn client(url: &str, seconds: f64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rate = runtime.block_on(bare_copies(url.parse().expect("url"), seconds));
    drop(runtime);
    println!("CEILING {rate:.0} {:.6}", bot::own_cpu().as_secs_f64());
}

async fn bare_copies(api_url: url::Url, seconds: f64) -> f64 {
    use teloxide::prelude::Requester;
    use teloxide::types::{ChatId, MessageId};
    let client = randchat::telegram::bot(FakeBotApi::TOKEN, api_url, Duration::from_secs(10))
        .expect("client");
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..MAX_IN_FLIGHT as i64)
        .map(|i| {
            let (client, done, stop) = (client.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let call = client.copy_message(ChatId(-1 - i), ChatId(-1000 - i), MessageId(n));
                    if call.await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let counted = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    counted as f64 / elapsed.as_secs_f64()
}

/// The share of the ceiling the bot is to reach.
pub const TARGET_SHARE: f64 = 0.7;

/// The CPU per relayed message (µs) that `cores` cores give in all, for
/// the bot, the fake and the load generator together, at `share` of
/// `ceiling`: at that rate they have `cores / rate` seconds per message.
pub fn cpu_per_message_at(ceiling: f64, share: f64, cores: f64) -> f64 {
    cores / (ceiling * share) * 1e6
}
