//! The moderation keys: REPORT_BAN_THRESHOLD, REPORT_WINDOW and BAN_DURATION.

use super::*;

#[test]
fn moderation_defaults_and_summary() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.moderation, ModerationConfig::default());
    assert_eq!(c.moderation.report_ban_threshold, 3);
    assert_eq!(c.moderation.report_window, Duration::from_secs(86_400));
    assert_eq!(c.moderation.ban_duration, Duration::from_secs(86_400));
    let summary = c.masked_summary();
    for row in [
        "REPORT_BAN_THRESHOLD = 3 users",
        "REPORT_WINDOW      = 86400s",
        "BAN_DURATION       = 86400s",
    ] {
        assert!(summary.contains(row), "{row:?} not in\n{summary}");
    }
}

#[test]
fn moderation_keys_from_toml_env_and_alias() {
    let toml = "report_ban_threshold = 5\nreport_window = 3600\nban_duration = \"7200\"\n";
    let c = ok(Some(toml), &with_token(&[]), &no_cli());
    assert_eq!(c.moderation.report_ban_threshold, 5);
    assert_eq!(c.moderation.report_window, Duration::from_secs(3600));
    assert_eq!(c.moderation.ban_duration, Duration::from_secs(7200));
    let vars = [
        ("REPORT_BAN_THRESHOLD", "0"),
        ("BAN_DURATION", "60"),
        ("RANDCHAT_BAN_DURATION", "120"),
    ];
    let c = ok(Some(toml), &with_token(&vars), &no_cli());
    assert_eq!(c.moderation.report_ban_threshold, 0);
    assert_eq!(c.moderation.ban_duration, Duration::from_secs(120));
    assert!(c.masked_summary().contains("REPORT_BAN_THRESHOLD = off"));
}

#[test]
fn bad_moderation_values_name_the_key() {
    let cases = [
        (
            "REPORT_BAN_THRESHOLD",
            "-1",
            "expected a number of users from 0 (off) to 1000",
        ),
        (
            "REPORT_BAN_THRESHOLD",
            "1001",
            "expected a number of users from 0 (off) to 1000",
        ),
        (
            "REPORT_WINDOW",
            "59",
            "expected whole seconds from 60 to 604800 (a week)",
        ),
        (
            "REPORT_WINDOW",
            "1d",
            "expected whole seconds from 60 to 604800 (a week)",
        ),
        (
            "BAN_DURATION",
            "31536001",
            "expected whole seconds from 60 to 31536000 (a year)",
        ),
    ];
    for (key, bad, expected) in cases {
        let e = err(None, &with_token(&[(key, bad)]), &no_cli());
        assert_eq!(e, format!("config error: {key}: {expected}, got {bad:?}"));
    }
    let e = err(Some("ban_duration = [1]"), &with_token(&[]), &no_cli());
    assert!(
        e.starts_with("config error: BAN_DURATION (ban_duration in"),
        "{e}"
    );
}
