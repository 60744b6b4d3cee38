//! The disk fills up under a running bot, then space comes back.
//!
//! The data directory is a small tmpfs of its own, shrunk to its contents in
//! the middle of a chat: state changes are refused with "temporarily
//! unavailable", plain relays keep flowing, nothing is corrupted, and once
//! there is room again the bot recovers without a restart.
//! Mounting needs root, which CI and the development machines have.

mod support;

use randchat::i18n::Text;
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
    let (a, b, c) = (
        fake.user(9501, "Ann", None),
        fake.user(9502, "Ben", None),
        fake.user(9503, "Cy", None),
    );
    let (mut to_a, mut to_b, mut to_c) = (
        Inbox::new(&fake, 9501),
        Inbox::new(&fake, 9502),
        Inbox::new(&fake, 9503),
    );
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;

    disk.fill_up();
    let mut attempts = 0;
    loop {
        attempts += 1;
        c.send_command("/chat");
        let answer = to_c
            .expect("an answer to /chat", |d| {
                matches!(d, support::Delivery::Text { text, .. }
                    if text == Text::TemporarilyUnavailable.render() || text == Text::Searching.render())
            })
            .await;
        if matches!(answer, support::Delivery::Text { ref text, .. } if text == Text::TemporarilyUnavailable.render())
        {
            break;
        }
        c.send_command("/stop");
        to_c.expect_text(Text::SearchStopped).await;
        assert!(attempts < 500, "the database never ran out of space");
    }
    println!("the disk was full after {attempts} searches");
    let during = a.send_text("written while the disk is full");
    to_b.expect_copy(9501, during).await;

    disk.make_room();
    c.send_command("/chat");
    to_c.expect_text(Text::Searching).await;
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
