//! `pm2.config.js` really runs the bot: PM2 starts the binary against the
//! fake Bot API with its configuration from a `.env` file, /healthz answers,
//! and `pm2 stop` ends it gracefully.
//!
//! Needs Node.js and npm (Debian: `apt-get install -y nodejs npm`). PM2
//! itself is installed on first use with `npm install pm2` into
//! `target/tmp/pm2`, unless `pm2` is already on PATH. PM2 runs with a
//! private PM2_HOME, so it never touches a developer's own PM2 daemon.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::app::admin_addr_in;
use support::FakeBotApi;

/// The PM2 major version the config is written for.
const PM2_PACKAGE: &str = "pm2@7";

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const INSTALL_HINT: &str = "install Node.js and npm: apt-get install -y nodejs npm";

fn works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `pm2` from PATH, or from a local install made on first use.
fn pm2_binary() -> PathBuf {
    assert!(
        works("node"),
        "tests/pm2.rs runs PM2, which needs Node.js, but `node` is not on PATH; {INSTALL_HINT}"
    );
    if works("pm2") {
        return PathBuf::from("pm2");
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pm2");
    let bin = dir.join("node_modules/.bin/pm2");
    if bin.exists() {
        return bin;
    }
    assert!(
        works("npm"),
        "tests/pm2.rs installs PM2 with npm, but neither `pm2` nor `npm` is on PATH; {INSTALL_HINT}"
    );
    // Install beside the final place, then rename: parallel runs (other
    // checkouts sharing the target directory) never see half an install.
    let staging = dir.with_file_name(format!("pm2-staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    ok(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&staging)
        .arg(PM2_PACKAGE));
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging); // someone else won
    }
    assert!(bin.exists(), "npm installed PM2 but {bin:?} is missing");
    bin
}

/// Runs PM2 commands with a private home; kills that PM2 daemon on drop.
struct Pm2 {
    bin: PathBuf,
    home: PathBuf,
    env: Vec<(String, String)>,
}

impl Pm2 {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("PM2_HOME", &self.home)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args);
        command
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        let _ = self.command(&["kill"]).output();
    }
}

async fn wait_for_log(log: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "PM2's log never showed {what:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pm2_runs_the_bot_from_the_config_file() {
    let bin = tokio::task::spawn_blocking(pm2_binary).await.unwrap();
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("app");
    std::fs::create_dir_all(&work).unwrap();
    // The secrets come from .env in the working directory, as documented.
    std::fs::write(
        work.join(".env"),
        format!(
            "BOT_TOKEN={}\nTELEGRAM_API_URL={}\n",
            FakeBotApi::TOKEN,
            fake.url()
        ),
    )
    .unwrap();
    let logs = dir.path().join("logs");
    let env = [
        (
            "PM2_RANDCHAT_BIN",
            env!("CARGO_BIN_EXE_randchat").to_owned(),
        ),
        ("PM2_RANDCHAT_CWD", work.display().to_string()),
        ("PM2_RANDCHAT_LOG_DIR", logs.display().to_string()),
        ("DATA_DIR", work.join("data").display().to_string()),
        ("ADMIN_LISTEN", "127.0.0.1:0".into()),
        ("LOG_FORMAT", "json".into()),
        ("LOG_LEVEL", "info".into()),
        ("POLL_TIMEOUT", "1".into()),
        ("THROTTLE", "off".into()),
    ];
    let pm2 = Pm2 {
        bin,
        home: dir.path().join("pm2-home"),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("pm2.config.js");

    let started = {
        let mut command = pm2.command(&["start", config.to_str().unwrap()]);
        tokio::task::spawn_blocking(move || ok(&mut command))
    };
    started.await.unwrap();
    let log = logs.join("randchat.log");
    let text = wait_for_log(&log, "polling for updates").await;
    let addr = admin_addr_in(&text).expect("the admin address in PM2's log");
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let list = ok(&mut pm2.command(&["jlist"]));
    let apps: serde_json::Value = serde_json::from_str(list.trim()).expect("pm2 jlist JSON");
    let app = &apps[0];
    assert_eq!(app["name"], "randchat");
    assert_eq!(app["pm2_env"]["status"], "online", "{app:#}");
    assert_eq!(app["pm2_env"]["kill_timeout"], 15000);
    // PM2 stores a one-element list as the bare number.
    let codes = &app["pm2_env"]["stop_exit_codes"];
    assert!(*codes == 2 || *codes == serde_json::json!([2]), "{codes}");

    // `pm2 stop` sends SIGINT: a graceful stop, well inside kill_timeout.
    let stopped = Instant::now();
    let mut stop = pm2.command(&["stop", "randchat"]);
    tokio::task::spawn_blocking(move || ok(&mut stop))
        .await
        .unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(12));
    let text = wait_for_log(&log, "shutdown signal received").await;
    assert!(!text.contains("AAFakeToken"), "the token leaked into logs");
    ok(&mut pm2.command(&["delete", "randchat"]));
    ok(&mut pm2.command(&["kill"]));
}
