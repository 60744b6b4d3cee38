//! Runtime configuration: one [`Config`] value, built once at start-up by [`load`].
//!
//! # Layering, lowest to highest priority
//!
//! 1. **Built-in defaults.** Only `BOT_TOKEN` has none, so a first run needs
//!    exactly one setting.
//! 2. **A TOML file**: `--config <path>`, else `randchat.toml` in the working
//!    directory if it exists. It holds what is stable for a deployment and can
//!    be reviewed and versioned. An explicitly named file that is missing is an
//!    error; the default file is optional.
//! 3. **Environment variables** (and `.env`, which the caller has already
//!    loaded with dotenvy). This is how containers, systemd and CI inject
//!    per-host values and secrets, so it beats the shared file.
//! 4. **Command-line overrides**, typed by a person for this one run, so they
//!    beat everything.
//!
//! Each layer is more specific to *this* process than the one below it, and
//! that is the order in which it wins.
//!
//! # Strictness
//!
//! A typo should fail at start-up, not run silently with a default. An unknown
//! key in the TOML file is an error, and so is an unknown `RANDCHAT_*`
//! variable. Plain variables (`DATA_DIR`, …) can't be policed, since the
//! environment is shared with every other program, so only the known names are
//! read. `RANDCHAT_X` is an alias of `X` and wins if both are set. An empty
//! value (`DATA_DIR=`) counts as unset, so a blank line in `.env` falls back.
//!
//! Every error is one line, names the key as it is spelled in the environment
//! (with the file or flag it came from, if any), and never contains the bot
//! token, even a malformed one.
//!
//! figment parses the TOML file. The layers are merged here rather than with
//! `Figment::merge`, so every value remembers where it came from for error
//! messages, and environment values stay exactly as written (figment's `Env`
//! provider would turn `"007"` into a number).

mod antispam;
mod build;
mod matching;
#[cfg(test)]
mod tests;
mod token;

// deploy: operator-facing keys (admin HTTP server).
mod deploy;
pub use deploy::{AdminToken, DEFAULT_ADMIN_LISTEN, MIN_ADMIN_TOKEN_CHARS};

// store: where state lives (STORE, REDIS_URL, REDIS_PREFIX).
mod store;
pub use store::{StoreChoice, DEFAULT_REDIS_PREFIX};
// webhook: webhook mode (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN).
mod webhook;
pub use webhook::{WebhookConfig, WebhookSecret, DEFAULT_WEBHOOK_LISTEN};

pub use token::{BotToken, TokenProblem, MASK};

use crate::domain::UserId;
use crate::engine::{EngineConfig, ModerationConfig};
use crate::telegram::throttle::ThrottleConfig;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The file read from the working directory when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "randchat.toml";
/// Prefix of the namespaced environment aliases (`RANDCHAT_DATA_DIR`, …).
pub const ENV_PREFIX: &str = "RANDCHAT_";
/// Default of `DATA_DIR`.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Default of `TELEGRAM_API_URL`.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Default of `LOG_LEVEL`.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// Default of `POLL_TIMEOUT`, in seconds.
pub const DEFAULT_POLL_TIMEOUT_SECS: u64 = 10;
/// The longest allowed long-poll timeout. teloxide's HTTP client gives up
/// after 17 s, so the server must answer before that.
pub const MAX_POLL_TIMEOUT_SECS: u64 = 15;

/// Every key, in its environment spelling; the TOML spelling is lower case.
const KEYS: [&str; 42] = [
    "BOT_TOKEN",
    "DATA_DIR",
    "TELEGRAM_API_URL",
    "REDIS_URL",
    "ADMIN_IDS",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "POLL_TIMEOUT",
    "CHAT_IDLE_TIMEOUT",
    "SEARCH_TIMEOUT",
    "MESSAGE_RATE_LIMIT",
    "NEXT_RATE_LIMIT",
    "THROTTLE",
    "THROTTLE_GLOBAL_RATE",
    "THROTTLE_CHAT_RATE",
    "THROTTLE_CHAT_BURST",
    "PROTECT_CONTENT",
    "ALBUM_WAIT",
    "LINK_TIMEOUT",
    // deploy: operator-facing keys.
    "ADMIN_LISTEN",
    "REPORT_BAN_THRESHOLD",
    "REPORT_WINDOW",
    "BAN_DURATION",
    // antispam: anti-spam rules, AI moderation, /broadcast.
    "ANTISPAM_LINK_DELAY",
    "ANTISPAM_BLOCK_LINKS",
    "CAPTCHA",
    "BADWORDS_FILE",
    "MODERATION_URL",
    "MODERATION_KEY",
    "MODERATION_MODEL",
    "MODERATION_TIMEOUT",
    "BROADCAST_RATE",
    // store: where state lives.
    "STORE",
    "REDIS_PREFIX",
    "INSTANCE_ID",
    // webhook: webhook mode.
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "ADMIN_TOKEN",
    "MATCH_RELAX_AFTER",
    "NO_REPEAT_PARTNERS",
    "NO_REPEAT_WINDOW",
];

/// The effective configuration.
#[derive(Clone)]
pub struct Config {
    pub bot_token: BotToken,
    pub data_dir: PathBuf,
    pub telegram_api_url: Url,
    /// The Redis server, if one is configured (see `store`).
    pub redis_url: Option<String>,
    pub admin_ids: Vec<UserId>,
    /// A `tracing_subscriber::EnvFilter` directive such as `info,randchat=debug`.
    pub log_level: String,
    pub log_format: LogFormat,
    /// How long one `getUpdates` long poll may wait.
    pub poll_timeout: Duration,
    /// The engine's timeouts and rate limits (`CHAT_IDLE_TIMEOUT`,
    /// `SEARCH_TIMEOUT`, `MESSAGE_RATE_LIMIT`, `NEXT_RATE_LIMIT`); see
    /// [`EngineConfig`] for the defaults and why.
    pub engine: EngineConfig,
    /// Outbound rate limits (`THROTTLE`, `THROTTLE_GLOBAL_RATE`,
    /// `THROTTLE_CHAT_RATE`, `THROTTLE_CHAT_BURST`); see [`ThrottleConfig`].
    pub throttle: ThrottleConfig,
    /// Relayed copies can't be forwarded or saved by the partner
    /// (`PROTECT_CONTENT`, default off).
    pub protect_content: bool,

    // deploy: operator-facing keys.
    /// Where the admin HTTP server (/healthz, /readyz) listens; `None` when
    /// `ADMIN_LISTEN=off`.
    pub admin_listen: Option<std::net::SocketAddr>,
    /// Automatic bans (`REPORT_BAN_THRESHOLD`, `REPORT_WINDOW`,
    /// `BAN_DURATION`); see [`ModerationConfig`]. Its `admins` stay empty
    /// here: they are `admin_ids`, which `main` copies in.
    pub moderation: ModerationConfig,
    /// Matching (`MATCH_RELAX_AFTER`, `NO_REPEAT_PARTNERS`,
    /// `NO_REPEAT_WINDOW`); see [`crate::engine::MatchConfig`].
    pub matching: crate::engine::MatchConfig,

    // antispam: anti-spam rules, AI moderation, /broadcast.
    /// `ANTISPAM_LINK_DELAY`, `ANTISPAM_BLOCK_LINKS`, `CAPTCHA` and the
    /// word list read from `BADWORDS_FILE`.
    pub antispam: crate::engine::AntispamConfig,
    /// Where the word list came from, if it was set.
    pub badwords_file: Option<PathBuf>,
    /// `MODERATION_URL` and friends; `None` when the URL is unset.
    pub moderator: Option<crate::moderation_ai::ModeratorSettings>,
    /// `BROADCAST_RATE`: broadcast copies per second.
    pub broadcast_rate: u32,
    // store: where state lives.
    /// The backend (`STORE`, `REDIS_URL`, `REDIS_PREFIX`).
    pub store: StoreChoice,
    /// This process's name among the instances sharing a Redis prefix
    /// (`INSTANCE_ID`; by default the host name and the webhook port).
    pub instance_id: String,
    /// Webhook mode; `None` (no `WEBHOOK_URL`) means long polling.
    pub webhook: Option<WebhookConfig>,
    /// Opens the admin dashboard (`ADMIN_TOKEN`); `None` turns it off.
    pub admin_token: Option<AdminToken>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Pretty => "pretty",
            LogFormat::Json => "json",
        })
    }
}

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Default, Clone, Debug)]
pub struct CliOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub telegram_api_url: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The TOML file at this path, as it was named.
    File(PathBuf),
    /// This environment variable (`POLL_TIMEOUT` or `RANDCHAT_POLL_TIMEOUT`).
    Env(String),
    /// A command-line override.
    Cli,
}

/// Why the configuration could not be loaded. `Display` is one line, starting
/// with `config error: `, and never contains the bot token.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config error: {key} is missing — {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error(
        "config error: {} is malformed: expected <digits>:<at least 30 letters, digits, _ or -> ({problem})",
        describe("BOT_TOKEN", origin)
    )]
    MalformedToken {
        origin: Origin,
        problem: TokenProblem,
    },
    #[error("config error: {}: {reason}", describe(key, origin))]
    Invalid {
        key: &'static str,
        origin: Origin,
        reason: String,
    },
    #[error("config error: unknown key \"{key}\" in {}{}", file.display(), did_you_mean(key, ""))]
    UnknownKey { key: String, file: PathBuf },
    #[error(
        "config error: unknown environment variable {var}{}",
        did_you_mean(var, ENV_PREFIX)
    )]
    UnknownEnvVar { var: String },
    #[error("config error: config file {} does not exist", path.display())]
    FileNotFound { path: PathBuf },
    #[error("config error: cannot read config file {}: {error}", path.display())]
    FileUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config error: {} is not valid TOML: {detail}", path.display())]
    FileSyntax { path: PathBuf, detail: String },
}

/// The key as the user wrote it: `RANDCHAT_POLL_TIMEOUT`, or
/// `POLL_TIMEOUT (poll_timeout in randchat.toml)`.
fn describe(key: &str, origin: &Origin) -> String {
    match origin {
        Origin::Env(var) => var.clone(),
        Origin::File(path) => format!("{key} ({} in {})", key.to_ascii_lowercase(), path.display()),
        Origin::Cli => format!("{key} (command-line override)"),
    }
}

/// ` (did you mean "data_dir"?)` when an unknown key is a near miss.
fn did_you_mean(unknown: &str, prefix: &str) -> String {
    let Some(rest) = unknown.strip_prefix(prefix) else {
        return String::new();
    };
    let upper = rest.to_ascii_uppercase();
    let best = KEYS.iter().min_by_key(|key| edit_distance(key, &upper));
    match best {
        Some(key) if edit_distance(key, &upper) <= 2 => {
            let key = if prefix.is_empty() {
                key.to_ascii_lowercase()
            } else {
                format!("{prefix}{key}")
            };
            format!(" (did you mean \"{key}\"?)")
        }
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Loads the configuration from defaults, the TOML file, the process
/// environment and `cli`, in that order of priority.
pub fn load(cli: &CliOverrides) -> Result<Config, ConfigError> {
    load_from(cli, std::env::vars_os(), Path::new("."))
}

/// A raw value before validation.
#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    List(Vec<Raw>),
    /// Something with no sensible text form, e.g. a TOML table.
    Other(&'static str),
}

/// The merged layers: environment key → value and where it came from.
type Layers = BTreeMap<&'static str, (Raw, Origin)>;

/// [`load`] with the environment and working directory passed in.
fn load_from(
    cli: &CliOverrides,
    env: impl IntoIterator<Item = (OsString, OsString)>,
    cwd: &Path,
) -> Result<Config, ConfigError> {
    let mut layers = Layers::new();
    read_file(cli.config_file.as_deref(), cwd, &mut layers)?;
    read_env(env, &mut layers)?;
    let cli_values = [
        (
            "DATA_DIR",
            cli.data_dir.as_ref().map(|p| p.as_os_str().into()),
        ),
        (
            "TELEGRAM_API_URL",
            cli.telegram_api_url.clone().map(Into::into),
        ),
        ("LOG_LEVEL", cli.log_level.clone().map(Into::into)),
        ("LOG_FORMAT", cli.log_format.clone().map(Into::into)),
    ];
    for (key, value) in cli_values {
        if let Some(value) = value {
            put(
                &mut layers,
                key,
                os_text(key, &Origin::Cli, value)?,
                Origin::Cli,
            );
        }
    }
    build::build(layers)
}

/// Records `raw` for `key` unless it is empty, which means "not set".
fn put(layers: &mut Layers, key: &'static str, raw: Raw, origin: Origin) {
    if !matches!(&raw, Raw::Text(s) if s.trim().is_empty()) {
        layers.insert(key, (raw, origin));
    }
}

fn os_text(key: &'static str, origin: &Origin, value: OsString) -> Result<Raw, ConfigError> {
    value
        .into_string()
        .map(Raw::Text)
        .map_err(|_| ConfigError::Invalid {
            key,
            origin: origin.clone(),
            reason: "not valid UTF-8".into(),
        })
}

fn read_file(explicit: Option<&Path>, cwd: &Path, layers: &mut Layers) -> Result<(), ConfigError> {
    let path = explicit.unwrap_or(Path::new(DEFAULT_CONFIG_FILE));
    let text = match std::fs::read_to_string(cwd.join(path)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match explicit {
                Some(_) => Err(ConfigError::FileNotFound { path: path.into() }),
                None => Ok(()),
            };
        }
        Err(error) => {
            return Err(ConfigError::FileUnreadable {
                path: path.into(),
                error,
            })
        }
    };
    let dict: Dict = Toml::from_str(&text).map_err(|e| ConfigError::FileSyntax {
        path: path.into(),
        detail: toml_error_summary(&e.to_string()),
    })?;
    for (name, value) in dict {
        let key = KEYS.iter().find(|k| k.to_ascii_lowercase() == name);
        let Some(key) = key else {
            return Err(ConfigError::UnknownKey {
                key: name,
                file: path.into(),
            });
        };
        put(layers, key, raw_from_toml(value), Origin::File(path.into()));
    }
    Ok(())
}

/// The position and message of a TOML error, without the quoted source
/// line that the full text shows: that line may hold the bot token.
fn toml_error_summary(full: &str) -> String {
    let lines: Vec<&str> = full.lines().collect();
    let header = lines.first().copied().unwrap_or_default();
    let position = header
        .strip_prefix("TOML parse error at ")
        .unwrap_or("an unknown position");
    // The message follows the caret line, the last one of the `  |` frame.
    let caret = lines.iter().rposition(|l| l.trim_start().starts_with('|'));
    let message: Vec<&str> = match caret {
        Some(i) => lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect(),
        None => Vec::new(),
    };
    match message.is_empty() {
        true => format!("syntax error at {position}"),
        false => format!("{} at {position}", message.join("; ")),
    }
}

fn raw_from_toml(value: Value) -> Raw {
    match value {
        Value::String(_, s) => Raw::Text(s),
        Value::Char(_, c) => Raw::Text(c.into()),
        Value::Bool(_, b) => Raw::Text(b.to_string()),
        Value::Num(_, n) => Raw::Text(match n.to_i128() {
            Some(i) => i.to_string(),
            None => n.to_f64().map_or_else(String::new, |f| f.to_string()),
        }),
        Value::Array(_, items) => Raw::List(items.into_iter().map(raw_from_toml).collect()),
        Value::Dict(..) => Raw::Other("a table"),
        Value::Empty(..) => Raw::Other("nothing"),
    }
}

fn read_env(
    env: impl IntoIterator<Item = (OsString, OsString)>,
    layers: &mut Layers,
) -> Result<(), ConfigError> {
    let (mut plain, mut prefixed, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for (name, value) in env {
        let name = name.to_string_lossy().into_owned();
        let (bare, is_alias) = match name.strip_prefix(ENV_PREFIX) {
            Some(rest) => (rest, true),
            None => (name.as_str(), false),
        };
        match KEYS.iter().find(|k| **k == bare) {
            Some(key) if is_alias => prefixed.push((*key, name, value)),
            Some(key) => plain.push((*key, name, value)),
            None if is_alias => unknown.push(name),
            None => {}
        }
    }
    if let Some(var) = unknown.into_iter().min() {
        return Err(ConfigError::UnknownEnvVar { var });
    }
    // Plain names first, so a `RANDCHAT_` alias wins when both are set.
    for (key, var, value) in plain.into_iter().chain(prefixed) {
        let origin = Origin::Env(var);
        let raw = os_text(key, &origin, value)?;
        put(layers, key, raw, origin);
    }
    Ok(())
}
