//! Memory and start-up on a big data set (`--dataset`).
//!
//! Writes 1,000,000 known users and 100,000 active chats straight into a
//! fresh DATA_DIR through the library (the same `Backend::commit` the bot
//! uses), starts the bot on it and reports the time from process start to
//! its first getUpdates, and its RSS once running. Then a few seconds of
//! traffic at a fixed rate (restored pairs talk, returning users search)
//! checks that the restored chats relay, and RSS is read again.

use super::bot::{mib, Bot};
use super::model::Model;
use super::{check_deliveries, inject, line, settle, Args};
use randchat::domain::{Timestamp, UserId};
use randchat::engine::Record;
use randchat::store::{Backend, Batch, EmbeddedStore};
use randchat::testing::FakeBotApi;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BASE_ID: i64 = 1_000_000_000;
const TRAFFIC_RATE: f64 = 2_000.0;
const TRAFFIC_SECONDS: f64 = 3.0;

/// Fills `data_dir` with `users` users, the first `2 * chats` of them paired.
async fn create(data_dir: &Path, users: usize, chats: usize) {
    let store = EmbeddedStore::open(data_dir).expect("create the store");
    let now = Timestamp::now().0;
    let at = |i: usize| Timestamp(now - (i as u64 * 7919) % (30 * 86_400));
    const CHUNK: usize = 100_000;
    for start in (0..users).step_by(CHUNK) {
        let records = (start..(start + CHUNK).min(users))
            .map(|i| Record::Seen {
                user: UserId(BASE_ID + i as i64),
                at: at(i),
            })
            .collect();
        let batch = Batch {
            records,
            ..Batch::default()
        };
        store.clone().commit(batch).await.expect("commit users");
    }
    for start in (0..chats).step_by(CHUNK) {
        let records = (start..(start + CHUNK).min(chats))
            .map(|i| Record::Pair {
                a: UserId(BASE_ID + 2 * i as i64),
                b: UserId(BASE_ID + 2 * i as i64 + 1),
                since: Timestamp(now - 60),
            })
            .collect();
        let batch = Batch {
            records,
            ..Batch::default()
        };
        store.clone().commit(batch).await.expect("commit pairs");
    }
}

pub async fn run(args: &Args) -> bool {
    let (users, chats) = (args.dataset_users, args.dataset_chats);
    assert!(2 * chats <= users, "more chats than users can fill");
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let started = Instant::now();
    create(&data_dir, users, chats).await;
    let file = data_dir.join(randchat::store::embedded::FILE_NAME);
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
    println!(
        "data set: {users} users, {chats} chats written in {:.1}s; {} is {:.1} MiB",
        started.elapsed().as_secs_f64(),
        randchat::store::embedded::FILE_NAME,
        mib(size)
    );

    let fake = FakeBotApi::start_lean().await;
    let mut bot = Bot::start(&fake, &data_dir, &dir.path().join("bot.log"), None);
    let first_poll = loop {
        if let Some(at) = fake.lean_first_poll() {
            break at;
        }
        if let Err(e) = bot.check_alive() {
            eprintln!("{e}");
            return false;
        }
        assert!(
            bot.started.elapsed() < Duration::from_secs(60),
            "never polled"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let startup = first_poll - bot.started;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (idle_rss, _) = bot.memory();

    let model = Model::with_pairs(users, chats, BASE_ID, 0xda7a);
    let stop = Arc::new(AtomicBool::new(false));
    let injector = tokio::spawn(inject(
        fake.clone(),
        model,
        Some(TRAFFIC_RATE),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs_f64(TRAFFIC_SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = injector.await;
    settle(&fake, Duration::from_secs(10), |f| {
        f.lean_tracks()
            .iter()
            .all(|t| t.expected_to.is_none() || !t.copies.is_empty())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (busy_rss, peak) = bot.memory();
    let clean_exit = bot.stop();
    let check = check_deliveries(&fake.lean_tracks());

    println!("\n== randchat loadgen: data set, {users} users, {chats} chats ==");
    line(
        "start-up (process start → first getUpdates)",
        format!("{:.0} ms", startup.as_secs_f64() * 1e3),
        Some((startup <= Duration::from_secs(1), "≤ 1 s")),
    );
    line(
        "RSS, idle after start-up",
        format!("{:.1} MiB", mib(idle_rss)),
        Some((idle_rss <= 100 << 20, "≤ 100 MB")),
    );
    line(
        &format!("RSS after {TRAFFIC_SECONDS}s at {TRAFFIC_RATE} msg/s"),
        format!("{:.1} MiB", mib(busy_rss)),
        Some((busy_rss <= 100 << 20, "≤ 100 MB")),
    );
    line("peak RSS (VmHWM)", format!("{:.1} MiB", mib(peak)), None);
    line(
        "messages followed / lost / duplicated / misrouted",
        format!(
            "{} / {} / {} / {}",
            check.followed, check.lost, check.duplicated, check.misrouted
        ),
        Some((check.is_clean(), "0 / 0 / 0")),
    );
    if !clean_exit {
        println!("FAIL: the bot did not stop cleanly on SIGTERM");
    }
    check.is_clean() && clean_exit
}
