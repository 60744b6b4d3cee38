//! The matching keys: MATCH_RELAX_AFTER, NO_REPEAT_PARTNERS and
//! NO_REPEAT_WINDOW.

use super::*;
use crate::engine::MatchConfig;

#[test]
fn matching_defaults_and_summary() {
    let c = ok(None, &with_token(&[]), &no_cli());
    assert_eq!(c.matching, MatchConfig::default());
    assert_eq!(c.matching.relax_after, None);
    assert_eq!(c.matching.no_repeat_partners, 3);
    assert_eq!(c.matching.no_repeat_window, Duration::from_secs(3600));
    let summary = c.masked_summary();
    for row in [
        "MATCH_RELAX_AFTER  = off",
        "NO_REPEAT_PARTNERS = 3",
        "NO_REPEAT_WINDOW   = 3600s",
    ] {
        assert!(summary.contains(row), "{row:?} not in\n{summary}");
    }
}

#[test]
fn matching_keys_from_toml_and_env() {
    let toml = "match_relax_after = 90\nno_repeat_partners = 0\nno_repeat_window = \"600\"\n";
    let c = ok(Some(toml), &with_token(&[]), &no_cli());
    assert_eq!(c.matching.relax_after, Some(Duration::from_secs(90)));
    assert_eq!(c.matching.no_repeat_partners, 0);
    assert_eq!(c.matching.no_repeat_window, Duration::from_secs(600));
    assert!(c.masked_summary().contains("NO_REPEAT_PARTNERS = off"));
    let vars = [("MATCH_RELAX_AFTER", "0"), ("NO_REPEAT_PARTNERS", "5")];
    let c = ok(Some(toml), &with_token(&vars), &no_cli());
    assert_eq!(c.matching.relax_after, None);
    assert_eq!(c.matching.no_repeat_partners, 5);
}

#[test]
fn bad_matching_values_name_the_key() {
    let cases = [
        (
            "MATCH_RELAX_AFTER",
            "86401",
            "expected whole seconds from 0 to 86400 (a day)",
        ),
        (
            "MATCH_RELAX_AFTER",
            "1m",
            "expected whole seconds from 0 to 86400 (a day)",
        ),
        (
            "NO_REPEAT_PARTNERS",
            "21",
            "expected a count from 0 (off) to 20",
        ),
        (
            "NO_REPEAT_WINDOW",
            "0",
            "expected whole seconds from 1 to 86400 (a day)",
        ),
    ];
    for (key, bad, expected) in cases {
        let e = err(None, &with_token(&[(key, bad)]), &no_cli());
        assert_eq!(e, format!("config error: {key}: {expected}, got {bad:?}"));
    }
}
