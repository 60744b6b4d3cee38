use super::*;
use std::fs;
use tempfile::TempDir;

mod antispam;
mod engine;
mod matching;
mod moderation;
mod throttle;

/// Shaped like a real token; the secret part is what must never leak.
const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

/// A working directory, optionally holding `randchat.toml`.
fn dir(toml: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(toml) = toml {
        fs::write(dir.path().join(DEFAULT_CONFIG_FILE), toml).unwrap();
    }
    dir
}

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
}

fn try_load(
    toml: Option<&str>,
    pairs: &[(&str, &str)],
    cli: &CliOverrides,
) -> Result<Config, ConfigError> {
    let dir = dir(toml);
    load_from(cli, env(pairs), dir.path())
}

fn ok(toml: Option<&str>, pairs: &[(&str, &str)], cli: &CliOverrides) -> Config {
    try_load(toml, pairs, cli).unwrap_or_else(|e| panic!("{e}"))
}

/// The error's one line, checked never to hold the token.
fn err(toml: Option<&str>, pairs: &[(&str, &str)], cli: &CliOverrides) -> String {
    let e = try_load(toml, pairs, cli).expect_err("expected a config error");
    let (line, debug) = (e.to_string(), format!("{e:?}"));
    assert!(!line.contains('\n'), "more than one line: {line}");
    assert!(
        !line.contains(SECRET) && !debug.contains(SECRET),
        "token leaked: {line}"
    );
    line
}

fn with_token(pairs: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all = vec![("BOT_TOKEN", TOKEN)];
    all.extend_from_slice(pairs);
    all
}

fn no_cli() -> CliOverrides {
    CliOverrides::default()
}

#[test]
fn defaults_need_only_the_token() {
    let c = ok(None, &[("BOT_TOKEN", TOKEN)], &no_cli());
    assert_eq!(c.bot_token.expose(), TOKEN);
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.telegram_api_url.as_str(), "https://api.telegram.org/");
    assert_eq!(c.redis_url, None);
    assert!(c.admin_ids.is_empty());
    assert_eq!(c.log_level, "info");
    assert_eq!(c.log_format, LogFormat::Pretty);
    assert_eq!(c.poll_timeout, Duration::from_secs(10));
    assert_eq!(c.engine, EngineConfig::default());
}

const FULL_TOML: &str = r#"
bot_token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
data_dir = "/toml/data"
telegram_api_url = "http://toml.example:8081"
redis_url = "redis://toml.example/0"
admin_ids = [7, "8"]
log_level = "warn"
log_format = "json"
poll_timeout = 3
"#;

#[test]
fn toml_overrides_defaults() {
    let c = ok(Some(FULL_TOML), &[], &no_cli());
    assert_eq!(c.bot_token.expose(), TOKEN);
    assert_eq!(c.data_dir, PathBuf::from("/toml/data"));
    assert_eq!(c.telegram_api_url.as_str(), "http://toml.example:8081/");
    assert_eq!(c.redis_url.as_deref(), Some("redis://toml.example/0"));
    assert_eq!(c.admin_ids, vec![UserId(7), UserId(8)]);
    assert_eq!(c.log_level, "warn");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.poll_timeout, Duration::from_secs(3));
}

#[test]
fn env_overrides_toml_and_prefixed_alias_overrides_plain() {
    let vars = [
        ("DATA_DIR", "/env/data"),
        ("ADMIN_IDS", "1, 2,3"),
        ("LOG_FORMAT", "json"),
        ("RANDCHAT_LOG_FORMAT", "pretty"),
        ("RANDCHAT_POLL_TIMEOUT", "15"),
        ("PATH", "/usr/bin"), // unrelated variables are ignored
    ];
    let c = ok(Some(FULL_TOML), &vars, &no_cli());
    assert_eq!(c.data_dir, PathBuf::from("/env/data"));
    assert_eq!(c.admin_ids, vec![UserId(1), UserId(2), UserId(3)]);
    assert_eq!(c.log_format, LogFormat::Pretty);
    assert_eq!(c.poll_timeout, Duration::from_secs(15));
    assert_eq!(c.log_level, "warn", "untouched keys keep the file's value");
}

#[test]
fn cli_overrides_env() {
    let cli = CliOverrides {
        config_file: None,
        data_dir: Some("/cli/data".into()),
        telegram_api_url: Some("https://cli.example".into()),
        log_level: Some("debug".into()),
        log_format: Some("JSON".into()),
    };
    let vars = [
        ("DATA_DIR", "/env/data"),
        ("TELEGRAM_API_URL", "https://env.example"),
        ("LOG_LEVEL", "error"),
        ("RANDCHAT_LOG_FORMAT", "pretty"),
    ];
    let c = ok(Some(FULL_TOML), &vars, &cli);
    assert_eq!(c.data_dir, PathBuf::from("/cli/data"));
    assert_eq!(c.telegram_api_url.as_str(), "https://cli.example/");
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.log_format, LogFormat::Json);
}

#[test]
fn empty_values_count_as_unset() {
    let c = ok(
        Some(FULL_TOML),
        &[("DATA_DIR", ""), ("LOG_LEVEL", "  ")],
        &no_cli(),
    );
    assert_eq!(c.data_dir, PathBuf::from("/toml/data"));
    assert_eq!(c.log_level, "warn");
    let e = err(None, &[("BOT_TOKEN", "")], &no_cli());
    assert!(e.contains("BOT_TOKEN is missing"), "{e}");
}

#[test]
fn explicit_config_file_is_read_and_must_exist() {
    let dir = dir(None);
    fs::write(dir.path().join("custom.toml"), "data_dir = \"/custom\"").unwrap();
    let cli = CliOverrides {
        config_file: Some("custom.toml".into()),
        ..no_cli()
    };
    let c = load_from(&cli, env(&[("BOT_TOKEN", TOKEN)]), dir.path()).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/custom"));

    let cli = CliOverrides {
        config_file: Some("nope.toml".into()),
        ..no_cli()
    };
    let e = load_from(&cli, env(&[("BOT_TOKEN", TOKEN)]), dir.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "config error: config file nope.toml does not exist"
    );
}

#[test]
fn missing_token() {
    assert_eq!(
        err(None, &[], &no_cli()),
        "config error: BOT_TOKEN is missing — create a bot with @BotFather and set BOT_TOKEN"
    );
}

#[test]
fn malformed_token_is_named_but_never_shown() {
    let bad = [
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw!",
        "123456789:\"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\"",
        "123456789:AAHdqTcvCH1vGWJxf",
    ];
    for token in bad {
        let e = err(None, &[("BOT_TOKEN", token)], &no_cli());
        assert!(
            e.starts_with("config error: BOT_TOKEN is malformed: expected <digits>:"),
            "{e}"
        );
        assert!(!e.contains("AAHdqTcvCH1vGWJxf"), "{e}");
    }
    let e = err(Some("bot_token = \"12:AAHdqTcvCH1vGWJxf\""), &[], &no_cli());
    assert!(
        e.contains("BOT_TOKEN (bot_token in randchat.toml) is malformed"),
        "{e}"
    );
    assert!(!e.contains("AAHdqTcvCH1vGWJxf"), "{e}");
    let e = err(Some("bot_token = 12"), &[], &no_cli());
    assert!(e.contains("no ':'"), "{e}");
}

#[test]
fn token_text_is_masked_everywhere() {
    let c = ok(
        None,
        &[
            ("BOT_TOKEN", TOKEN),
            ("REDIS_URL", "redis://user:hunter2@db:6379/0"),
        ],
        &no_cli(),
    );
    let debug = format!("{c:?} {:?} {}", c.bot_token, c.bot_token);
    assert!(
        debug.contains(MASK) && !debug.contains(SECRET) && !debug.contains("hunter2"),
        "{debug}"
    );
    let summary = c.masked_summary();
    assert!(
        !summary.contains(SECRET) && !summary.contains("hunter2"),
        "{summary}"
    );
    assert!(
        summary.contains("BOT_TOKEN          = ***masked***"),
        "{summary}"
    );
    assert!(
        summary.contains("redis://user:***masked***@db:6379/0"),
        "{summary}"
    );
    let c = ok(None, &with_token(&[("DATA_DIR", TOKEN)]), &no_cli());
    let shown = format!("{c:?} {c:#?} {}", c.masked_summary());
    assert!(!shown.contains(SECRET), "{shown}");
    // A token pasted into the wrong key is masked in that key's error too.
    let e = err(None, &with_token(&[("LOG_FORMAT", TOKEN)]), &no_cli());
    assert!(e.contains(MASK), "{e}");
    // A TOML syntax error quotes no source text.
    let e = err(
        Some("bot_token = \"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        &[],
        &no_cli(),
    );
    assert_eq!(
        e,
        "config error: randchat.toml is not valid TOML: invalid basic string at line 1, column 58"
    );
}

#[test]
fn unknown_toml_key() {
    let e = err(Some("dat_dir = \"x\""), &with_token(&[]), &no_cli());
    assert_eq!(
        e,
        "config error: unknown key \"dat_dir\" in randchat.toml (did you mean \"data_dir\"?)"
    );
    let e = err(Some("DATA_DIR = \"x\""), &with_token(&[]), &no_cli());
    assert!(
        e.starts_with("config error: unknown key \"DATA_DIR\" in randchat.toml"),
        "{e}"
    );
    let e = err(Some("[server]\nport = 1"), &with_token(&[]), &no_cli());
    assert_eq!(e, "config error: unknown key \"server\" in randchat.toml");
}

#[test]
fn unknown_randchat_variable() {
    let e = err(None, &with_token(&[("RANDCHAT_DAT_DIR", "x")]), &no_cli());
    assert_eq!(
        e,
        "config error: unknown environment variable RANDCHAT_DAT_DIR (did you mean \"RANDCHAT_DATA_DIR\"?)"
    );
    // Unprefixed unknown names can't be policed and are ignored.
    ok(None, &with_token(&[("DAT_DIR", "x")]), &no_cli());
}

#[test]
fn bad_log_format() {
    let e = err(None, &with_token(&[("LOG_FORMAT", "xml")]), &no_cli());
    assert_eq!(
        e,
        "config error: LOG_FORMAT: expected \"pretty\" or \"json\", got \"xml\""
    );
    let cli = CliOverrides {
        log_format: Some("xml".into()),
        ..no_cli()
    };
    let e = err(None, &with_token(&[]), &cli);
    assert!(
        e.starts_with("config error: LOG_FORMAT (command-line override): expected"),
        "{e}"
    );
}

#[test]
fn bad_poll_timeout() {
    let e = err(None, &with_token(&[("POLL_TIMEOUT", "abc")]), &no_cli());
    assert_eq!(
        e,
        "config error: POLL_TIMEOUT: expected whole seconds from 0 to 15, got \"abc\""
    );
    let e = err(
        None,
        &with_token(&[("RANDCHAT_POLL_TIMEOUT", "16")]),
        &no_cli(),
    );
    assert_eq!(
        e,
        "config error: RANDCHAT_POLL_TIMEOUT: expected whole seconds from 0 to 15, got \"16\""
    );
    let e = err(Some("poll_timeout = 2.5"), &with_token(&[]), &no_cli());
    assert_eq!(
        e,
        "config error: POLL_TIMEOUT (poll_timeout in randchat.toml): expected whole seconds from 0 to 15, got \"2.5\""
    );
    let c = ok(None, &with_token(&[("POLL_TIMEOUT", "0")]), &no_cli());
    assert_eq!(c.poll_timeout, Duration::ZERO);
}

#[test]
fn bad_telegram_api_url() {
    let expected =
        "config error: TELEGRAM_API_URL: expected an http(s) URL such as https://api.telegram.org";
    let cases = [
        ("ftp://files.example", ", got scheme \"ftp\""),
        ("api.telegram.org", " (no http:// or https:// prefix)"),
        ("https://host:99999", " (invalid port number)"),
    ];
    for (url, problem) in cases {
        let e = err(None, &with_token(&[("TELEGRAM_API_URL", url)]), &no_cli());
        assert_eq!(e, format!("{expected}{problem}"));
    }
    let c = ok(
        None,
        &with_token(&[("TELEGRAM_API_URL", "http://localhost:8081")]),
        &no_cli(),
    );
    assert_eq!(c.telegram_api_url.as_str(), "http://localhost:8081/");
}

#[test]
fn admin_ids() {
    let c = ok(None, &with_token(&[("ADMIN_IDS", "1, 2,3,")]), &no_cli());
    assert_eq!(c.admin_ids, vec![UserId(1), UserId(2), UserId(3)]);
    let e = err(None, &with_token(&[("ADMIN_IDS", "1,x")]), &no_cli());
    assert_eq!(
        e,
        "config error: ADMIN_IDS: expected comma-separated numeric user ids, got \"x\""
    );
    let e = err(Some("admin_ids = [1, -2]"), &with_token(&[]), &no_cli());
    assert!(
        e.starts_with("config error: ADMIN_IDS (admin_ids in randchat.toml):"),
        "{e}"
    );
    let c = ok(Some("admin_ids = \"5,6\""), &with_token(&[]), &no_cli());
    assert_eq!(c.admin_ids, vec![UserId(5), UserId(6)]);
    let summary = c.masked_summary();
    assert!(
        summary.contains("2 user ids (not shown)") && !summary.contains('5'),
        "{summary}"
    );
}

#[test]
fn redis_url_scheme() {
    let e = err(
        None,
        &with_token(&[("REDIS_URL", "http://db:6379")]),
        &no_cli(),
    );
    assert_eq!(
        e,
        "config error: REDIS_URL: expected a URL starting with redis://, rediss:// or unix://"
    );
    for good in [
        "redis://db:6379/0",
        "rediss://:pw@db",
        "unix:///run/redis.sock",
    ] {
        assert_eq!(
            ok(None, &with_token(&[("REDIS_URL", good)]), &no_cli())
                .redis_url
                .as_deref(),
            Some(good)
        );
    }
}

#[test]
fn log_level_must_be_a_filter() {
    for good in [
        "debug",
        "WARN",
        "info,randchat=debug",
        "randchat::engine=trace",
    ] {
        assert_eq!(
            ok(None, &with_token(&[("LOG_LEVEL", good)]), &no_cli()).log_level,
            good
        );
    }
    let e = err(None, &with_token(&[("LOG_LEVEL", "verbose")]), &no_cli());
    assert!(
        e.starts_with("config error: LOG_LEVEL: \"verbose\" is not a level;"),
        "{e}"
    );
    let e = err(
        None,
        &with_token(&[("LOG_LEVEL", "info,randchat=loud")]),
        &no_cli(),
    );
    assert!(
        e.starts_with("config error: LOG_LEVEL: \"info,randchat=loud\" is not a valid"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_value_is_an_error() {
    use std::os::unix::ffi::OsStringExt;
    let dir = dir(None);
    let vars = vec![("BOT_TOKEN".into(), OsString::from_vec(vec![0xff, b':']))];
    let e = load_from(&no_cli(), vars, dir.path()).unwrap_err();
    assert_eq!(e.to_string(), "config error: BOT_TOKEN: not valid UTF-8");
}

#[test]
fn bot_token_parse() {
    assert!(BotToken::parse(TOKEN).is_ok());
    assert!(BotToken::parse("1:abcdefghijklmnopqrstuvwxyz_-0123").is_ok());
    assert_eq!(
        BotToken::parse(":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        Err(TokenProblem::BadId)
    );
    assert_eq!(BotToken::parse("1:short"), Err(TokenProblem::TooShort));
    assert_eq!(BotToken::parse("no colon"), Err(TokenProblem::NoColon));
}

/// The real entry point, with the real process environment and working
/// directory, inside figment's jail (which restores both afterwards). The
/// jail changes the process's working directory while it runs, so no other
/// test in this crate may depend on it.
#[test]
#[allow(clippy::result_large_err)] // the closure's type is figment's
fn load_reads_process_env_and_working_directory() {
    figment::Jail::expect_with(|jail| {
        // Blank out the known names (empty counts as unset) rather than
        // clearing the whole environment under other tests' feet.
        for key in KEYS {
            jail.set_env(key, "");
            jail.set_env(format!("{ENV_PREFIX}{key}"), "");
        }
        jail.create_file(
            DEFAULT_CONFIG_FILE,
            "data_dir = \"/from/toml\"\nlog_level = \"warn\"",
        )?;
        jail.set_env("BOT_TOKEN", TOKEN);
        jail.set_env("RANDCHAT_LOG_LEVEL", "error");
        jail.set_env("LOG_FORMAT", "json");
        let cli = CliOverrides {
            log_format: Some("pretty".into()),
            ..no_cli()
        };
        let c = load(&cli).map_err(|e| e.to_string())?;
        assert_eq!(c.bot_token.expose(), TOKEN);
        assert_eq!(c.data_dir, PathBuf::from("/from/toml"));
        assert_eq!(c.log_level, "error");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.poll_timeout, Duration::from_secs(10));

        jail.set_env("RANDCHAT_NOPE", "1");
        let e = load(&cli).expect_err("unknown variable");
        assert_eq!(
            e.to_string(),
            "config error: unknown environment variable RANDCHAT_NOPE"
        );
        Ok(())
    });
}

#[test]
fn instance_id() {
    let c = ok(
        None,
        &with_token(&[("INSTANCE_ID", "web-1.eu_2")]),
        &no_cli(),
    );
    assert_eq!(c.instance_id, "web-1.eu_2");
    for bad in ["two words", "a/b", "x".repeat(65).leak()] {
        let e = err(None, &with_token(&[("INSTANCE_ID", bad)]), &no_cli());
        assert!(
            e.starts_with("config error: INSTANCE_ID: expected 1 to 64 characters"),
            "{e}"
        );
    }
    // By default: this host and the webhook port, or "poll".
    let polling = ok(None, &with_token(&[]), &no_cli());
    assert!(
        polling.instance_id.ends_with("-poll"),
        "{}",
        polling.instance_id
    );
    let hooked = ok(
        None,
        &with_token(&[
            ("WEBHOOK_URL", "https://bot.example.com/hook"),
            ("WEBHOOK_SECRET", "s3cret"),
            ("WEBHOOK_LISTEN", "0.0.0.0:8444"),
        ]),
        &no_cli(),
    );
    assert!(
        hooked.instance_id.ends_with("-8444"),
        "{}",
        hooked.instance_id
    );
    assert_ne!(polling.instance_id, hooked.instance_id);
}
