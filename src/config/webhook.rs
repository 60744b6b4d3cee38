//! Keys for webhook mode: `WEBHOOK_URL`, `WEBHOOK_SECRET`, `WEBHOOK_LISTEN`.
//!
//! Kept apart from the product keys because they belong together: a URL
//! without a secret is refused (anyone who guessed the URL could then feed
//! the bot forged updates), and the listen address only matters when the
//! URL is set. With `WEBHOOK_URL` unset the bot long-polls as before.
//!
//! The URL must be `https://`, as Telegram requires, except on a loopback
//! host, where `http://` is accepted for a self-hosted Bot API server on the
//! same machine and for the tests' fake. `WEBHOOK_SECRET` is what Telegram
//! echoes in `X-Telegram-Bot-Api-Secret-Token`: 1–256 of `A-Z a-z 0-9 _ -`,
//! exactly as `setWebhook` allows.

use super::{ConfigError, Raw};
use std::net::SocketAddr;
use url::Url;

/// Default of `WEBHOOK_LISTEN`: all interfaces, port 8443 (one of the four
/// ports Telegram delivers to), usually behind a TLS-terminating proxy.
pub const DEFAULT_WEBHOOK_LISTEN: &str = "0.0.0.0:8443";
/// The longest secret `setWebhook` accepts.
const MAX_SECRET_LEN: usize = 256;

/// Webhook mode, when `WEBHOOK_URL` is set.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The public URL Telegram POSTs updates to; its path is the route served.
    pub url: Url,
    /// The secret token Telegram must send with every update.
    pub secret: WebhookSecret,
    /// Where the webhook server listens.
    pub listen: SocketAddr,
}

/// `WEBHOOK_SECRET`, validated. Never printed: `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(s: &str) -> Result<Self, String> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if s.is_empty() || s.len() > MAX_SECRET_LEN || !s.bytes().all(allowed) {
            return Err(format!(
                "expected 1 to {MAX_SECRET_LEN} characters of A-Z, a-z, 0-9, _ and - ({} characters given{})",
                s.chars().count(),
                if s.bytes().all(allowed) { "" } else { ", some not allowed" }
            ));
        }
        Ok(WebhookSecret(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(super::MASK)
    }
}

pub(super) fn default_listen() -> SocketAddr {
    DEFAULT_WEBHOOK_LISTEN
        .parse()
        .expect("the default address parses")
}

fn single(raw: Raw) -> Result<String, String> {
    match raw {
        Raw::Text(s) => Ok(s.trim().to_owned()),
        Raw::List(_) => Err("expected a single value, got a list".into()),
        Raw::Other(what) => Err(format!("expected a single value, got {what}")),
    }
}

pub(super) fn url(raw: Raw) -> Result<Url, String> {
    let s = single(raw)?;
    let url = Url::parse(&s).map_err(|e| {
        format!("expected an https URL such as https://bot.example.com/telegram ({e})")
    })?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err("Telegram delivers only to https:// URLs (http:// is accepted for a loopback host only)".into()),
        other => Err(format!("expected an https URL, got scheme {other:?}")),
    }
}

pub(super) fn secret(raw: Raw) -> Result<WebhookSecret, String> {
    WebhookSecret::parse(&single(raw)?)
}

pub(super) fn listen(raw: Raw) -> Result<SocketAddr, String> {
    let s = single(raw)?;
    s.parse().map_err(|_| {
        format!("expected ip:port such as {DEFAULT_WEBHOOK_LISTEN} or 127.0.0.1:8443, got {s:?}")
    })
}

/// Puts the three keys together: a URL needs a secret.
pub(super) fn assemble(
    url: Option<Url>,
    secret: Option<WebhookSecret>,
    listen: Option<SocketAddr>,
) -> Result<Option<WebhookConfig>, ConfigError> {
    let Some(url) = url else {
        return Ok(None);
    };
    let secret = secret.ok_or(ConfigError::Missing {
        key: "WEBHOOK_SECRET",
        hint: "WEBHOOK_URL is set, so Telegram's requests must carry a secret: set WEBHOOK_SECRET to 1-256 characters of A-Z a-z 0-9 _ -",
    })?;
    Ok(Some(WebhookConfig {
        url,
        secret,
        listen: listen.unwrap_or_else(default_listen),
    }))
}

/// How `check-config` shows the three keys.
pub(super) fn rows(webhook: &Option<WebhookConfig>) -> [(&'static str, String); 3] {
    match webhook {
        None => [
            ("WEBHOOK_URL", "(not set: long polling)".to_owned()),
            ("WEBHOOK_SECRET", "(not set)".to_owned()),
            ("WEBHOOK_LISTEN", "(unused)".to_owned()),
        ],
        Some(w) => [
            ("WEBHOOK_URL", w.url.to_string()),
            ("WEBHOOK_SECRET", super::MASK.to_owned()),
            ("WEBHOOK_LISTEN", w.listen.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load_from, CliOverrides, Config};
    use std::ffi::OsString;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut env: Vec<(OsString, OsString)> = vec![("BOT_TOKEN".into(), TOKEN.into())];
        env.extend(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        load_from(&CliOverrides::default(), env, dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn no_url_means_long_polling() {
        assert!(load(&[]).unwrap().webhook.is_none());
        // A secret alone changes nothing.
        assert!(load(&[("WEBHOOK_SECRET", "abc")])
            .unwrap()
            .webhook
            .is_none());
    }

    #[test]
    fn url_and_secret_make_webhook_mode() {
        let c = load(&[
            ("WEBHOOK_URL", "https://bot.example.com/tg"),
            ("WEBHOOK_SECRET", "s3cr3t_-X"),
        ])
        .unwrap();
        let w = c.webhook.clone().unwrap();
        assert_eq!(w.url.as_str(), "https://bot.example.com/tg");
        assert_eq!(w.secret.expose(), "s3cr3t_-X");
        assert_eq!(w.listen, "0.0.0.0:8443".parse().unwrap());
        let summary = c.masked_summary();
        assert!(!summary.contains("s3cr3t_-X"), "{summary}");
        assert!(!format!("{c:?}").contains("s3cr3t_-X"));
    }

    #[test]
    fn a_url_without_a_secret_names_the_secret() {
        let e = load(&[("WEBHOOK_URL", "https://bot.example.com/tg")]).unwrap_err();
        assert!(
            e.starts_with("config error: WEBHOOK_SECRET is missing"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[test]
    fn bad_values_name_their_key() {
        let url = ("WEBHOOK_URL", "https://bot.example.com/tg");
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[url, ("WEBHOOK_SECRET", "has space")], "WEBHOOK_SECRET"),
            (&[url, ("WEBHOOK_SECRET", "dollar$")], "WEBHOOK_SECRET"),
            (
                &[url, ("WEBHOOK_SECRET", &"x".repeat(257))],
                "WEBHOOK_SECRET",
            ),
            (
                &[
                    ("WEBHOOK_URL", "http://bot.example.com/tg"),
                    ("WEBHOOK_SECRET", "a"),
                ],
                "WEBHOOK_URL",
            ),
            (
                &[("WEBHOOK_URL", "bot.example.com"), ("WEBHOOK_SECRET", "a")],
                "WEBHOOK_URL",
            ),
            (
                &[url, ("WEBHOOK_SECRET", "a"), ("WEBHOOK_LISTEN", "8443")],
                "WEBHOOK_LISTEN",
            ),
        ];
        for (pairs, key) in cases {
            let e = load(pairs).expect_err(key);
            assert!(e.starts_with(&format!("config error: {key}: ")), "{e}");
        }
        let longest = "x".repeat(256);
        assert!(load(&[url, ("WEBHOOK_SECRET", longest.as_str())]).is_ok());
        assert!(load(&[
            ("WEBHOOK_URL", "http://127.0.0.1:9000/hook"),
            ("WEBHOOK_SECRET", "a")
        ])
        .is_ok());
    }
}
