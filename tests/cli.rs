//! The operator commands, run as an operator would: the real binary, the
//! fake Bot API, and a bot that is running or stopped.

mod support;

use randchat::i18n::Text;
use std::path::Path;
use std::process::{Command, Output};
use support::app::{app_on, bot_command};
use support::{spawn_app, FakeBotApi, Inbox};

/// Runs `randchat <args>` with the test environment, `DATA_DIR` under
/// `work_dir`, off the async runtime (the fake must keep answering).
async fn randchat(fake_url: &str, work_dir: &Path, args: &[&str]) -> Output {
    let mut command: Command = bot_command(fake_url, work_dir);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run randchat"))
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    assert!(!stdout(output).contains("AAFakeToken"), "token leaked");
    assert!(!stderr(output).contains("AAFakeToken"), "token leaked");
}

#[tokio::test]
async fn check_config_names_the_bot_when_telegram_accepts_the_token() {
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let output = randchat(&fake.url(), dir.path(), &["check-config"]).await;
    assert_exit(&output, 0);
    let out = stdout(&output);
    assert!(out.starts_with("configuration is valid\n"), "{out}");
    let token_row = out.lines().find(|l| l.starts_with("BOT_TOKEN "));
    assert!(
        token_row.is_some_and(|row| row.ends_with("= ***masked***")),
        "{out}"
    );
    assert!(out.contains("@randchat_test_bot"), "{out}");
    assert_eq!(fake.requests_for("getMe").len(), 1);
}

#[tokio::test]
async fn check_config_says_when_the_api_is_unreachable_or_the_token_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let output = randchat("http://127.0.0.1:9", dir.path(), &["check-config"]).await;
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.starts_with("randchat: the Bot API at http://127.0.0.1:9/ is unreachable"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(stdout(&output).contains("configuration is valid"));

    let fake = FakeBotApi::start().await;
    let mut command = bot_command(&fake.url(), dir.path());
    command
        .env(
            "BOT_TOKEN",
            "123456789:AAWrongTokenForTestsOnly_abcdefghijkl",
        )
        .arg("check-config");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("Telegram rejected BOT_TOKEN (401 Unauthorized)"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("AAWrongToken"), "token leaked");

    let output = randchat(&fake.url(), dir.path(), &["check-config", "--offline"]).await;
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("not contacted (--offline)"));
}

#[tokio::test]
async fn stats_reads_a_stopped_bots_data_dir_and_asks_a_running_one() {
    if support::app::skip_on_redis(
        "reads the redb file of a stopped bot; Redis stats: tests/redis_store.rs",
    ) {
        return;
    }
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(8001, "Ann", None), fake.user(8002, "Ben", None));
    let mut to_b = Inbox::new(&fake, 8002);
    a.send_command("/chat");
    b.send_command("/chat");
    to_b.expect_text(Text::PartnerFound).await;

    let live = randchat(&fake.url(), app.dir.path(), &["stats"]).await;
    assert_exit(&live, 0);
    assert!(
        stdout(&live).contains("active pairs    1"),
        "{}",
        stdout(&live)
    );
    let pid = app.pid().unwrap();
    assert!(
        stdout(&live).contains(&format!("the running bot (pid {pid}")),
        "{}",
        stdout(&live)
    );

    assert!(app.terminate().await.success());
    let stopped = randchat(&fake.url(), app.dir.path(), &["stats"]).await;
    assert_exit(&stopped, 0);
    let out = stdout(&stopped);
    assert!(out.contains("users           2"), "{out}");
    assert!(out.contains("active pairs    1"), "{out}");
    assert!(out.contains("waiting         0"), "{out}");
    assert!(out.contains("(no bot running)"), "{out}");

    // No token needed for commands that never talk to Telegram.
    let mut command = bot_command(&fake.url(), app.dir.path());
    command.env_remove("BOT_TOKEN").arg("stats");
    let tokenless = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_exit(&tokenless, 0);
    assert!(stdout(&tokenless).contains("active pairs    1"));
    let mut command = bot_command(&fake.url(), app.dir.path());
    command.env_remove("BOT_TOKEN").arg("check-config");
    assert_exit(&command.output().unwrap(), 2);

    let json = randchat(&fake.url(), app.dir.path(), &["stats", "--json"]).await;
    assert_exit(&json, 0);
    let stats: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(stats["pairs"], 1);
    assert_eq!(stats["users"], 2);

    let empty = tempfile::tempdir().unwrap();
    let none = randchat(&fake.url(), empty.path(), &["stats"]).await;
    assert_exit(&none, 1);
    assert!(
        stderr(&none).contains("no database at"),
        "{}",
        stderr(&none)
    );
    assert!(!empty.path().join("data/randchat.redb").exists(), "created");
}

#[tokio::test]
async fn a_backup_taken_while_running_restores_into_a_bot_that_still_relays() {
    if support::app::skip_on_redis(
        "backups are embedded-only; their refusal on Redis: tests/redis_store.rs",
    ) {
        return;
    }
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(8101, "Ann", None), fake.user(8102, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(&fake, 8101), Inbox::new(&fake, 8102));
    a.send_command("/chat");
    b.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let before = a.send_text("before the backup");
    to_b.expect_copy(8101, before).await;

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("snap.redb");
    let file_arg = file.to_str().unwrap();
    let output = randchat(&fake.url(), app.dir.path(), &["backup", file_arg]).await;
    assert_exit(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("from the running bot"), "{out}");
    assert!(out.contains("active pairs 1"), "{out}");
    assert!(file.is_file());

    // The bot kept running through the backup.
    let during = a.send_text("after the backup");
    to_b.expect_copy(8101, during).await;
    let again = randchat(&fake.url(), app.dir.path(), &["backup", file_arg]).await;
    assert_exit(&again, 1);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    // Move to a new data directory from the backup alone.
    assert!(app.terminate().await.success());
    let mut moved = app_on(&fake);
    let output = randchat(&fake.url(), moved.dir.path(), &["restore", file_arg]).await;
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("active pairs 1"),
        "{}",
        stdout(&output)
    );
    moved.start().await;
    let relayed = a.send_text("from the restored bot");
    to_b.expect_copy(8101, relayed).await;
    let reply = b.send_text("and back");
    to_a.expect_copy(8102, reply).await;
}

#[tokio::test]
async fn restore_is_refused_while_the_bot_runs_and_checks_the_file() {
    if support::app::skip_on_redis(
        "restore is embedded-only; its refusal on Redis: tests/redis_store.rs",
    ) {
        return;
    }
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("snap.redb");
    let file_arg = file.to_str().unwrap();
    let output = randchat(&fake.url(), app.dir.path(), &["backup", file_arg]).await;
    assert_exit(&output, 0);

    let refused = randchat(&fake.url(), app.dir.path(), &["restore", file_arg]).await;
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(
        err.contains("refusing to restore while the bot is running"),
        "{err}"
    );
    assert!(
        err.contains(&format!("pid {}", app.pid().unwrap())),
        "{err}"
    );

    let junk = backups.path().join("junk.redb");
    std::fs::write(&junk, b"definitely not a database").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let output = randchat(
        &fake.url(),
        elsewhere.path(),
        &["restore", junk.to_str().unwrap()],
    )
    .await;
    assert_exit(&output, 1);
    assert_eq!(
        stderr(&output).trim(),
        format!(
            "randchat: {} is not a usable randchat backup: Not a redb database: magic number mismatch",
            junk.display()
        )
    );
    assert!(!elsewhere.path().join("data/randchat.redb").exists());
}

#[tokio::test]
async fn restore_over_a_stopped_bot_keeps_the_old_database() {
    if support::app::skip_on_redis(
        "restore is embedded-only; its refusal on Redis: tests/redis_store.rs",
    ) {
        return;
    }
    let mut app = spawn_app().await;
    let fake = app.fake.clone();
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("snap.redb");
    let file_arg = file.to_str().unwrap();
    assert!(app.terminate().await.success());
    // A backup of a stopped bot opens the database directly.
    let output = randchat(&fake.url(), app.dir.path(), &["backup", file_arg]).await;
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("(no bot running)"));

    let output = randchat(&fake.url(), app.dir.path(), &["restore", file_arg]).await;
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("the previous database was kept as"),
        "{}",
        stdout(&output)
    );
    let kept = std::fs::read_dir(app.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .count();
    // The database and every inbox file the bot had made.
    assert_eq!(kept, 1 + randchat::telegram::inbox::SLOTS);
    for slot in 0..randchat::telegram::inbox::SLOTS {
        let live = randchat::telegram::inbox::slot_path(&app.data_dir(), slot);
        assert!(
            !live.exists(),
            "{} belongs to the old database",
            live.display()
        );
    }
    app.start().await;
}

#[test]
fn help_shows_examples_and_version_the_package() {
    let output = Command::new(support::app::BOT)
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&output);
    for word in [
        "check-config",
        "stats",
        "backup",
        "restore",
        "healthcheck",
        "Exit codes",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let output = Command::new(support::app::BOT)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&output).trim(),
        format!("randchat {}", env!("CARGO_PKG_VERSION"))
    );
}
