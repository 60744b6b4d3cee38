//! `--prune-links N`: how long the link prune holds a commit, all at once
//! and a slice at a time, on the embedded store with N links.
//!
//! Why a mode of its own: the prune's cost grows with the links table,
//! which only a long-running bot has, so neither the group-commit phases
//! nor the load generator's seconds-long runs ever meet it. The links
//! here are spread over 49 hours, as in a bot that has relayed at a steady
//! rate for that long, so one hour's worth (1/49) has expired, as at an
//! hourly prune; their chats are spread over the key space, as user ids
//! are.

use randchat::domain::Timestamp;
use randchat::engine::Record;
use randchat::store::{Backend, Batch, EmbeddedStore};
use randchat::testing::store_fixtures::message;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the bot slices its prunes (`telegram/poller/upkeep.rs`).
const SLICES: u32 = 360;
/// Slices timed before the whole-table prune.
const SLICES_TIMED: usize = 20;
const LINKS_PER_FILL_COMMIT: usize = 20_000;
const HOUR: u64 = 3_600;

pub async fn run(links: usize, dir: &Path) {
    println!(
        "\n== link prune, embedded store, {links} links, database in {}",
        dir.display()
    );
    let store = EmbeddedStore::open(dir).expect("open the store");
    let now = Timestamp::now().0;
    let started = Instant::now();
    fill(&store, links, now).await;
    println!(
        "filled {links} links ({} rows) in {:.1}s",
        links * 2,
        started.elapsed().as_secs_f64()
    );
    let before = Timestamp(now - 48 * HOUR);
    let empty = time(&store, Vec::new()).await;
    println!("a commit with nothing to prune: {:.2} ms", ms(empty));

    let mut slices = Vec::new();
    for _ in 0..SLICES_TIMED {
        let prune = Record::PruneLinks {
            before,
            slices: SLICES,
        };
        slices.push(time(&store, vec![prune]).await);
    }
    slices.sort();
    println!(
        "one slice (1/{SLICES} of the links, as the bot prunes every 10 s): \
         p50 {:.2} ms, max {:.2} ms over {SLICES_TIMED}",
        ms(slices[slices.len() / 2]),
        ms(slices[slices.len() - 1])
    );
    let all = Record::PruneLinks { before, slices: 1 };
    let whole = time(&store, vec![all]).await;
    println!(
        "the whole table at once (as the bot pruned hourly before): {:.1} ms",
        ms(whole)
    );
}

/// `links` links, made at times spread evenly over the last 49 hours.
async fn fill(store: &Arc<EmbeddedStore>, links: usize, now: u64) {
    let mut made = 0;
    while made < links {
        let records = (made..links.min(made + LINKS_PER_FILL_COMMIT))
            .map(|n| {
                let chat = spread(n as u64);
                let id = (n % 1_000_000) as i32 + 1;
                Record::Link {
                    original: message(chat, id),
                    copy: message(spread(n as u64 ^ 0x5555), id + 1),
                    at: Timestamp(now - 49 * HOUR + (n as u64 * 49 * HOUR) / links as u64),
                }
            })
            .collect::<Vec<_>>();
        made += records.len();
        store
            .clone()
            .commit(batch(records))
            .await
            .expect("fill commit");
    }
}

/// A chat id for link `n`: spread over the positive ids, as user ids are.
fn spread(n: u64) -> i64 {
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 31) as i64 + 1
}

async fn time(store: &Arc<EmbeddedStore>, records: Vec<Record>) -> Duration {
    let started = Instant::now();
    store
        .clone()
        .commit(batch(records))
        .await
        .expect("prune commit");
    started.elapsed()
}

/// A batch that also moves the last update id, so even one with no
/// records commits.
fn batch(records: Vec<Record>) -> Batch {
    Batch {
        records,
        last_update_id: Some(1),
        ..Batch::default()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
