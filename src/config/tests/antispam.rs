//! The anti-spam, AI moderation and broadcast keys.

use super::*;

#[test]
fn antispam_defaults_send_nothing_anywhere() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.antispam, crate::engine::AntispamConfig::default());
    assert_eq!(c.antispam.link_delay, Duration::from_secs(30));
    assert!(!c.antispam.captcha && !c.antispam.block_links);
    assert!(c.antispam.words.is_empty());
    assert_eq!(c.moderator, None, "no MODERATION_URL: no moderator");
    assert_eq!(c.broadcast_rate, 10);
    let summary = c.masked_summary();
    for row in [
        "ANTISPAM_LINK_DELAY = 30s",
        "CAPTCHA            = off",
        "MODERATION_URL     = (not set: no text leaves the machine)",
        "BROADCAST_RATE     = 10/s",
    ] {
        assert!(summary.contains(row), "{row:?} not in\n{summary}");
    }
}

#[test]
fn antispam_keys_are_read_and_the_key_is_masked() {
    let list = tempfile::NamedTempFile::new().unwrap();
    fs::write(list.path(), "# words\nspamword\nbit.ly\n").unwrap();
    let path = list.path().to_str().unwrap().to_owned();
    let path: &'static str = Box::leak(path.into_boxed_str());
    let vars = [
        ("ANTISPAM_LINK_DELAY", "0"),
        ("ANTISPAM_BLOCK_LINKS", "on"),
        ("CAPTCHA", "on"),
        ("BADWORDS_FILE", path),
        ("MODERATION_URL", "http://127.0.0.1:9/v1/moderations"),
        ("MODERATION_KEY", "sk-very-secret"),
        ("MODERATION_TIMEOUT", "5"),
        ("RANDCHAT_BROADCAST_RATE", "2"),
    ];
    let c = ok(None, &with_token(&vars), &no_cli());
    assert_eq!(c.antispam.link_delay, Duration::ZERO);
    assert!(c.antispam.captcha && c.antispam.block_links);
    assert_eq!(c.antispam.words.len(), 2);
    let moderator = c.moderator.clone().expect("configured");
    assert_eq!(moderator.key.as_deref(), Some("sk-very-secret"));
    assert_eq!(moderator.model, "omni-moderation-latest");
    assert_eq!(moderator.timeout, Duration::from_secs(5));
    assert_eq!(c.broadcast_rate, 2);
    let summary = c.masked_summary();
    assert!(!summary.contains("sk-very-secret"), "{summary}");
    assert!(!format!("{c:?}").contains("sk-very-secret"));
    assert!(summary.contains("(2 entries)"), "{summary}");
    assert!(summary.contains("ANTISPAM_LINK_DELAY = off"), "{summary}");
}

#[test]
fn bad_antispam_values_name_the_key() {
    let cases = [
        (
            "ANTISPAM_LINK_DELAY",
            "3601",
            "expected whole seconds from 0 (off) to 3600",
        ),
        ("CAPTCHA", "maybe", "expected \"on\" or \"off\""),
        (
            "BROADCAST_RATE",
            "31",
            "expected messages per second from 1 to 30",
        ),
        (
            "BROADCAST_RATE",
            "0",
            "expected messages per second from 1 to 30",
        ),
        (
            "MODERATION_TIMEOUT",
            "0",
            "expected whole seconds from 1 to 30",
        ),
    ];
    for (key, bad, expected) in cases {
        let e = err(None, &with_token(&[(key, bad)]), &no_cli());
        assert_eq!(e, format!("config error: {key}: {expected}, got {bad:?}"));
    }
    let e = err(
        None,
        &with_token(&[("MODERATION_URL", "ftp://x/v1/moderations")]),
        &no_cli(),
    );
    assert!(
        e.starts_with("config error: MODERATION_URL: expected an http(s) URL"),
        "{e}"
    );
    let e = err(None, &with_token(&[("MODERATION_KEY", "sk-x")]), &no_cli());
    assert_eq!(
        e,
        "config error: MODERATION_KEY: is set but MODERATION_URL is not; set both, or neither"
    );
    let e = err(
        None,
        &with_token(&[("BADWORDS_FILE", "/nonexistent/words.txt")]),
        &no_cli(),
    );
    assert!(
        e.starts_with("config error: BADWORDS_FILE: cannot read /nonexistent/words.txt"),
        "{e}"
    );
}
