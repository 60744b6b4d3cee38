//! Logging that never leaks who said what.
//!
//! Logs name users by a keyed pseudonym: a BLAKE3 keyed hash of the user id,
//! with the key derived from the bot token. The same user gets the same
//! pseudonym across restarts (so an operator can follow one user through
//! the logs), but without the token nobody can turn a pseudonym back into a
//! Telegram id by hashing candidate ids. Message content, names and the
//! token itself are never logged.

use crate::domain::UserId;
use std::fmt;

/// Turns user ids into stable, non-reversible log names.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

impl Pseudonymizer {
    /// Derives the pseudonym key from a secret (the bot token).
    pub fn from_secret(secret: &str) -> Self {
        Pseudonymizer {
            key: blake3::derive_key("randchat 2026-11 log pseudonym key", secret.as_bytes()),
        }
    }

    /// A short name for `user`, e.g. `u-3fa9c1d27be0`.
    pub fn user(&self, user: UserId) -> String {
        self.chat(user.0)
    }

    /// A short name for any chat id.
    pub fn chat(&self, chat: i64) -> String {
        let hash = blake3::keyed_hash(&self.key, &chat.to_le_bytes());
        let hex = hash.to_hex();
        format!("u-{}", &hex.as_str()[..12])
    }
}

/// Replaces anything shaped like a bot token (`<digits>:<30+ token chars>`)
/// with `***`. Error texts from the HTTP client quote request URLs, and the
/// Bot API puts the token in every URL.
pub fn scrub_token(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_token_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let digits_end = (i..bytes.len())
            .find(|&j| !bytes[j].is_ascii_digit())
            .unwrap_or(bytes.len());
        let starts_fresh = i == 0 || !bytes[i - 1].is_ascii_digit();
        if starts_fresh && digits_end > i && bytes.get(digits_end) == Some(&b':') {
            let secret_end = (digits_end + 1..bytes.len())
                .find(|&j| !is_token_char(bytes[j]))
                .unwrap_or(bytes.len());
            if secret_end - digits_end > 30 {
                out.push_str("***");
                i = secret_end;
                continue;
            }
        }
        let next = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + next]);
        i += next;
    }
    out
}

/// Installs the global tracing subscriber.
pub fn init(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_keyed_and_do_not_contain_the_id() {
        let a = Pseudonymizer::from_secret("token-a");
        let b = Pseudonymizer::from_secret("token-b");
        let id = UserId(987_654_321);
        assert_eq!(a.user(id), a.user(id));
        assert_ne!(a.user(id), b.user(id));
        assert_ne!(a.user(id), a.user(UserId(987_654_322)));
        assert!(!a.user(id).contains("987654321"));
    }

    #[test]
    fn tokens_are_scrubbed_from_error_texts() {
        let text = "error sending request for url (http://127.0.0.1:8081/bot123456789:AAFakeTokenForTestsOnly_abcdefghijkl/GetUpdates)";
        let scrubbed = scrub_token(text);
        assert!(!scrubbed.contains("AAFakeToken"), "{scrubbed}");
        assert!(
            scrubbed.contains("http://127.0.0.1:8081/bot***/GetUpdates"),
            "{scrubbed}"
        );
        assert_eq!(scrub_token("port 8080: fine ü"), "port 8080: fine ü");
    }
}
