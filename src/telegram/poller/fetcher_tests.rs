//! The fetcher against the fake Bot API over real HTTP: when it keeps a
//! batch and polls ahead, when it waits, and what a failed commit leaves
//! in the inbox.

use super::*;
use crate::testing::FakeBotApi;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(1);

/// The fake with `messages` texts waiting, and a fetcher polling it from
/// the start, with its inbox in a directory of its own.
async fn backlog(messages: usize) -> (FakeBotApi, tempfile::TempDir, Fetcher) {
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let user = fake.user(41, "Ann", None);
    for n in 0..messages {
        user.send_text(&format!("message {n}"));
    }
    let (inbox, _) = Inbox::open(dir.path()).expect("inbox");
    let direct = Direct::new(&fake.bot(), TIMEOUT);
    let fetcher = Fetcher::start(direct, TIMEOUT, inbox, 0);
    (fake, dir, fetcher)
}

fn ids(fetched: &Fetched) -> Vec<i64> {
    fetched.updates.iter().map(Incoming::id).collect()
}

/// The update ids of the batches the inbox in `dir` keeps.
fn kept_ids(dir: &Path) -> Vec<i64> {
    let answers = Inbox::peek(dir).into_iter().map(|kept| kept.answer);
    let updates = answers.flat_map(|answer| read_updates(&answer).expect("a batch"));
    let mut ids: Vec<i64> = updates.map(|update| update.id()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_backlog_is_kept_and_confirmed_ahead_and_a_failed_commit_forgotten() {
    let (fake, dir, mut fetcher) = backlog(150).await;

    // The first answer is full, but nothing said a backlog was waiting:
    // it is not kept, and nothing confirms it until it is applied.
    let first = fetcher.next().await.expect("a batch");
    assert_eq!(first.updates.len(), 100);
    assert!(!first.kept());
    let first_last = *ids(&first).last().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        fake.requests_for("getUpdates").len(),
        1,
        "polled ahead of an unkept batch"
    );
    assert!(fake.confirmed_offset() <= first_last);
    first.applied(Applied::Durable).await;

    // After a full answer the next one is kept, and the poll after it
    // confirms it before the loop has applied it.
    let second = fetcher.next().await.expect("a batch");
    assert_eq!(second.updates.len(), 50);
    assert!(second.kept());
    let second_last = *ids(&second).last().unwrap();
    fake.wait_until_confirmed(second_last, Duration::from_secs(5))
        .await;
    assert_eq!(kept_ids(dir.path()), ids(&second));

    // Its commit failed and its users were answered: the inbox forgets it,
    // so a start would not apply it again.
    second.applied(Applied::NotDurable).await;
    assert!(kept_ids(dir.path()).is_empty());
}

#[tokio::test]
async fn at_a_stop_the_batches_handed_over_are_returned() {
    let (fake, _dir, mut fetcher) = backlog(250).await;
    let first = fetcher.next().await.expect("a batch");
    first.applied(Applied::Durable).await;
    // The rest is kept and handed over without waiting for the loop.
    let rest_last = fake.last_update_id().unwrap();
    fake.wait_until_confirmed(rest_last, Duration::from_secs(5))
        .await;
    let left: Vec<i64> = fetcher.stop().await.iter().flat_map(ids).collect();
    assert_eq!(left.len(), 150);
    assert_eq!(left.last(), Some(&rest_last));
}
