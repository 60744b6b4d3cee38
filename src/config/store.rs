//! Keys that choose where state lives: `STORE`, `REDIS_URL` (parsed in
//! `build`), `REDIS_PREFIX`.
//!
//! The Redis store is used when `REDIS_URL` is set or `STORE=redis`;
//! `STORE=embedded` forces the redb file even with `REDIS_URL` set (say, in a
//! shared `.env`). `STORE=redis` without a URL is an error naming
//! `REDIS_URL`, because guessing a server would be worse than stopping.

use super::{ConfigError, Raw};

/// Which backend the bot runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreKind {
    /// Decided by whether `REDIS_URL` is set.
    #[default]
    Auto,
    Embedded,
    Redis,
}

/// The backend, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// `DATA_DIR/randchat.redb`.
    Embedded,
    /// A Redis-protocol server, every key under `prefix`.
    Redis { url: String, prefix: String },
}

/// Default of `REDIS_PREFIX`.
pub const DEFAULT_REDIS_PREFIX: &str = crate::store::redis::DEFAULT_PREFIX;
/// The longest allowed `REDIS_PREFIX`.
const MAX_PREFIX_LEN: usize = 64;

pub(super) fn store_kind(raw: Raw) -> Result<StoreKind, String> {
    match single(raw)?.to_ascii_lowercase().as_str() {
        "embedded" => Ok(StoreKind::Embedded),
        "redis" => Ok(StoreKind::Redis),
        other => Err(format!("expected embedded or redis, got {other:?}")),
    }
}

/// Parses `REDIS_PREFIX`: printable ASCII without spaces, at most 64
/// bytes, so keys stay readable in `redis-cli` and logs.
pub(super) fn redis_prefix(raw: Raw) -> Result<String, String> {
    let s = single(raw)?;
    if s.len() > MAX_PREFIX_LEN {
        return Err(format!(
            "at most {MAX_PREFIX_LEN} characters, got {}",
            s.len()
        ));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("use letters, digits and punctuation only (no spaces), e.g. randchat:".into());
    }
    Ok(s)
}

/// The longest allowed `INSTANCE_ID`.
const MAX_INSTANCE_ID_LEN: usize = 64;

/// Parses `INSTANCE_ID`: 1 to 64 of `A-Z a-z 0-9 . _ -`, since it becomes
/// part of Redis keys (`outbox:<id>`, `alive:<id>`) and log lines.
pub(super) fn instance_id(raw: Raw) -> Result<String, String> {
    let s = single(raw)?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    if s.is_empty() || s.len() > MAX_INSTANCE_ID_LEN || !s.bytes().all(allowed) {
        return Err(format!(
            "expected 1 to {MAX_INSTANCE_ID_LEN} characters of A-Z, a-z, 0-9, '.', '_' and '-', e.g. bot-1"
        ));
    }
    Ok(s)
}

/// The default `INSTANCE_ID`: the host name and the webhook port (or
/// `poll`), stable across restarts of the same instance, so a restarted
/// instance finds its own outbox, and distinct for two instances on one
/// host as long as they listen on different ports.
pub fn default_instance_id(webhook: Option<&super::WebhookConfig>) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '-',
        })
        .take(48)
        .collect();
    let host = if host.is_empty() {
        "randchat".to_owned()
    } else {
        host
    };
    match webhook {
        Some(webhook) => format!("{host}-{}", webhook.listen.port()),
        None => format!("{host}-poll"),
    }
}

fn single(raw: Raw) -> Result<String, String> {
    match raw {
        Raw::Text(s) => Ok(s.trim().to_owned()),
        Raw::List(_) => Err("expected a single value, got a list".into()),
        Raw::Other(what) => Err(format!("expected a single value, got {what}")),
    }
}

/// Resolves the backend from the three keys.
pub(super) fn choose(
    kind: StoreKind,
    url: Option<&str>,
    prefix: &str,
) -> Result<StoreChoice, ConfigError> {
    match (kind, url) {
        (StoreKind::Embedded, _) | (StoreKind::Auto, None) => Ok(StoreChoice::Embedded),
        (StoreKind::Redis | StoreKind::Auto, Some(url)) => Ok(StoreChoice::Redis {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
        }),
        (StoreKind::Redis, None) => Err(ConfigError::Missing {
            key: "REDIS_URL",
            hint: "STORE=redis needs the server's address, e.g. REDIS_URL=redis://127.0.0.1:6379/0",
        }),
    }
}

/// How `check-config` shows the choice.
pub(super) fn show_store(choice: &StoreChoice) -> String {
    match choice {
        StoreChoice::Embedded => "embedded".to_owned(),
        StoreChoice::Redis { .. } => "redis".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load_from, CliOverrides, Config};
    use super::StoreChoice;
    use std::ffi::OsString;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn load(vars: &[(&str, &str)]) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut env: Vec<(OsString, OsString)> = vec![("BOT_TOKEN".into(), TOKEN.into())];
        env.extend(vars.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        load_from(&CliOverrides::default(), env, dir.path()).map_err(|e| e.to_string())
    }

    fn redis(url: &str, prefix: &str) -> StoreChoice {
        StoreChoice::Redis {
            url: url.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn embedded_unless_redis_is_configured() {
        assert_eq!(load(&[]).unwrap().store, StoreChoice::Embedded);
        let url = "redis://db:6379/0";
        assert_eq!(
            load(&[("REDIS_URL", url)]).unwrap().store,
            redis(url, "randchat:")
        );
        assert_eq!(
            load(&[
                ("REDIS_URL", url),
                ("STORE", "redis"),
                ("REDIS_PREFIX", "bot2:")
            ])
            .unwrap()
            .store,
            redis(url, "bot2:")
        );
        let forced = load(&[("REDIS_URL", url), ("STORE", "Embedded")]).unwrap();
        assert_eq!(forced.store, StoreChoice::Embedded);
        let summary = forced.masked_summary();
        assert!(
            summary.contains("STORE              = embedded"),
            "{summary}"
        );
    }

    #[test]
    fn store_redis_without_a_url_names_redis_url() {
        let e = load(&[("STORE", "redis")]).unwrap_err();
        assert!(e.starts_with("config error: REDIS_URL is missing"), "{e}");
        assert!(e.contains("STORE=redis"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn bad_store_and_prefix_values_name_their_key() {
        let e = load(&[("STORE", "postgres")]).unwrap_err();
        assert!(
            e.starts_with("config error: STORE: expected embedded or redis"),
            "{e}"
        );
        let e = load(&[("REDIS_URL", "redis://db"), ("REDIS_PREFIX", "my bot")]).unwrap_err();
        assert!(e.starts_with("config error: REDIS_PREFIX: "), "{e}");
        let long = "x".repeat(65);
        let e = load(&[("REDIS_URL", "redis://db"), ("REDIS_PREFIX", &long)]).unwrap_err();
        assert!(
            e.starts_with("config error: REDIS_PREFIX: at most 64"),
            "{e}"
        );
    }
}
