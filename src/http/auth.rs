//! Who may use the dashboard: `ADMIN_TOKEN`, presented as a Bearer header by
//! scripts or exchanged for a session cookie by a browser.
//!
//! Why it looks like this:
//! - One shared token, no user accounts: the dashboard is for the few
//!   people who run the bot, and the token lives where `BOT_TOKEN` does.
//! - Tokens are compared as BLAKE3 hashes, whose equality is constant-time,
//!   so response timing says nothing about how much of a guess was right.
//! - A browser logs in once through a form; the session id is 32 random
//!   bytes in an `HttpOnly; SameSite=Strict` cookie, so page scripts can't
//!   read it and other sites can't make the browser send it.
//! - Every session has its own CSRF token, required in every form that
//!   changes something. Bearer callers need none: a browser never adds that
//!   header on its own.
//! - Sessions live in memory and end after [`SESSION_TTL`], on logout or
//!   on a restart (log in again). At most [`MAX_SESSIONS`] exist; the
//!   oldest is dropped first.

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::HeaderMap;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "randchat_session";
/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept at once.
pub const MAX_SESSIONS: usize = 256;

/// The dashboard's gatekeeper.
pub struct Auth {
    token: blake3::Hash,
    sessions: Mutex<HashMap<String, Session>>,
    opened: std::sync::atomic::AtomicU64,
}

struct Session {
    csrf: String,
    started: Instant,
    /// Order of opening, to drop the oldest first.
    serial: u64,
}

/// Who is calling, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `Authorization: Bearer <ADMIN_TOKEN>`.
    Script,
    /// A logged-in browser, with its session's CSRF token.
    Browser { session: String, csrf: String },
}

impl Caller {
    /// Whether a state-changing request carries what this caller needs:
    /// nothing more for a script, the session's CSRF token for a browser.
    pub fn may_change(&self, csrf: Option<&str>) -> bool {
        match self {
            Caller::Script => true,
            Caller::Browser { csrf: expected, .. } => {
                csrf.is_some_and(|given| same(given, expected))
            }
        }
    }
}

/// Constant-time equality of two secrets.
fn same(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}

/// 32 random bytes as hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    pub fn new(token: &str) -> Self {
        Auth {
            token: blake3::hash(token.as_bytes()),
            sessions: Mutex::new(HashMap::new()),
            opened: Default::default(),
        }
    }

    fn token_matches(&self, given: &str) -> bool {
        blake3::hash(given.as_bytes()) == self.token
    }

    /// Opens a session if `given` is the token: (session id, CSRF token).
    pub fn login(&self, given: &str) -> Option<(String, String)> {
        if !self.token_matches(given) {
            return None;
        }
        let (id, csrf) = (random_hex(), random_hex());
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, s| s.started.elapsed() < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.serial);
            if let Some(oldest) = oldest.map(|(id, _)| id.clone()) {
                sessions.remove(&oldest);
            }
        }
        let serial = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = Session {
            csrf: csrf.clone(),
            started: Instant::now(),
            serial,
        };
        sessions.insert(id.clone(), session);
        Some((id, csrf))
    }

    /// Ends a session.
    pub fn logout(&self, session: &str) {
        self.sessions.lock().remove(session);
    }

    /// The caller these headers authenticate, if any. A wrong Bearer token
    /// is refused even if a valid cookie comes with it.
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        if let Some(value) = headers.get(AUTHORIZATION) {
            let given = value.to_str().ok()?.strip_prefix("Bearer ")?;
            return self.token_matches(given.trim()).then_some(Caller::Script);
        }
        let session = session_cookie(headers)?;
        let sessions = self.sessions.lock();
        let found = sessions
            .get(&session)
            .filter(|s| s.started.elapsed() < SESSION_TTL)?;
        Some(Caller::Browser {
            csrf: found.csrf.clone(),
            session,
        })
    }
}

/// The session id in the request's cookies, if there is one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that opens a session.
pub fn session_cookie_header(session: &str) -> String {
    format!(
        "{COOKIE_NAME}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL.as_secs()
    )
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn expired_cookie_header() -> String {
    format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "a-long-enough-admin-token";

    fn headers(name: &str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        headers
    }

    #[test]
    fn bearer_tokens_and_sessions() {
        let auth = Auth::new(TOKEN);
        let bearer = format!("Bearer {TOKEN}");
        assert_eq!(
            auth.caller(&headers("authorization", &bearer)),
            Some(Caller::Script)
        );
        assert_eq!(auth.caller(&headers("authorization", "Bearer nope")), None);
        assert_eq!(auth.caller(&HeaderMap::new()), None);
        assert!(auth.login("wrong").is_none());

        let (session, csrf) = auth.login(TOKEN).unwrap();
        assert_eq!(session.len(), 64);
        assert_ne!(session, csrf);
        let cookie = format!("other=1; {COOKIE_NAME}={session}");
        let caller = auth.caller(&headers("cookie", &cookie)).unwrap();
        assert!(caller.may_change(Some(&csrf)));
        assert!(!caller.may_change(Some("forged")));
        assert!(!caller.may_change(None));
        let forged = format!("{COOKIE_NAME}={}", "0".repeat(64));
        assert_eq!(auth.caller(&headers("cookie", &forged)), None);

        auth.logout(&session);
        assert_eq!(auth.caller(&headers("cookie", &cookie)), None);
    }

    #[test]
    fn sessions_are_capped() {
        let auth = Auth::new(TOKEN);
        let first = auth.login(TOKEN).unwrap().0;
        for _ in 0..MAX_SESSIONS {
            auth.login(TOKEN).unwrap();
        }
        assert_eq!(auth.sessions.lock().len(), MAX_SESSIONS);
        let cookie = format!("{COOKIE_NAME}={first}");
        assert_eq!(
            auth.caller(&headers("cookie", &cookie)),
            None,
            "the oldest went first"
        );
    }
}
