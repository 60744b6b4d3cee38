//! `spawn_app()`: the real `randchat` binary against the fake Bot API.
//!
//! Every end-to-end test starts here, as in zero-to-production: a fresh
//! fake Telegram on 127.0.0.1:0, a fresh data directory, and the compiled
//! binary talking real HTTP to the fake. The process can be killed with
//! SIGKILL and started again on the same data directory, which is how the
//! restart and crash tests work.
//!
//! **Backends.** `TEST_STORE=redis` runs every app on the Redis
//! store instead of the embedded one: each app gets a private redis-server
//! on a Unix socket in its own temporary directory (`randchat::testing::
//! RedisServer`), and the bot gets its `REDIS_URL`. The server outlives the
//! bot's restarts and crashes, as a real one would. Tests of what only the
//! embedded store has (its file, backups, a full disk) call
//! [`skip_on_redis`] and return early with the reason printed.

use super::FakeBotApi;
use randchat::store::{Backend, EmbeddedStore, RedisStore};
use randchat::testing::RedisServer;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const BOT: &str = env!("CARGO_BIN_EXE_randchat");

pub struct TestApp {
    pub fake: FakeBotApi,
    pub dir: TempDir,
    child: Option<Child>,
    starts: usize,
    /// Extra environment for every start of the bot.
    env: Vec<(String, String)>,
    /// The app's private Redis server, when the suite runs on Redis.
    pub redis: Option<RedisServer>,
}

/// The variable that selects the backend for the end-to-end tests. Not
/// `RANDCHAT_*`: the configuration refuses unknown `RANDCHAT_` variables,
/// and the unit tests of the configuration read the real environment.
pub const TEST_STORE_VAR: &str = "TEST_STORE";

/// Whether this run of the suite uses the Redis store.
pub fn on_redis() -> bool {
    match std::env::var(TEST_STORE_VAR).as_deref() {
        Ok("redis") => true,
        Ok("embedded") | Ok("") | Err(_) => false,
        Ok(other) => panic!("{TEST_STORE_VAR} must be embedded or redis, not {other:?}"),
    }
}

/// For tests of what only the embedded store has: on Redis, prints why the
/// test is skipped and returns true (the test then returns).
pub fn skip_on_redis(reason: &str) -> bool {
    let skip = on_redis();
    if skip {
        println!("skipped with {TEST_STORE_VAR}=redis: {reason}");
    }
    skip
}

/// A private Redis server when the suite runs on Redis.
fn redis_for_test() -> Option<RedisServer> {
    on_redis().then(RedisServer::start)
}

/// Starts the fake and the bot, and waits until the bot is polling.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra environment variables for the bot.
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let mut app = unstarted_app(env).await;
    app.start().await;
    app
}

/// The fake and a data directory, with the bot not yet started: for tests
/// that prepare the directory first.
pub async fn unstarted_app(env: &[(&str, &str)]) -> TestApp {
    let fake = FakeBotApi::start().await;
    new_app(&fake, env, redis_for_test())
}

/// A bot on `fake` with a fresh data directory, not started yet: set up its
/// data directory (e.g. restore a backup into it), then call `start`.
pub fn app_on(fake: &FakeBotApi) -> TestApp {
    new_app(fake, &[], redis_for_test())
}

/// A bot on `fake` with a fresh data directory and `env`, not started
/// yet, and no Redis server of its own whatever `TEST_STORE` says (for
/// tests that point several bots at one server through `env`).
pub fn app_on_with(fake: &FakeBotApi, env: &[(&str, &str)]) -> TestApp {
    new_app(fake, env, None)
}

/// A bot on `fake` in a fresh data directory, with `env` and `redis` (its
/// own Redis server, if the test runs on Redis), not started yet.
fn new_app(fake: &FakeBotApi, env: &[(&str, &str)], redis: Option<RedisServer>) -> TestApp {
    TestApp {
        fake: fake.clone(),
        dir: tempfile::tempdir().expect("temp dir"),
        child: None,
        starts: 0,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        redis,
    }
}

/// The environment every test run of the binary gets, and nothing else
/// (so a developer's own .env or RANDCHAT_* variables can't interfere).
/// Telegram's rate limits and the per-user flood limits are off, so tests
/// run at the speed of the machine; the tests of those limits turn them on.
pub fn bot_command(fake_url: &str, work_dir: &Path) -> Command {
    let mut command = Command::new(BOT);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BOT_TOKEN", FakeBotApi::TOKEN)
        .env("TELEGRAM_API_URL", fake_url)
        .env("DATA_DIR", work_dir.join("data"))
        .env("POLL_TIMEOUT", "1")
        .env("LOG_LEVEL", "debug")
        .env("LOG_FORMAT", "json")
        .env("THROTTLE", "off")
        .env("MESSAGE_RATE_LIMIT", "10000")
        .env("NEXT_RATE_LIMIT", "10000")
        // Port 0: every instance gets its own free port from the kernel, so
        // parallel tests never clash; `TestApp::admin_url` reads it back.
        .env("ADMIN_LISTEN", "127.0.0.1:0")
        .current_dir(work_dir)
        .stdin(Stdio::null());
    command
}

impl TestApp {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("bot.log")
    }

    /// Everything the bot has logged across all its runs.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The admin HTTP server of the current run, e.g. `http://127.0.0.1:40123`.
    pub fn admin_url(&self) -> String {
        let addr = admin_addr_in(&self.logs())
            .unwrap_or_else(|| panic!("the bot never logged its admin address:\n{}", self.logs()));
        format!("http://{addr}")
    }

    /// Where the current run's webhook server listens, e.g.
    /// `http://127.0.0.1:40124/telegram` (with `WEBHOOK_LISTEN` on port 0,
    /// the bot picks a free port and logs it: no other process can take
    /// the port between the test choosing it and the bot binding it).
    pub fn webhook_url(&self) -> String {
        let addr =
            listening_addr_in(&self.logs(), "webhook server listening").unwrap_or_else(|| {
                panic!("the bot never logged its webhook address:\n{}", self.logs())
            });
        format!("http://{addr}/telegram")
    }

    /// The environment that points the bot at this app's store.
    pub fn store_env(&self) -> Vec<(String, String)> {
        match &self.redis {
            Some(server) => vec![("REDIS_URL".into(), server.url())],
            None => Vec::new(),
        }
    }

    /// Opens the app's store from the test, as the bot would (stop the bot
    /// first when it is the embedded store, which the bot holds locked).
    pub async fn open_store(&self) -> Arc<dyn Backend> {
        match &self.redis {
            Some(server) => RedisStore::open(&server.url(), randchat::config::DEFAULT_REDIS_PREFIX)
                .await
                .expect("open the bot's Redis store"),
            None => EmbeddedStore::open(&self.data_dir()).expect("open the bot's database"),
        }
    }

    /// The bot's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the bot and waits until it polls for updates (or, in webhook
    /// mode, has set its webhook).
    pub async fn start(&mut self) {
        if let Err(failure) = self.try_start().await {
            panic!("{failure}");
        }
    }

    /// [`TestApp::start`], with the bot exiting during start-up an error
    /// that holds its logs.
    pub async fn try_start(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "the bot is already running");
        // Long polling asks getUpdates; webhook mode sets its webhook.
        let listening = |fake: &FakeBotApi| {
            fake.requests_for("getUpdates").len() + fake.requests_for("setWebhook").len()
        };
        let polls_before = listening(&self.fake);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = bot_command(&self.fake.url(), self.dir.path())
            .envs(self.store_env())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start the randchat binary");
        self.child = Some(child);
        self.starts += 1;
        let deadline = Instant::now() + Duration::from_secs(20);
        while listening(&self.fake) <= polls_before {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!(
                    "the bot exited with {status} during start-up:\n{}",
                    self.logs()
                ));
            }
            assert!(
                Instant::now() < deadline,
                "the bot never polled:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// SIGKILL: no chance to clean up, like a crash or power loss.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn restart(&mut self) {
        self.kill();
        self.start().await;
    }

    /// SIGTERM, then waits for the exit status.
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the bot is not running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait for the bot") {
                return status;
            }
            assert!(Instant::now() < deadline, "the bot ignored SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address in the last "admin server listening" line of JSON logs.
pub fn admin_addr_in(logs: &str) -> Option<String> {
    listening_addr_in(logs, "admin server listening")
}

/// The address in the last line of JSON logs whose message is `message`
/// (a server bound to port 0 logs where it landed).
fn listening_addr_in(logs: &str, message: &str) -> Option<String> {
    logs.lines()
        .rev()
        .filter(|line| line.contains(message))
        .find_map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).ok()?;
            record["fields"]["addr"].as_str().map(str::to_owned)
        })
}
