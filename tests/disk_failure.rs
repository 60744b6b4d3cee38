//! The disk fills up under a running bot, then space comes back.
//!
//! The data directory is a small tmpfs of its own, shrunk to its contents in
//! the middle of a chat: state changes are refused with "temporarily
//! unavailable", plain relays keep flowing, nothing is corrupted, and once
//! there is room again the bot recovers without a restart. Under a
//! backlog, where batches commit ahead of each other, a failed commit fails
//! the batches decided after it as well; their relays still go out, once
//! each and in order, and a restart does not apply them again.
//! Mounting needs root, which CI and the development machines have.

mod support;

use randchat::i18n::Text;
use randchat::telegram::inbox::{slot_path, SLOTS};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::app::unstarted_app;
use support::Inbox;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Self {
        std::fs::create_dir_all(at).unwrap();
        mount(&["-t", "tmpfs", "-o", "size=16m", "tmpfs"], at);
        Tmpfs(at.to_owned())
    }

    /// Shrinks the filesystem to what it already holds: every write that
    /// needs a new block now fails with ENOSPC. (A read-only remount is
    /// refused while the bot holds the database open for writing.)
    fn fill_up(&self) {
        // The bot may write between `df` and the remount, and a tmpfs can't
        // shrink below what it holds: measure again and retry.
        for _ in 0..50 {
            let size = format!("remount,size={}k", self.used_kib().max(4));
            if try_mount(&["-o", &size], &self.0) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("could not shrink the tmpfs to its contents: this test needs root");
    }

    fn used_kib(&self) -> u64 {
        let used = Command::new("df")
            .args(["--output=used", "-k"])
            .arg(&self.0)
            .output()
            .expect("run df");
        String::from_utf8_lossy(&used.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .expect("df prints the used size")
    }

    fn make_room(&self) {
        mount(&["-o", "remount,size=16m"], &self.0);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) {
    assert!(
        try_mount(args, at),
        "mount {args:?} failed: this test needs root"
    );
}

fn try_mount(args: &[&str], at: &Path) -> bool {
    Command::new("mount")
        .args(args)
        .arg(at)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run mount")
        .success()
}

#[tokio::test]
async fn a_full_disk_refuses_changes_keeps_relaying_and_recovers() {
    if support::app::skip_on_redis(
        "fills the disk under the redb file; the Redis outage test is tests/redis_store.rs",
    ) {
        return;
    }
    let mut app = unstarted_app(&[]).await;
    let disk = Tmpfs::mount(&app.data_dir());
    app.start().await;
    let fake = app.fake.clone();
    let Three {
        a,
        b,
        c,
        mut to_a,
        mut to_b,
        mut to_c,
    } = ann_and_ben_chatting(&fake, 9501).await;

    disk.fill_up();
    let searching = until_refused(&c, &mut to_c).await;
    let during = a.send_text("written while the disk is full");
    to_b.expect_copy(9501, during).await;

    disk.make_room();
    search_again(&c, &mut to_c, searching).await;
    let after = b.send_text("after recovery");
    to_a.expect_copy(9502, after).await;

    app.restart().await;
    let restarted = a.send_text("after a restart");
    to_b.expect_copy(9501, restarted).await;
    let d = fake.user(9504, "Di", None);
    d.send_command("/chat");
    to_c.expect_text(Text::PartnerFound).await;
    app.kill();
}

/// Ann and Ben in a chat, Cy on their own, and what each receives.
struct Three {
    a: support::SimUser,
    b: support::SimUser,
    c: support::SimUser,
    to_a: Inbox,
    to_b: Inbox,
    to_c: Inbox,
}

/// [`Three`], with ids `first`, `first + 1` and `first + 2`.
async fn ann_and_ben_chatting(fake: &support::FakeBotApi, first: i64) -> Three {
    let (a, b, c) = (
        fake.user(first, "Ann", None),
        fake.user(first + 1, "Ben", None),
        fake.user(first + 2, "Cy", None),
    );
    let (mut to_a, mut to_b) = (Inbox::new(fake, first), Inbox::new(fake, first + 1));
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    Three {
        a,
        b,
        c,
        to_a,
        to_b,
        to_c: Inbox::new(fake, first + 2),
    }
}

/// Searches with `c` (and stops again) until the bot answers "temporarily
/// unavailable": the database has no room left. Says whether that refused
/// the /stop, leaving `c` searching.
async fn until_refused(c: &support::SimUser, to_c: &mut Inbox) -> bool {
    let unavailable = Text::TemporarilyUnavailable.render();
    for attempt in 1..500 {
        for (command, done) in [("/chat", Text::Searching), ("/stop", Text::SearchStopped)] {
            c.send_command(command);
            let done = done.render();
            let answer = to_c
                .expect(&format!("an answer to {command}"), |d| {
                    matches!(d, support::Delivery::Text { text, .. } if *text == unavailable || *text == done)
                })
                .await;
            if matches!(answer, support::Delivery::Text { ref text, .. } if *text == unavailable) {
                println!("the disk was full after {attempt} searches");
                return command == "/stop";
            }
        }
    }
    panic!("the database never ran out of space");
}

/// Once there is room again: `c` searches, as a fresh user would.
async fn search_again(c: &support::SimUser, to_c: &mut Inbox, searching: bool) {
    if searching {
        c.send_command("/stop");
        to_c.expect_text(Text::SearchStopped).await;
    }
    c.send_command("/chat");
    to_c.expect_text(Text::Searching).await;
}

/// `count` texts from `from`, sent at once: more than one getUpdates answer
/// holds, so the bot polls ahead and commits batches ahead of each other.
fn burst(from: &support::SimUser, count: usize) -> Vec<i64> {
    (0..count).map(|_| from.send_text("burst")).collect()
}

/// How many copies of each of `messages` from `from` reached `chat`.
fn copies_of(fake: &support::FakeBotApi, chat: i64, from: i64, messages: &[i64]) -> Vec<usize> {
    let received = fake.received(chat);
    messages
        .iter()
        .map(|&message| {
            received
                .iter()
                .filter(|d| {
                    matches!(d, support::Delivery::Copy { from_chat_id, message_id, .. }
                    if *from_chat_id == from && *message_id == message)
                })
                .count()
        })
        .collect()
}

#[tokio::test]
async fn a_full_disk_under_a_backlog_fails_the_batches_behind_and_still_relays() {
    if support::app::skip_on_redis("the inbox and commits ahead belong to the embedded store") {
        return;
    }
    let mut app = unstarted_app(&[]).await;
    let disk = Tmpfs::mount(&app.data_dir());
    // Inbox slots already grown to more than any answer, so that keeping a
    // batch needs no new space once the disk is full. (Growing them with
    // traffic instead leaves free pages inside the database, which can
    // take a thousand more commits to use up.)
    for slot in 0..SLOTS {
        std::fs::write(slot_path(&app.data_dir(), slot), vec![0u8; 512 * 1024]).unwrap();
    }
    app.start().await;
    let fake = app.fake.clone();
    let Three {
        a,
        c,
        mut to_b,
        mut to_c,
        ..
    } = ann_and_ben_chatting(&fake, 9601).await;
    disk.fill_up();
    let searching = until_refused(&c, &mut to_c).await;
    // (A commit may still find room now and then: redb reuses pages freed
    // inside its file. So the test holds to what must hold either way.)
    let failed_before = app.logs().matches("commit failed").count();
    let relayed = burst(&a, 400);
    for &message in &relayed {
        to_b.expect_copy(9601, message).await;
    }
    let logs = app.logs();
    let failed = logs.matches("commit failed").count() - failed_before;
    println!(
        "commits failed during the burst: {failed}, of them refused behind a failed one: {}",
        logs.matches("an earlier commit it depends on failed")
            .count()
    );
    assert!(
        failed > 0,
        "the burst's commits found room: the disk was not full"
    );

    // A restart while the disk is still full: the batches whose commits
    // failed were relayed already and must not be applied again.
    app.restart().await;
    let marker = a.send_text("after a restart");
    to_b.expect_copy(9601, marker).await;
    assert!(
        !app.logs().contains("applying updates kept in the inbox"),
        "the restart applied batches whose commits had failed, and relayed them again"
    );
    // A send whose commit found room is in the outbox until its removal is
    // committed too, which a full disk refuses; the restart sends it again.
    let copies = copies_of(&fake, 9602, 9601, &relayed);
    assert!(
        copies.iter().all(|&n| n == 1 || n == 2),
        "each message arrived once, or twice after the restart: {copies:?}"
    );

    disk.make_room();
    search_again(&c, &mut to_c, searching).await;
    let d = fake.user(9604, "Di", None);
    d.send_command("/chat");
    to_c.expect_text(Text::PartnerFound).await;
    app.kill();
}
