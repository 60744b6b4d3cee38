//! Optional AI moderation: asks an OpenAI-compatible endpoint whether a
//! message's text is acceptable before it is relayed.
//!
//! Why it looks like this:
//! - **Off unless configured.** Without `MODERATION_URL` there is no
//!   [`Moderator`] at all, so no text ever leaves the machine. With it, the
//!   text or caption of each message sent *while chatting* goes to that
//!   endpoint (and nothing else: no user id, no name).
//! - **A trait, in the shell.** The engine stays pure: the shell asks the
//!   [`Moderator`] and hands the engine only "flagged" in a
//!   [`Screening`](crate::engine::Screening). Tests put a fake server
//!   behind the real client.
//! - **Two endpoint shapes.** A URL ending in `/chat/completions` is asked,
//!   as a chat model, to answer `FLAGGED` or `OK`; any other URL is treated
//!   as `/v1/moderations` (`{"model", "input"}` in, `results[0].flagged`
//!   out).
//! - **Fail open.** A timeout or an error lets the message through, counts
//!   `randchat_moderation_checks_total{outcome="error"}` and logs one line
//!   (without the text): a stalled moderator must not stall every chat.
//! - **A flagged message** is not relayed and its sender is told; it is not
//!   reported automatically, because a model's false positive must not
//!   count towards a ban.

use crate::store::BoxFuture;
use std::time::Duration;

/// Default of `MODERATION_MODEL`.
pub const DEFAULT_MODEL: &str = "omni-moderation-latest";
/// Default of `MODERATION_TIMEOUT`, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 3;

/// What the moderator thinks of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    Flagged,
}

/// Why a check gave no verdict. Never carries the text.
#[derive(Debug, thiserror::Error)]
pub enum ModeratorError {
    #[error("the moderation endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the moderation endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the moderation endpoint could not be reached: {0}")]
    Network(String),
    #[error("the moderation endpoint's answer was not understood: {0}")]
    Malformed(String),
}

/// Judges a message's text.
pub trait Moderator: Send + Sync + 'static {
    fn check<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<Verdict, ModeratorError>>;
}

/// Where and how to ask (`MODERATION_URL`, `MODERATION_KEY`,
/// `MODERATION_MODEL`, `MODERATION_TIMEOUT`).
#[derive(Clone, PartialEq, Eq)]
pub struct ModeratorSettings {
    pub url: url::Url,
    pub key: Option<String>,
    pub model: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for ModeratorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModeratorSettings")
            .field("url", &self.url.as_str())
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A client for an OpenAI-compatible moderation or chat endpoint.
pub struct OpenAiModerator {
    http: reqwest::Client,
    settings: ModeratorSettings,
}

impl OpenAiModerator {
    pub fn new(settings: ModeratorSettings) -> Result<Self, ModeratorError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| ModeratorError::Network(e.to_string()))?;
        Ok(OpenAiModerator { http, settings })
    }

    fn is_chat(&self) -> bool {
        self.settings.url.path().ends_with("/chat/completions")
    }

    fn body(&self, text: &str) -> serde_json::Value {
        if self.is_chat() {
            serde_json::json!({
                "model": self.settings.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": "You moderate an anonymous chat. Reply with exactly one word: FLAGGED if the user's message is spam, advertising, harassment, sexual content involving minors, threats or a scam; OK otherwise."},
                    {"role": "user", "content": text},
                ],
            })
        } else {
            serde_json::json!({"model": self.settings.model, "input": text})
        }
    }

    async fn ask(&self, text: &str) -> Result<Verdict, ModeratorError> {
        let mut request = self
            .http
            .post(self.settings.url.clone())
            .json(&self.body(text));
        if let Some(key) = &self.settings.key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| self.failure(e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ModeratorError::Status(status.as_u16()));
        }
        let answer: serde_json::Value = response.json().await.map_err(|e| self.failure(e))?;
        if self.is_chat() {
            chat_verdict(&answer)
        } else {
            moderation_verdict(&answer)
        }
    }

    fn failure(&self, error: reqwest::Error) -> ModeratorError {
        if error.is_timeout() {
            ModeratorError::Timeout(self.settings.timeout)
        } else if error.is_decode() {
            ModeratorError::Malformed(error.to_string())
        } else {
            // Without the URL: it may carry a key in its query.
            ModeratorError::Network(error.without_url().to_string())
        }
    }
}

impl Moderator for OpenAiModerator {
    fn check<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<Verdict, ModeratorError>> {
        let timeout = self.settings.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.ask(text)).await {
                Ok(verdict) => verdict,
                Err(_) => Err(ModeratorError::Timeout(timeout)),
            }
        })
    }
}

/// `/v1/moderations`: flagged if any result is.
fn moderation_verdict(answer: &serde_json::Value) -> Result<Verdict, ModeratorError> {
    let results = answer["results"]
        .as_array()
        .ok_or_else(|| ModeratorError::Malformed("no \"results\" list".into()))?;
    let mut flags = results.iter().map(|r| r["flagged"].as_bool());
    match flags.try_fold(false, |any, flag| flag.map(|f| any || f)) {
        Some(true) => Ok(Verdict::Flagged),
        Some(false) if !results.is_empty() => Ok(Verdict::Clean),
        _ => Err(ModeratorError::Malformed(
            "a result without \"flagged\"".into(),
        )),
    }
}

/// `/v1/chat/completions`: the first choice's reply, FLAGGED or OK.
fn chat_verdict(answer: &serde_json::Value) -> Result<Verdict, ModeratorError> {
    let reply = answer["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| ModeratorError::Malformed("no choices[0].message.content".into()))?;
    let word = reply.trim().trim_matches(|c: char| !c.is_alphabetic());
    match word.to_ascii_uppercase().as_str() {
        "FLAGGED" => Ok(Verdict::Flagged),
        "OK" => Ok(Verdict::Clean),
        _ => Err(ModeratorError::Malformed(
            "the reply was neither FLAGGED nor OK".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moderation_answers() {
        let flagged = json!({"results": [{"flagged": true}]});
        assert_eq!(moderation_verdict(&flagged).unwrap(), Verdict::Flagged);
        let clean = json!({"id": "x", "results": [{"flagged": false, "categories": {}}]});
        assert_eq!(moderation_verdict(&clean).unwrap(), Verdict::Clean);
        for bad in [json!({}), json!({"results": []}), json!({"results": [{}]})] {
            assert!(moderation_verdict(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chat_answers() {
        let reply = |text: &str| json!({"choices": [{"message": {"content": text}}]});
        assert_eq!(chat_verdict(&reply("FLAGGED")).unwrap(), Verdict::Flagged);
        assert_eq!(chat_verdict(&reply(" ok.\n")).unwrap(), Verdict::Clean);
        assert!(chat_verdict(&reply("maybe")).is_err());
        assert!(chat_verdict(&json!({})).is_err());
    }
}
