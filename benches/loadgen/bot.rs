//! The real bot binary as a child process, and what /proc says about it.

use randchat::testing::FakeBotApi;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The release build of the bot (cargo bench builds in release).
pub const BOT: &str = env!("CARGO_BIN_EXE_randchat");

pub struct Bot {
    child: Option<Child>,
    pub started: Instant,
}

impl Bot {
    /// Starts the bot on `data_dir` against the fake, with Telegram's rate
    /// limits off (THROTTLE=off) and the flood limits and timeouts far
    /// beyond the run, so the load generator's model of the matching holds.
    /// With `redis_url` the bot keeps its state there instead of in
    /// `data_dir`.
    pub fn start(fake: &FakeBotApi, data_dir: &Path, log: &Path, redis_url: Option<String>) -> Bot {
        let log = std::fs::File::create(log).expect("bot log file");
        // LOADGEN_WRAP="valgrind --tool=callgrind" runs the bot under a
        // profiler; LOADGEN_BOT=path runs another build (A/B comparisons).
        let wrap = std::env::var("LOADGEN_WRAP").unwrap_or_default();
        let bot = std::env::var("LOADGEN_BOT").unwrap_or_else(|_| BOT.to_owned());
        let mut words = wrap.split_whitespace().chain([bot.as_str()]);
        let mut command = Command::new(words.next().expect("a program"));
        command.args(words);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BOT_TOKEN", FakeBotApi::TOKEN)
            .env("TELEGRAM_API_URL", fake.url())
            .env("DATA_DIR", data_dir)
            .env("POLL_TIMEOUT", "10")
            .env("LOG_LEVEL", "info")
            .env("LOG_FORMAT", "json")
            .env("THROTTLE", "off")
            .env("MESSAGE_RATE_LIMIT", "10000")
            .env("NEXT_RATE_LIMIT", "10000")
            .env("CHAT_IDLE_TIMEOUT", "86400")
            .env("SEARCH_TIMEOUT", "86400")
            .envs(redis_url.map(|url| ("REDIS_URL", url)))
            .current_dir(data_dir.parent().unwrap_or(data_dir))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        let started = Instant::now();
        let child = command.spawn().expect("start the randchat binary");
        Bot {
            child: Some(child),
            started,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Fails if the bot has exited.
    pub fn check_alive(&mut self) -> Result<(), String> {
        let child = self.child.as_mut().expect("running");
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("the bot exited early with {status}")),
            Err(e) => Err(format!("cannot wait for the bot: {e}")),
        }
    }

    /// CPU time (user, system) the bot has used so far.
    pub fn cpu(&self) -> (Duration, Duration) {
        cpu_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Context switches of all the bot's threads so far.
    pub fn context_switches(&self) -> u64 {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid()));
        let tasks = tasks.into_iter().flatten().flatten();
        tasks
            .map(|task| {
                let status = std::fs::read_to_string(task.path().join("status"));
                let status = status.unwrap_or_default();
                let count = |key: &str| {
                    let line = status.lines().find_map(|l| l.strip_prefix(key));
                    line.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0)
                };
                count("voluntary_ctxt_switches:") + count("nonvoluntary_ctxt_switches:")
            })
            .sum()
    }

    /// (VmRSS, VmHWM) in bytes.
    pub fn memory(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        (kib(&status, "VmRSS:"), kib(&status, "VmHWM:"))
    }

    /// SIGTERM and wait; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// This process's CPU time so far (the fake and the load generator).
pub fn own_cpu() -> Duration {
    let (user, system) = cpu_of("/proc/self/stat");
    user + system
}

/// utime and stime of a process.
fn cpu_of(stat_path: &str) -> (Duration, Duration) {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let secs = |t: u64| Duration::from_secs_f64(t as f64 / clock_ticks() as f64);
    (secs(ticks(11)), secs(ticks(12)))
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

fn kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(0, |k| k * 1024)
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
