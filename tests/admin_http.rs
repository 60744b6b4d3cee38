//! The admin HTTP server of the real binary: liveness, readiness, `off`,
//! and the `healthcheck` subcommand that container health checks run.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::app::{admin_addr_in, bot_command};
use support::{spawn_app, FakeBotApi, Fault};

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Starts the binary with its logs in `dir/bot.log`, without waiting.
fn start(command: &mut Command, dir: &Path) -> Child {
    let log = std::fs::File::create(dir.join("bot.log")).unwrap();
    command
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start randchat")
}

async fn wait_for_log(dir: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let logs = std::fs::read_to_string(dir.join("bot.log")).unwrap_or_default();
        if logs.contains(what) {
            return logs;
        }
        assert!(Instant::now() < deadline, "never logged {what:?}:\n{logs}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_polling_bot_is_live_and_ready() {
    let app = spawn_app().await;
    let url = app.admin_url();
    assert_eq!(get(&format!("{url}/healthz")).await, (200, "ok".into()));
    assert_eq!(get(&format!("{url}/readyz")).await, (200, "ready".into()));

    let addr = url.trim_start_matches("http://");
    let mut command = bot_command(&app.fake.url(), app.dir.path());
    command.args(["healthcheck", "--ready", "--addr", addr]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ready");
}

#[tokio::test]
async fn the_bot_is_live_but_not_ready_until_telegram_answers() {
    let fake = FakeBotApi::start().await;
    fake.fail_next("getMe", Fault::Hang(Duration::from_secs(4)));
    let dir = tempfile::tempdir().unwrap();
    let mut child = start(&mut bot_command(&fake.url(), dir.path()), dir.path());
    let logs = wait_for_log(dir.path(), "admin server listening").await;
    let url = format!("http://{}", admin_addr_in(&logs).unwrap());

    assert_eq!(get(&format!("{url}/healthz")).await, (200, "ok".into()));
    assert_eq!(
        get(&format!("{url}/readyz")).await,
        (503, "starting".into())
    );
    fake.wait_for("polling", Duration::from_secs(20), |requests| {
        requests.iter().any(|r| r.method_lc == "getupdates")
    })
    .await;
    assert_eq!(get(&format!("{url}/readyz")).await, (200, "ready".into()));
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn admin_listen_off_serves_nothing_and_a_taken_port_stops_start_up() {
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = bot_command(&fake.url(), dir.path());
    command.env("ADMIN_LISTEN", "off");
    let mut child = start(&mut command, dir.path());
    let logs = wait_for_log(dir.path(), "polling for updates").await;
    assert!(logs.contains("admin server disabled"), "{logs}");
    assert!(admin_addr_in(&logs).is_none());
    let _ = child.kill();
    let _ = child.wait();

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let other = tempfile::tempdir().unwrap();
    let mut command = bot_command(&fake.url(), other.path());
    command.env("ADMIN_LISTEN", &addr);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "randchat: cannot listen on ADMIN_LISTEN={addr}: Address already in use (os error 98); \
             pick another address or set ADMIN_LISTEN=off"
        )
    );
}

#[test]
fn healthcheck_fails_with_1_when_nothing_listens_or_the_config_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let mut command = bot_command("http://127.0.0.1:9", dir.path());
    command.env("ADMIN_LISTEN", &addr).arg("healthcheck");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/healthz is unreachable"), "{stderr}");

    let mut command = bot_command("http://127.0.0.1:9", dir.path());
    command.env("ADMIN_LISTEN", "nonsense").arg("healthcheck");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "Docker reserves 2");
}

#[tokio::test]
async fn metrics_count_what_users_did() {
    let app = spawn_app().await;
    let fake = app.fake.clone();
    let (a, _b, _to_a, mut to_b) = support::chatting(&fake, 13_001, 13_002).await;
    let message = a.send_text("counted, never shown");
    to_b.expect_copy(13_001, message).await;
    let url = format!("{}/metrics", app.admin_url());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, text) = get(&url).await;
        assert_eq!(status, 200);
        let done = [
            "randchat_matches_total 1",
            "randchat_active_chats 1",
            "randchat_relayed_total{kind=\"message\"} 1",
        ]
        .iter()
        .all(|line| text.contains(line));
        if done {
            assert!(text.contains("randchat_commit_seconds_count"), "{text}");
            assert!(
                !text.contains("13001") && !text.contains("counted, never shown"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never caught up:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
