//! Bad configuration and unusable databases: one clear line, exit code 2.

mod support;

use std::process::Output;
use support::app::bot_command;
use support::FakeBotApi;

/// Runs the binary to completion with the test environment plus `env`.
fn run_bot(work_dir: &std::path::Path, env: &[(&str, Option<&str>)]) -> Output {
    let mut command = bot_command("http://127.0.0.1:9", work_dir);
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.output().expect("run the randchat binary")
}

fn assert_one_line_exit_2(output: &Output, must_mention: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    for word in must_mention {
        assert!(
            lines[0].contains(word),
            "{:?} should mention {word}",
            lines[0]
        );
    }
    assert!(
        !stderr.contains("AAFakeToken"),
        "the token leaked: {stderr}"
    );
}

#[test]
fn a_missing_token_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_bot(dir.path(), &[("BOT_TOKEN", None)]);
    assert_one_line_exit_2(&output, &["BOT_TOKEN"]);
}

#[test]
fn a_malformed_token_names_the_key_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_bot(dir.path(), &[("BOT_TOKEN", Some("bot123:AAFakeTokenFor"))]);
    assert_one_line_exit_2(&output, &["BOT_TOKEN"]);
}

#[test]
fn a_bad_value_and_an_unknown_key_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_bot(dir.path(), &[("LOG_FORMAT", Some("xml"))]);
    assert_one_line_exit_2(&output, &["LOG_FORMAT"]);
    let output = run_bot(dir.path(), &[("RANDCHAT_DATADIR", Some("/tmp"))]);
    assert_one_line_exit_2(&output, &["RANDCHAT_DATADIR"]);
    std::fs::write(dir.path().join("randchat.toml"), "dat_dir = \"x\"\n").unwrap();
    let output = run_bot(dir.path(), &[]);
    assert_one_line_exit_2(&output, &["dat_dir"]);
}

#[test]
fn a_corrupt_database_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/randchat.redb"),
        b"this is not a database at all",
    )
    .unwrap();
    let output = run_bot(dir.path(), &[]);
    assert_one_line_exit_2(&output, &["randchat.redb", "corrupt"]);
}

#[tokio::test]
async fn a_second_instance_on_the_same_data_dir_is_refused() {
    if support::app::skip_on_redis("the redb file lock; instances sharing Redis: docs/scaling.md") {
        return;
    }
    let app = support::spawn_app().await;
    let output = bot_command(&app.fake.url(), app.dir.path())
        .output()
        .expect("run a second randchat");
    assert_one_line_exit_2(&output, &["randchat.redb", "locked"]);
    assert_eq!(FakeBotApi::TOKEN.len(), 46);
}
