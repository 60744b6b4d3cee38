//! The engine's keys: CHAT_IDLE_TIMEOUT, SEARCH_TIMEOUT, MESSAGE_RATE_LIMIT
//! and NEXT_RATE_LIMIT.

use super::*;

#[test]
fn engine_defaults() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.engine.chat_idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(c.engine.search_timeout, Some(Duration::from_secs(600)));
    assert_eq!(c.engine.message_rate_limit, 30);
    assert_eq!(c.engine.next_rate_limit, 10);
    let summary = c.masked_summary();
    for row in [
        "CHAT_IDLE_TIMEOUT  = 600s",
        "SEARCH_TIMEOUT     = 600s",
        "MESSAGE_RATE_LIMIT = 30/min",
        "NEXT_RATE_LIMIT    = 10/min",
    ] {
        assert!(summary.contains(row), "{row:?} not in\n{summary}");
    }
}

const ENGINE_TOML: &str = r#"
chat_idle_timeout = 120
search_timeout = 0
message_rate_limit = 5
next_rate_limit = "3"
"#;

#[test]
fn engine_keys_from_toml_env_and_alias() {
    let c = ok(Some(ENGINE_TOML), &with_token(&[]), &no_cli());
    assert_eq!(
        c.engine,
        EngineConfig {
            chat_idle_timeout: Some(Duration::from_secs(120)),
            search_timeout: None,
            message_rate_limit: 5,
            next_rate_limit: 3,
            album_wait: Duration::from_secs(2),
            share_timeout: Duration::from_secs(300),
        }
    );
    assert!(
        c.masked_summary().contains("SEARCH_TIMEOUT     = off"),
        "{}",
        c.masked_summary()
    );

    let vars = [
        ("CHAT_IDLE_TIMEOUT", "0"),
        ("SEARCH_TIMEOUT", "45"),
        ("MESSAGE_RATE_LIMIT", "7"),
        ("RANDCHAT_MESSAGE_RATE_LIMIT", "8"),
        ("RANDCHAT_NEXT_RATE_LIMIT", "1"),
    ];
    let c = ok(Some(ENGINE_TOML), &with_token(&vars), &no_cli());
    assert_eq!(
        c.engine,
        EngineConfig {
            chat_idle_timeout: None,
            search_timeout: Some(Duration::from_secs(45)),
            message_rate_limit: 8,
            next_rate_limit: 1,
            album_wait: Duration::from_secs(2),
            share_timeout: Duration::from_secs(300),
        }
    );
}

#[test]
fn bad_engine_timeouts() {
    let expected = "expected whole seconds from 0 (off) to 604800 (a week)";
    for bad in ["abc", "-1", "10m", "604801"] {
        let e = err(None, &with_token(&[("CHAT_IDLE_TIMEOUT", bad)]), &no_cli());
        assert_eq!(
            e,
            format!("config error: CHAT_IDLE_TIMEOUT: {expected}, got {bad:?}")
        );
    }
    let e = err(
        None,
        &with_token(&[("RANDCHAT_SEARCH_TIMEOUT", "1.5")]),
        &no_cli(),
    );
    assert_eq!(
        e,
        format!("config error: RANDCHAT_SEARCH_TIMEOUT: {expected}, got \"1.5\"")
    );
    let e = err(Some("search_timeout = [1]"), &with_token(&[]), &no_cli());
    assert_eq!(
        e,
        "config error: SEARCH_TIMEOUT (search_timeout in randchat.toml): expected a single value, got a list"
    );
    let c = ok(
        None,
        &with_token(&[("SEARCH_TIMEOUT", "604800")]),
        &no_cli(),
    );
    assert_eq!(c.engine.search_timeout, Some(Duration::from_secs(604_800)));
}

#[test]
fn bad_rate_limits() {
    let expected = "expected a number per minute from 1 to 10000";
    for bad in ["0", "-3", "x", "10001", "2.5"] {
        let e = err(None, &with_token(&[("MESSAGE_RATE_LIMIT", bad)]), &no_cli());
        assert_eq!(
            e,
            format!("config error: MESSAGE_RATE_LIMIT: {expected}, got {bad:?}")
        );
    }
    let e = err(Some("next_rate_limit = 0"), &with_token(&[]), &no_cli());
    assert_eq!(
        e,
        format!(
            "config error: NEXT_RATE_LIMIT (next_rate_limit in randchat.toml): {expected}, got \"0\""
        )
    );
    let e = err(
        None,
        &with_token(&[("RANDCHAT_NEXT_RATE_LIMIT", "none")]),
        &no_cli(),
    );
    assert!(
        e.starts_with("config error: RANDCHAT_NEXT_RATE_LIMIT: "),
        "{e}"
    );
}

#[test]
fn engine_key_typos_are_caught() {
    let e = err(
        None,
        &with_token(&[("RANDCHAT_SEARCH_TIMEOT", "5")]),
        &no_cli(),
    );
    assert_eq!(
        e,
        "config error: unknown environment variable RANDCHAT_SEARCH_TIMEOT (did you mean \"RANDCHAT_SEARCH_TIMEOUT\"?)"
    );
    let e = err(Some("next_rate_limt = 5"), &with_token(&[]), &no_cli());
    assert_eq!(
        e,
        "config error: unknown key \"next_rate_limt\" in randchat.toml (did you mean \"next_rate_limit\"?)"
    );
}

#[test]
fn link_timeout_from_env_and_its_bounds() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.engine.share_timeout, Duration::from_secs(300));
    assert!(
        c.masked_summary().contains("LINK_TIMEOUT"),
        "{}",
        c.masked_summary()
    );
    let c = ok(None, &with_token(&[("LINK_TIMEOUT", "45")]), &no_cli());
    assert_eq!(c.engine.share_timeout, Duration::from_secs(45));
    for bad in ["0", "9", "3601", "5m", "x"] {
        let e = err(None, &with_token(&[("LINK_TIMEOUT", bad)]), &no_cli());
        assert_eq!(
            e,
            format!(
                "config error: LINK_TIMEOUT: expected whole seconds from 10 to 3600, got {bad:?}"
            )
        );
    }
}
