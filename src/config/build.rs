//! Validation: from the merged raw layers to a [`Config`], and back to text.

use super::token::MASK;
use super::*;

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
/// The longest allowed `CHAT_IDLE_TIMEOUT` and `SEARCH_TIMEOUT`: a week.
/// Anything longer is more likely milliseconds typed as seconds.
const MAX_ENGINE_TIMEOUT_SECS: u64 = 7 * 24 * 3600;
/// The highest allowed `MESSAGE_RATE_LIMIT` and `NEXT_RATE_LIMIT`.
const MAX_RATE_LIMIT: u32 = 10_000;
/// The highest allowed `REPORT_BAN_THRESHOLD`.
const MAX_REPORT_BAN_THRESHOLD: u32 = 1000;
/// The shortest allowed `REPORT_WINDOW` and `BAN_DURATION`: a minute.
const MIN_MODERATION_SECS: u64 = 60;
/// The longest allowed `BAN_DURATION`: a year.
const MAX_BAN_DURATION_SECS: u64 = 365 * 24 * 3600;

pub(super) fn build(mut layers: Layers) -> Result<Config, ConfigError> {
    let Some((raw, origin)) = layers.remove("BOT_TOKEN") else {
        return Err(ConfigError::Missing {
            key: "BOT_TOKEN",
            hint: "create a bot with @BotFather and set BOT_TOKEN",
        });
    };
    let token = match raw {
        Raw::Text(s) => BotToken::parse(s.trim()),
        _ => Err(TokenProblem::NotText),
    };
    let token = token.map_err(|problem| ConfigError::MalformedToken { origin, problem })?;
    let (d, l, t) = (Config::new(token.clone()), &mut layers, &token);
    // This group first: it reads the defaults before they are moved below.
    let keys = super::antispam::read(l, t, &d)?;
    // Fields are checked in this order; the first error wins.
    let config = Config {
        data_dir: take(l, "DATA_DIR", t, text)?.map_or(d.data_dir, PathBuf::from),
        telegram_api_url: take(l, "TELEGRAM_API_URL", t, api_url)?.unwrap_or(d.telegram_api_url),
        redis_url: take(l, "REDIS_URL", t, redis_url)?,
        admin_ids: take(l, "ADMIN_IDS", t, admin_ids)?.unwrap_or(d.admin_ids),
        log_level: take(l, "LOG_LEVEL", t, log_level)?.unwrap_or(d.log_level),
        log_format: take(l, "LOG_FORMAT", t, log_format)?.unwrap_or(d.log_format),
        poll_timeout: take(l, "POLL_TIMEOUT", t, poll_timeout)?.unwrap_or(d.poll_timeout),
        engine: EngineConfig {
            chat_idle_timeout: take(l, "CHAT_IDLE_TIMEOUT", t, engine_timeout)?
                .unwrap_or(d.engine.chat_idle_timeout),
            search_timeout: take(l, "SEARCH_TIMEOUT", t, engine_timeout)?
                .unwrap_or(d.engine.search_timeout),
            message_rate_limit: take(l, "MESSAGE_RATE_LIMIT", t, rate_limit)?
                .unwrap_or(d.engine.message_rate_limit),
            next_rate_limit: take(l, "NEXT_RATE_LIMIT", t, rate_limit)?
                .unwrap_or(d.engine.next_rate_limit),
            album_wait: take(l, "ALBUM_WAIT", t, album_wait)?.unwrap_or(d.engine.album_wait),
            share_timeout: take(l, "LINK_TIMEOUT", t, link_timeout)?
                .unwrap_or(d.engine.share_timeout),
        },
        throttle: ThrottleConfig {
            enabled: take(l, "THROTTLE", t, on_off)?.unwrap_or(d.throttle.enabled),
            global_per_second: take(l, "THROTTLE_GLOBAL_RATE", t, per_second)?
                .unwrap_or(d.throttle.global_per_second),
            chat_per_second: take(l, "THROTTLE_CHAT_RATE", t, per_second)?
                .unwrap_or(d.throttle.chat_per_second),
            chat_burst: take(l, "THROTTLE_CHAT_BURST", t, burst)?.unwrap_or(d.throttle.chat_burst),
        },
        protect_content: take(l, "PROTECT_CONTENT", t, on_off)?.unwrap_or(d.protect_content),
        // deploy: operator-facing keys.
        admin_listen: take(l, "ADMIN_LISTEN", t, super::deploy::admin_listen)?
            .unwrap_or(d.admin_listen),
        moderation: ModerationConfig {
            report_ban_threshold: take(l, "REPORT_BAN_THRESHOLD", t, ban_threshold)?
                .unwrap_or(d.moderation.report_ban_threshold),
            report_window: take(l, "REPORT_WINDOW", t, report_window)?
                .unwrap_or(d.moderation.report_window),
            ban_duration: take(l, "BAN_DURATION", t, ban_duration)?
                .unwrap_or(d.moderation.ban_duration),
            admins: Vec::new(),
        },
        antispam: keys.antispam,
        badwords_file: keys.badwords_file,
        moderator: keys.moderator,
        broadcast_rate: keys.broadcast_rate,
        matching: super::matching::build(l, t, d.matching)?,
        webhook: super::webhook::assemble(
            take(l, "WEBHOOK_URL", t, super::webhook::url)?,
            take(l, "WEBHOOK_SECRET", t, super::webhook::secret)?,
            take(l, "WEBHOOK_LISTEN", t, super::webhook::listen)?,
        )?,
        admin_token: take(l, "ADMIN_TOKEN", t, super::deploy::admin_token)?.flatten(),
        // store: resolved below, once REDIS_URL is known.
        store: d.store,
        instance_id: d.instance_id,
        bot_token: token.clone(),
    };
    let kind = take(l, "STORE", t, super::store::store_kind)?.unwrap_or_default();
    let prefix = take(l, "REDIS_PREFIX", t, super::store::redis_prefix)?
        .unwrap_or_else(|| super::store::DEFAULT_REDIS_PREFIX.to_owned());
    let store = super::store::choose(kind, config.redis_url.as_deref(), &prefix)?;
    let instance_id = take(l, "INSTANCE_ID", t, super::store::instance_id)?
        .unwrap_or_else(|| super::store::default_instance_id(config.webhook.as_ref()));
    Ok(Config {
        store,
        instance_id,
        ..config
    })
}

/// [`take`], for the keys other modules own.
pub(super) fn take_key<T>(
    layers: &mut Layers,
    key: &'static str,
    token: &BotToken,
    parse: fn(Raw) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    take(layers, key, token, parse)
}

/// Parses `key` if some layer set it; `None` keeps the default.
pub(super) fn take<T>(
    layers: &mut Layers,
    key: &'static str,
    token: &BotToken,
    parse: fn(Raw) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    let Some((raw, origin)) = layers.remove(key) else {
        return Ok(None);
    };
    parse(raw).map(Some).map_err(|reason| ConfigError::Invalid {
        key,
        origin,
        // In case the token was pasted into the wrong key.
        reason: reason.replace(token.expose(), MASK),
    })
}

pub(super) fn text(raw: Raw) -> Result<String, String> {
    match raw {
        Raw::Text(s) => Ok(s.trim().to_owned()),
        Raw::List(_) => Err("expected a single value, got a list".into()),
        Raw::Other(what) => Err(format!("expected a single value, got {what}")),
    }
}

fn api_url(raw: Raw) -> Result<Url, String> {
    let s = text(raw)?;
    let expected = format!("expected an http(s) URL such as {DEFAULT_TELEGRAM_API_URL}");
    if !s.contains("://") {
        return Err(format!("{expected} (no http:// or https:// prefix)"));
    }
    let url = Url::parse(&s).map_err(|e| format!("{expected} ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("{expected}, got scheme {other:?}")),
    }
}

fn redis_url(raw: Raw) -> Result<String, String> {
    let s = text(raw)?;
    if !["redis://", "rediss://", "unix://"]
        .iter()
        .any(|p| s.starts_with(p))
    {
        return Err("expected a URL starting with redis://, rediss:// or unix://".into());
    }
    Url::parse(&s).map_err(|e| format!("not a valid URL ({e})"))?;
    Ok(s)
}

fn admin_ids(raw: Raw) -> Result<Vec<UserId>, String> {
    let items: Vec<String> = match raw {
        Raw::Text(s) => s
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(Into::into)
            .collect(),
        Raw::List(items) => items.into_iter().map(text).collect::<Result<_, _>>()?,
        Raw::Other(what) => return Err(format!("expected comma-separated user ids, got {what}")),
    };
    let parse = |item: &String| match item.parse::<i64>() {
        Ok(id) if id > 0 => Ok(UserId(id)),
        _ => Err(format!(
            "expected comma-separated numeric user ids, got {item:?}"
        )),
    };
    items.iter().map(parse).collect()
}

fn log_level(raw: Raw) -> Result<String, String> {
    let s = text(raw)?;
    // EnvFilter reads a bare word as a target name, so "verbose" would be
    // accepted and silence every log line. Targets need `target=level`.
    for word in s.split(',').map(str::trim) {
        let is_word = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic());
        if is_word && !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word)) {
            return Err(format!(
                "{word:?} is not a level; use trace, debug, info, warn, error or off, \
                 or directives like \"info,randchat=debug\""
            ));
        }
    }
    match tracing_subscriber::EnvFilter::try_new(&s) {
        Ok(_) => Ok(s),
        Err(e) => Err(format!(
            "{s:?} is not a valid tracing filter directive ({e})"
        )),
    }
}

fn log_format(raw: Raw) -> Result<LogFormat, String> {
    let s = text(raw)?;
    match s.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("expected \"pretty\" or \"json\", got {s:?}")),
    }
}

fn poll_timeout(raw: Raw) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if secs <= MAX_POLL_TIMEOUT_SECS => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "expected whole seconds from 0 to {MAX_POLL_TIMEOUT_SECS}, got {s:?}"
        )),
    }
}

/// Whole seconds; 0 turns the timeout off.
fn engine_timeout(raw: Raw) -> Result<Option<Duration>, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(secs) if secs <= MAX_ENGINE_TIMEOUT_SECS => Ok(Some(Duration::from_secs(secs))),
        _ => Err(format!(
            "expected whole seconds from 0 (off) to {MAX_ENGINE_TIMEOUT_SECS} (a week), got {s:?}"
        )),
    }
}

/// A count per minute, at least 1.
fn rate_limit(raw: Raw) -> Result<u32, String> {
    let s = text(raw)?;
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_RATE_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number per minute from 1 to {MAX_RATE_LIMIT}, got {s:?}"
        )),
    }
}

pub(super) fn on_off(raw: Raw) -> Result<bool, String> {
    let s = text(raw)?;
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected \"on\" or \"off\", got {s:?}")),
    }
}

/// Messages per second: a positive decimal such as 30 or 0.5.
fn per_second(raw: Raw) -> Result<f64, String> {
    let s = text(raw)?;
    match s.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 10_000.0 => Ok(rate),
        _ => Err(format!(
            "expected messages per second, above 0 and at most 10000, got {s:?}"
        )),
    }
}

/// How many messages one chat may get at once: a whole number from 1 to 100.
fn burst(raw: Raw) -> Result<f64, String> {
    let s = text(raw)?;
    match s.parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(f64::from(n)),
        _ => Err(format!("expected a whole number from 1 to 100, got {s:?}")),
    }
}

/// Distinct reporters that ban a user; 0 turns automatic bans off.
fn ban_threshold(raw: Raw) -> Result<u32, String> {
    let s = text(raw)?;
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_REPORT_BAN_THRESHOLD => Ok(n),
        _ => Err(format!(
            "expected a number of users from 0 (off) to {MAX_REPORT_BAN_THRESHOLD}, got {s:?}"
        )),
    }
}

/// Whole seconds, from a minute to `max`.
fn moderation_secs(raw: Raw, max: u64, max_name: &str) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if (MIN_MODERATION_SECS..=max).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "expected whole seconds from {MIN_MODERATION_SECS} to {max} ({max_name}), got {s:?}"
        )),
    }
}

/// How long reports count. At most a week, which is also how far back the
/// store reloads reports at start-up.
fn report_window(raw: Raw) -> Result<Duration, String> {
    moderation_secs(raw, crate::store::RECENT_REPORTS_SECS, "a week")
}

fn ban_duration(raw: Raw) -> Result<Duration, String> {
    moderation_secs(raw, MAX_BAN_DURATION_SECS, "a year")
}

/// Whole seconds from 1 to 30 that album parts are gathered.
fn album_wait(raw: Raw) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if (1..=30).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(format!("expected whole seconds from 1 to 30, got {s:?}")),
    }
}

/// Whole seconds from 10 to 3600 that a /link request waits for an answer.
fn link_timeout(raw: Raw) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if (10..=3600).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(format!("expected whole seconds from 10 to 3600, got {s:?}")),
    }
}

/// A timeout as shown by `check-config`.
fn show_timeout(timeout: Option<Duration>) -> String {
    match timeout.filter(|d| !d.is_zero()) {
        Some(d) => format!("{}s", d.as_secs()),
        None => "off".to_owned(),
    }
}

/// A URL with any password replaced by the mask.
fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some(MASK));
    }
    url.to_string()
}

impl Config {
    /// A configuration with every default and this token.
    pub fn new(bot_token: BotToken) -> Self {
        Config {
            bot_token,
            data_dir: DEFAULT_DATA_DIR.into(),
            telegram_api_url: Url::parse(DEFAULT_TELEGRAM_API_URL).expect("the default URL parses"),
            redis_url: None,
            admin_ids: Vec::new(),
            log_level: DEFAULT_LOG_LEVEL.into(),
            log_format: LogFormat::Pretty,
            poll_timeout: Duration::from_secs(DEFAULT_POLL_TIMEOUT_SECS),
            engine: EngineConfig::default(),
            throttle: ThrottleConfig::default(),
            protect_content: false,
            // deploy: operator-facing keys.
            admin_listen: super::deploy::default_admin_listen(),
            moderation: ModerationConfig::default(),
            // antispam: anti-spam rules, AI moderation, /broadcast.
            antispam: crate::engine::AntispamConfig::default(),
            badwords_file: None,
            moderator: None,
            broadcast_rate: crate::engine::broadcast::DEFAULT_BROADCAST_RATE,
            matching: crate::engine::MatchConfig::default(),
            store: StoreChoice::Embedded,
            instance_id: super::store::default_instance_id(None),
            webhook: None,
            admin_token: None,
        }
    }

    /// The effective values, one `KEY = value` per line, for `check-config`.
    /// Secrets are masked: the token, URL passwords, and the admin ids
    /// (user ids are never printed raw; see [`UserId`]).
    pub fn masked_summary(&self) -> String {
        let rows: Vec<String> = self
            .masked_rows()
            .into_iter()
            .map(|(k, v)| format!("{k:<18} = {v}"))
            .collect();
        rows.join("\n")
    }

    fn masked_rows(&self) -> Vec<(&'static str, String)> {
        let redis = match self.redis_url.as_deref().map(Url::parse) {
            None => "(not set)".to_owned(),
            Some(Ok(url)) => redact_url(&url),
            Some(Err(_)) => MASK.to_owned(),
        };
        let admins = match self.admin_ids.len() {
            0 => "(none)".to_owned(),
            1 => "1 user id (not shown)".to_owned(),
            n => format!("{n} user ids (not shown)"),
        };
        [
            ("BOT_TOKEN", self.bot_token.to_string()),
            ("DATA_DIR", self.data_dir.display().to_string()),
            ("TELEGRAM_API_URL", redact_url(&self.telegram_api_url)),
            ("REDIS_URL", redis),
            ("STORE", super::store::show_store(&self.store)),
            (
                "REDIS_PREFIX",
                match &self.store {
                    StoreChoice::Redis { prefix, .. } => prefix.clone(),
                    StoreChoice::Embedded => "(not used)".to_owned(),
                },
            ),
            (
                "INSTANCE_ID",
                match &self.store {
                    StoreChoice::Redis { .. } => self.instance_id.clone(),
                    StoreChoice::Embedded => "(not used)".to_owned(),
                },
            ),
            ("ADMIN_IDS", admins),
            ("LOG_LEVEL", self.log_level.clone()),
            ("LOG_FORMAT", self.log_format.to_string()),
            ("POLL_TIMEOUT", format!("{}s", self.poll_timeout.as_secs())),
            (
                "CHAT_IDLE_TIMEOUT",
                show_timeout(self.engine.chat_idle_timeout),
            ),
            ("SEARCH_TIMEOUT", show_timeout(self.engine.search_timeout)),
            (
                "MESSAGE_RATE_LIMIT",
                format!("{}/min", self.engine.message_rate_limit),
            ),
            (
                "NEXT_RATE_LIMIT",
                format!("{}/min", self.engine.next_rate_limit),
            ),
            (
                "THROTTLE",
                if self.throttle.enabled { "on" } else { "off" }.to_owned(),
            ),
            (
                "THROTTLE_GLOBAL_RATE",
                format!("{}/s", self.throttle.global_per_second),
            ),
            (
                "THROTTLE_CHAT_RATE",
                format!("{}/s", self.throttle.chat_per_second),
            ),
            (
                "THROTTLE_CHAT_BURST",
                format!("{}", self.throttle.chat_burst),
            ),
            (
                "ALBUM_WAIT",
                format!("{}s", self.engine.album_wait.as_secs()),
            ),
            (
                "LINK_TIMEOUT",
                format!("{}s", self.engine.share_timeout.as_secs()),
            ),
            (
                "PROTECT_CONTENT",
                if self.protect_content { "on" } else { "off" }.to_owned(),
            ),
            // deploy: operator-facing keys.
            (
                "ADMIN_LISTEN",
                super::deploy::show_admin_listen(self.admin_listen),
            ),
            (
                "REPORT_BAN_THRESHOLD",
                match self.moderation.report_ban_threshold {
                    0 => "off".to_owned(),
                    n => format!("{n} users"),
                },
            ),
            (
                "REPORT_WINDOW",
                format!("{}s", self.moderation.report_window.as_secs()),
            ),
            (
                "BAN_DURATION",
                format!("{}s", self.moderation.ban_duration.as_secs()),
            ),
            (
                "ADMIN_TOKEN",
                super::deploy::show_admin_token(self.admin_token.as_ref()),
            ),
        ]
        .into_iter()
        .chain(super::antispam::rows(self))
        .chain(super::matching::rows(&self.matching))
        .chain(super::webhook::rows(&self.webhook))
        // In case the token was pasted into another key.
        .map(|(k, v)| (k, v.replace(self.bot_token.expose(), MASK)))
        .collect()
    }
}

/// The same masked values as [`Config::masked_summary`].
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Config");
        for (key, value) in self.masked_rows() {
            s.field(&key.to_ascii_lowercase(), &value);
        }
        s.finish()
    }
}
