//! The matching keys: `MATCH_RELAX_AFTER`, `NO_REPEAT_PARTNERS`,
//! `NO_REPEAT_WINDOW` (see `engine::matching` for what they do).

use super::build::{take_key, text};
use super::{BotToken, ConfigError, Layers};
use crate::engine::MatchConfig;
use std::time::Duration;

/// The longest `MATCH_RELAX_AFTER` and `NO_REPEAT_WINDOW`: a day.
const MAX_MATCH_SECS: u64 = 24 * 3600;
/// The most recent partners `NO_REPEAT_PARTNERS` may name.
const MAX_NO_REPEAT_PARTNERS: u32 = crate::engine::matching::MAX_NO_REPEAT_PARTNERS as u32;

pub(super) fn build(
    layers: &mut Layers,
    token: &BotToken,
    d: MatchConfig,
) -> Result<MatchConfig, ConfigError> {
    Ok(MatchConfig {
        relax_after: take_key(layers, "MATCH_RELAX_AFTER", token, relax_after)?
            .unwrap_or(d.relax_after),
        no_repeat_partners: take_key(layers, "NO_REPEAT_PARTNERS", token, partners)?
            .unwrap_or(d.no_repeat_partners),
        no_repeat_window: take_key(layers, "NO_REPEAT_WINDOW", token, window)?
            .unwrap_or(d.no_repeat_window),
    })
}

fn secs(raw: super::Raw, min: u64) -> Result<u64, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if (min..=MAX_MATCH_SECS).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "expected whole seconds from {min} to {MAX_MATCH_SECS} (a day), got {s:?}"
        )),
    }
}

/// Whole seconds; 0 (the default) never relaxes.
fn relax_after(raw: super::Raw) -> Result<Option<Duration>, String> {
    Ok(Some(secs(raw, 0)?)
        .filter(|s| *s > 0)
        .map(Duration::from_secs))
}

fn window(raw: super::Raw) -> Result<Duration, String> {
    secs(raw, 1).map(Duration::from_secs)
}

fn partners(raw: super::Raw) -> Result<u32, String> {
    let s = text(raw)?;
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_NO_REPEAT_PARTNERS => Ok(n),
        _ => Err(format!(
            "expected a count from 0 (off) to {MAX_NO_REPEAT_PARTNERS}, got {s:?}"
        )),
    }
}

/// The rows `check-config` prints.
pub(super) fn rows(m: &MatchConfig) -> [(&'static str, String); 3] {
    [
        (
            "MATCH_RELAX_AFTER",
            m.relax_after
                .map_or("off".to_owned(), |d| format!("{}s", d.as_secs())),
        ),
        (
            "NO_REPEAT_PARTNERS",
            match m.no_repeat_partners {
                0 => "off".to_owned(),
                n => n.to_string(),
            },
        ),
        (
            "NO_REPEAT_WINDOW",
            format!("{}s", m.no_repeat_window.as_secs()),
        ),
    ]
}
