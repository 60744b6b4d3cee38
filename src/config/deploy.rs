//! Keys for running randchat as a service: where the admin HTTP server
//! listens, and the token that opens its dashboard.
//!
//! Kept apart from the product keys so that deployment settings and chat
//! settings can grow without stepping on each other.
//!
//! `ADMIN_LISTEN` is an `ip:port` to bind, or `off`. The default binds to
//! loopback only: /healthz and /readyz say nothing secret, but a future
//! dashboard or /metrics will, so exposing the server beyond the host (as the
//! container image does with `0.0.0.0:8080`) must be a deliberate choice.
//! Port 0 asks the kernel for a free port; the bound address is logged
//! ("admin server listening", field `addr`), which is how tests find it.
//!
//! `ADMIN_TOKEN` opens the dashboard at `/`; unset, the dashboard is off.
//! It is a secret like the bot token: [`AdminToken`] never prints it, and an
//! error about it says what is wrong without quoting it. It must be long
//! enough that guessing it over HTTP is hopeless.

use super::Raw;
use std::net::SocketAddr;

/// Default of `ADMIN_LISTEN`.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8080";

pub(super) fn default_admin_listen() -> Option<SocketAddr> {
    Some(
        DEFAULT_ADMIN_LISTEN
            .parse()
            .expect("the default address parses"),
    )
}

/// Parses `ADMIN_LISTEN`: `off`, or an `ip:port` such as `0.0.0.0:8080` or
/// `[::1]:8080`. Host names are refused: what a name resolves to can change,
/// and a bind address should not.
pub(super) fn admin_listen(raw: Raw) -> Result<Option<SocketAddr>, String> {
    let s = match raw {
        Raw::Text(s) => s.trim().to_owned(),
        Raw::List(_) => return Err("expected a single value, got a list".into()),
        Raw::Other(what) => return Err(format!("expected a single value, got {what}")),
    };
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    s.parse::<SocketAddr>().map(Some).map_err(|_| {
        format!(
            "expected ip:port such as {DEFAULT_ADMIN_LISTEN} or 0.0.0.0:8080, or \"off\", got {s:?}"
        )
    })
}

/// The shortest `ADMIN_TOKEN` accepted.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 16;

/// The dashboard's shared secret. `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// The secret itself, for comparing with what a client presents.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***masked***")
    }
}

/// Parses `ADMIN_TOKEN`: empty means unset (dashboard off); otherwise at
/// least [`MIN_ADMIN_TOKEN_CHARS`] printable characters without spaces.
pub(super) fn admin_token(raw: Raw) -> Result<Option<AdminToken>, String> {
    let s = match raw {
        Raw::Text(s) => s.trim().to_owned(),
        Raw::List(_) => return Err("expected a single value, got a list".into()),
        Raw::Other(what) => return Err(format!("expected a single value, got {what}")),
    };
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let chars = s.chars().count();
    if chars < MIN_ADMIN_TOKEN_CHARS {
        return Err(format!(
            "too short ({chars} characters); use at least {MIN_ADMIN_TOKEN_CHARS}, e.g. the output of `openssl rand -hex 32`"
        ));
    }
    Ok(Some(AdminToken(s)))
}

/// How `check-config` shows `ADMIN_TOKEN`.
pub(super) fn show_admin_token(value: Option<&AdminToken>) -> String {
    match value {
        Some(_) => "***masked*** (dashboard on)".to_owned(),
        None => "(not set: dashboard off)".to_owned(),
    }
}

/// How `check-config` shows the value.
pub(super) fn show_admin_listen(value: Option<SocketAddr>) -> String {
    value.map_or_else(|| "off".to_owned(), |addr| addr.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{load_from, CliOverrides};
    use std::ffi::OsString;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn load(value: Option<&str>) -> Result<super::super::Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut env: Vec<(OsString, OsString)> = vec![("BOT_TOKEN".into(), TOKEN.into())];
        if let Some(value) = value {
            env.push(("ADMIN_LISTEN".into(), value.into()));
        }
        load_from(&CliOverrides::default(), env, dir.path()).map_err(|e| e.to_string())
    }

    /// The `ADMIN_LISTEN` line of `check-config`.
    fn row(c: &super::super::Config) -> String {
        let summary = c.masked_summary();
        let line = summary.lines().find(|l| l.starts_with("ADMIN_LISTEN "));
        line.expect("an ADMIN_LISTEN row").to_owned()
    }

    #[test]
    fn admin_listen_defaults_to_loopback_8080() {
        let c = load(None).unwrap();
        assert_eq!(c.admin_listen, Some("127.0.0.1:8080".parse().unwrap()));
        assert!(row(&c).ends_with("= 127.0.0.1:8080"), "{}", row(&c));
    }

    #[test]
    fn admin_listen_accepts_addresses_and_off() {
        let c = load(Some("0.0.0.0:9000")).unwrap();
        assert_eq!(c.admin_listen, Some("0.0.0.0:9000".parse().unwrap()));
        let c = load(Some("[::1]:0")).unwrap();
        assert_eq!(c.admin_listen, Some("[::1]:0".parse().unwrap()));
        let c = load(Some("OFF")).unwrap();
        assert_eq!(c.admin_listen, None);
        assert!(row(&c).ends_with("= off"), "{}", row(&c));
    }

    #[test]
    fn a_bad_admin_listen_is_one_line_naming_the_key() {
        for bad in ["8080", "localhost:8080", "127.0.0.1", "127.0.0.1:99999"] {
            let e = load(Some(bad)).expect_err(bad);
            assert!(e.starts_with("config error: ADMIN_LISTEN: "), "{e}");
            assert!(e.contains("\"off\""), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    fn load_token(value: &str) -> Result<super::super::Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let env: Vec<(OsString, OsString)> = vec![
            ("BOT_TOKEN".into(), TOKEN.into()),
            ("ADMIN_TOKEN".into(), value.into()),
        ];
        load_from(&CliOverrides::default(), env, dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn admin_token_is_optional_checked_and_never_shown() {
        assert!(load(None).unwrap().admin_token.is_none());
        assert!(load_token("").unwrap().admin_token.is_none());
        let secret = "s3cret-dashboard-token-0123456789";
        let config = load_token(secret).unwrap();
        assert_eq!(config.admin_token.as_ref().unwrap().expose(), secret);
        assert!(!config.masked_summary().contains(secret));
        assert!(!format!("{config:?}").contains(secret));
        for bad in ["q7Zk", "has a space in it 0123456789"] {
            let e = load_token(bad).unwrap_err();
            assert!(e.starts_with("config error: ADMIN_TOKEN"), "{e}");
            assert!(!e.contains(bad), "the error quotes the secret: {e}");
            assert_eq!(e.lines().count(), 1);
        }
    }
}
