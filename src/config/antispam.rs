//! Keys for the anti-spam rules, AI moderation and /broadcast.
//!
//! Kept apart from the other product keys so each group can grow without
//! stepping on the others. `BADWORDS_FILE` is read here, once, at start-up:
//! a missing or unreadable list is a configuration error naming the key,
//! not a filter that silently lets everything through.

use super::build::{on_off, take, text};
use super::{BotToken, Config, Layers, Raw};
use crate::engine::{AntispamConfig, WordList};
use crate::moderation_ai::{ModeratorSettings, DEFAULT_MODEL, DEFAULT_TIMEOUT_SECS};
use std::path::PathBuf;
use std::time::Duration;

/// The longest allowed `ANTISPAM_LINK_DELAY`: an hour.
const MAX_LINK_DELAY_SECS: u64 = 3600;
/// The highest allowed `BROADCAST_RATE`: Telegram's own bulk limit.
const MAX_BROADCAST_RATE: u32 = 30;
/// The longest allowed `MODERATION_TIMEOUT`.
const MAX_MODERATION_TIMEOUT_SECS: u64 = 30;

/// The keys of this group, as `build` reads them.
pub(super) struct AntispamKeys {
    pub antispam: AntispamConfig,
    pub badwords_file: Option<PathBuf>,
    pub moderator: Option<ModeratorSettings>,
    pub broadcast_rate: u32,
}

pub(super) fn read(
    layers: &mut Layers,
    token: &BotToken,
    defaults: &Config,
) -> Result<AntispamKeys, super::ConfigError> {
    let (l, t, d) = (layers, token, defaults);
    let link_delay = take(l, "ANTISPAM_LINK_DELAY", t, link_delay)?;
    let block_links = take(l, "ANTISPAM_BLOCK_LINKS", t, on_off)?;
    let captcha = take(l, "CAPTCHA", t, on_off)?;
    let badwords = take(l, "BADWORDS_FILE", t, badwords_file)?;
    let url = take(l, "MODERATION_URL", t, moderation_url)?;
    if url.is_none() {
        // A key without a URL is a half-done setup: say so rather than run
        // without the moderation the operator thinks is on.
        if let Some((_, origin)) = l.get("MODERATION_KEY") {
            return Err(super::ConfigError::Invalid {
                key: "MODERATION_KEY",
                origin: origin.clone(),
                reason: "is set but MODERATION_URL is not; set both, or neither".into(),
            });
        }
    }
    let key = take(l, "MODERATION_KEY", t, text)?;
    let model = take(l, "MODERATION_MODEL", t, text)?;
    let timeout = take(l, "MODERATION_TIMEOUT", t, moderation_timeout)?;
    let broadcast_rate = take(l, "BROADCAST_RATE", t, broadcast_rate)?;
    let (badwords_file, words) = match badwords {
        Some((path, words)) => (Some(path), words),
        None => (None, d.antispam.words.clone()),
    };
    Ok(AntispamKeys {
        antispam: AntispamConfig {
            link_delay: link_delay.unwrap_or(d.antispam.link_delay),
            block_links: block_links.unwrap_or(d.antispam.block_links),
            captcha: captcha.unwrap_or(d.antispam.captcha),
            words,
        },
        badwords_file,
        moderator: url.map(|url| ModeratorSettings {
            url,
            key,
            model: model.unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
            timeout: timeout.unwrap_or(Duration::from_secs(DEFAULT_TIMEOUT_SECS)),
        }),
        broadcast_rate: broadcast_rate.unwrap_or(d.broadcast_rate),
    })
}

/// Whole seconds; 0 turns the rule off.
fn link_delay(raw: Raw) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if secs <= MAX_LINK_DELAY_SECS => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "expected whole seconds from 0 (off) to {MAX_LINK_DELAY_SECS}, got {s:?}"
        )),
    }
}

/// The list file, read now.
fn badwords_file(raw: Raw) -> Result<(PathBuf, WordList), String> {
    let path = PathBuf::from(text(raw)?);
    match std::fs::read_to_string(&path) {
        Ok(contents) => Ok((path, WordList::parse(&contents))),
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

fn moderation_url(raw: Raw) -> Result<url::Url, String> {
    let s = text(raw)?;
    let expected = "expected an http(s) URL such as https://api.openai.com/v1/moderations";
    let url = url::Url::parse(&s).map_err(|e| format!("{expected} ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("{expected}, got scheme {other:?}")),
    }
}

/// Whole seconds from 1 to 30.
fn moderation_timeout(raw: Raw) -> Result<Duration, String> {
    let s = text(raw)?;
    match s.parse::<u64>() {
        Ok(secs) if (1..=MAX_MODERATION_TIMEOUT_SECS).contains(&secs) => {
            Ok(Duration::from_secs(secs))
        }
        _ => Err(format!(
            "expected whole seconds from 1 to {MAX_MODERATION_TIMEOUT_SECS}, got {s:?}"
        )),
    }
}

/// Copies per second, from 1 to 30.
fn broadcast_rate(raw: Raw) -> Result<u32, String> {
    let s = text(raw)?;
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_BROADCAST_RATE).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected messages per second from 1 to {MAX_BROADCAST_RATE}, got {s:?}"
        )),
    }
}

/// This group's rows for `check-config`, secrets masked.
pub(super) fn rows(config: &Config) -> Vec<(&'static str, String)> {
    let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
    let delay = config.antispam.link_delay.as_secs();
    let moderator = config.moderator.as_ref();
    vec![
        (
            "ANTISPAM_LINK_DELAY",
            if delay == 0 {
                "off".into()
            } else {
                format!("{delay}s")
            },
        ),
        ("ANTISPAM_BLOCK_LINKS", on_off(config.antispam.block_links)),
        ("CAPTCHA", on_off(config.antispam.captcha)),
        (
            "BADWORDS_FILE",
            match &config.badwords_file {
                Some(path) => format!(
                    "{} ({} entries)",
                    path.display(),
                    config.antispam.words.len()
                ),
                None => "(not set)".into(),
            },
        ),
        (
            "MODERATION_URL",
            moderator.map_or("(not set: no text leaves the machine)".into(), |m| {
                let mut url = m.url.clone();
                if url.password().is_some() {
                    let _ = url.set_password(Some(super::MASK));
                }
                url.set_query(None);
                url.to_string()
            }),
        ),
        (
            "MODERATION_KEY",
            match moderator.and_then(|m| m.key.as_ref()) {
                Some(_) => super::MASK.into(),
                None => "(not set)".into(),
            },
        ),
        (
            "MODERATION_MODEL",
            moderator.map_or(DEFAULT_MODEL.into(), |m| m.model.clone()),
        ),
        (
            "MODERATION_TIMEOUT",
            format!(
                "{}s",
                moderator.map_or(DEFAULT_TIMEOUT_SECS, |m| m.timeout.as_secs())
            ),
        ),
        ("BROADCAST_RATE", format!("{}/s", config.broadcast_rate)),
    ]
}
