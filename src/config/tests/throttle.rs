//! The outbound throttle's keys: THROTTLE, THROTTLE_GLOBAL_RATE,
//! THROTTLE_CHAT_RATE and THROTTLE_CHAT_BURST.

use super::*;
use crate::telegram::throttle::ThrottleConfig;

#[test]
fn throttle_defaults_follow_telegrams_limits() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.throttle, ThrottleConfig::default());
    assert!(c.throttle.enabled);
    assert_eq!(c.throttle.global_per_second, 30.0);
    assert_eq!(c.throttle.chat_per_second, 1.0);
    assert!(
        c.masked_summary().contains("THROTTLE           = on"),
        "{}",
        c.masked_summary()
    );
}

#[test]
fn throttle_keys_from_env_and_toml() {
    let toml = "throttle = \"off\"\nthrottle_chat_burst = 5\n";
    let vars = [
        ("THROTTLE_GLOBAL_RATE", "100"),
        ("RANDCHAT_THROTTLE_CHAT_RATE", "0.5"),
    ];
    let c = ok(Some(toml), &with_token(&vars), &no_cli());
    assert_eq!(
        c.throttle,
        ThrottleConfig {
            enabled: false,
            global_per_second: 100.0,
            chat_per_second: 0.5,
            chat_burst: 5.0,
        }
    );
}

#[test]
fn bad_throttle_values_name_their_key() {
    for (key, value) in [
        ("THROTTLE", "sometimes"),
        ("THROTTLE_GLOBAL_RATE", "0"),
        ("THROTTLE_CHAT_RATE", "fast"),
        ("THROTTLE_CHAT_BURST", "1000"),
    ] {
        let message = err(None, &with_token(&[(key, value)]), &no_cli()).to_string();
        assert!(
            message.starts_with(&format!("config error: {key}")),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
}
