//! The Bot API calls made for (nearly) every update, without teloxide's
//! request machinery: getUpdates, copyMessage, and sendMessage of a plain
//! text (the notices of /chat, /next and /stop).
//!
//! Why: every teloxide call builds its method URL afresh (a URL parse with
//! IDNA), serializes a payload struct, decodes the answer with
//! `from_utf8_lossy` and then through an untagged enum that buffers it,
//! and for getUpdates parses every update with teloxide's heaviest type.
//! These calls are made once per relayed message (or batch), so here they
//! use URLs built once, write their JSON bodies directly, read the sent
//! message in an answer down to its `message_id`, and parse getUpdates
//! with [`super::incoming`] (leanly where it can).
//!
//! They travel over [`super::wire`]: hyper directly, or the `Bot`'s reqwest
//! client when a proxy is configured.
//!
//! What stays the same: the errors. An answer becomes exactly the
//! `RequestError` teloxide would have made of it (API errors by their
//! description, `retry_after` and `migrate_to_chat_id` parameters, invalid
//! JSON, a 10 s pause after a 5xx; a transport failure is an `Io` error,
//! classified as a network one), so `outbound::classify` and the throttle
//! work unchanged.

use super::incoming::{self, Incoming};
use super::wire::{Endpoint, Wire};
use crate::domain::{ChatId, MessageId, UserId};
use bytes::Bytes;
use serde::de::Error as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use teloxide::types::{AllowedUpdate, ResponseParameters};
use teloxide::{ApiError, Bot, RequestError};

/// teloxide waits this long after a 5xx before reading the answer.
const DELAY_ON_SERVER_ERROR: Duration = Duration::from_secs(10);

/// getUpdates and copyMessage with prebuilt URLs. Cheap to clone (clones
/// share a connection pool; each `new` has a pool of its own).
#[derive(Clone, Debug)]
pub struct Direct {
    wire: Wire,
    /// A copyMessage or sendMessage taking longer is a network fault, as
    /// with the `Bot`'s own client ([`super::call_timeout`]).
    call_timeout: Duration,
    get_updates: Endpoint,
    copy_message: Endpoint,
    send_message: Endpoint,
}

/// One copyMessage call.
#[derive(Clone, Copy, Debug)]
pub struct Copy<'a> {
    pub from: UserId,
    pub to: UserId,
    pub message: MessageId,
    /// The copy answers this message in the recipient's chat.
    pub reply_to: Option<MessageId>,
    pub caption: Option<&'a str>,
    pub protect: bool,
}

impl Direct {
    /// For the API URL, token and HTTP client of `bot`, and calls bounded
    /// as the bot's own are for `poll_timeout`.
    pub fn new(bot: &Bot, poll_timeout: Duration) -> Self {
        let url = |method: &str| {
            let mut url = bot.api_url();
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.push(&format!("bot{}", bot.token()));
                segments.push(method);
            }
            Endpoint::new(url)
        };
        Direct {
            wire: Wire::for_environment(bot.client()),
            call_timeout: super::call_timeout(poll_timeout),
            get_updates: url("GetUpdates"),
            copy_message: url("CopyMessage"),
            send_message: url("SendMessage"),
        }
    }

    /// getUpdates from `offset`, long-polling for `timeout`: the answer's bytes as they came, for
    /// [`read_updates`] (and for the inbox, which keeps them as they are).
    pub async fn get_updates_answer(
        &self,
        offset: i64,
        timeout: Duration,
        allowed: &[AllowedUpdate],
    ) -> Result<Bytes, RequestError> {
        let allowed = serde_json::to_string(allowed).unwrap_or_else(|_| "[]".into());
        let body = format!(
            r#"{{"offset":{},"timeout":{},"allowed_updates":{allowed}}}"#,
            offset as i32,
            timeout.as_secs() as u32
        );
        self.answer(&self.get_updates, body, super::call_timeout(timeout))
            .await
    }

    /// copyMessage; returns the copy's id.
    pub async fn copy_message(&self, copy: Copy<'_>) -> Result<MessageId, RequestError> {
        let answer = self
            .answer(&self.copy_message, copy_body(&copy), self.call_timeout)
            .await?;
        as_text(answer.as_ref(), |text| {
            decode(text, |sent: Sent| Ok(MessageId(sent.message_id)))
        })
    }

    /// sendMessage of a plain text (no markup, no entities); returns the
    /// message's id.
    pub async fn send_text(&self, to: ChatId, text: &str) -> Result<MessageId, RequestError> {
        let text = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
        let body = format!(r#"{{"chat_id":{},"text":{text}}}"#, to.0);
        let answer = self
            .answer(&self.send_message, body, self.call_timeout)
            .await?;
        as_text(answer.as_ref(), |text| {
            decode(text, |sent: Sent| Ok(MessageId(sent.message_id)))
        })
    }

    /// POSTs `body` to `endpoint` and reads the answer's bytes (after a
    /// pause, for a 5xx, as teloxide does).
    async fn answer(
        &self,
        endpoint: &Endpoint,
        body: String,
        limit: Duration,
    ) -> Result<Bytes, RequestError> {
        let answer = self.wire.post(endpoint, body, limit).await?;
        if answer.server_error {
            tokio::time::sleep(DELAY_ON_SERVER_ERROR).await;
        }
        Ok(answer.body)
    }
}

/// The updates of a getUpdates answer, each parsed leanly if it can be.
pub fn read_updates(answer: &[u8]) -> Result<Vec<Incoming>, RequestError> {
    as_text(answer, |text| {
        decode(text, |updates: Vec<&RawValue>| {
            updates.into_iter().map(incoming::parse_one).collect()
        })
    })
}

/// The answer as text; invalid UTF-8 is replaced, as teloxide does.
fn as_text<T>(bytes: &[u8], read: impl FnOnce(&str) -> T) -> T {
    match std::str::from_utf8(bytes) {
        Ok(text) => read(text),
        Err(_) => read(&String::from_utf8_lossy(bytes)),
    }
}

/// What copyMessage and sendMessage answer, as far as the bot reads it.
#[derive(Deserialize)]
struct Sent {
    message_id: i32,
}

/// copyMessage's JSON body, as teloxide would write it.
fn copy_body(copy: &Copy<'_>) -> String {
    use std::fmt::Write;
    let mut body = format!(
        r#"{{"chat_id":{},"from_chat_id":{},"message_id":{}"#,
        copy.to.0, copy.from.0, copy.message.0
    );
    if let Some(caption) = copy.caption {
        let caption = serde_json::to_string(caption).unwrap_or_else(|_| "\"\"".into());
        let _ = write!(body, r#","caption":{caption}"#);
    }
    if copy.protect {
        body.push_str(r#","protect_content":true"#);
    }
    if let Some(reply) = copy.reply_to {
        let _ = write!(
            body,
            r#","reply_parameters":{{"message_id":{},"allow_sending_without_reply":true}}"#,
            reply.0
        );
    }
    body.push('}');
    body
}

/// A Bot API answer: `{"ok":true,"result":…}` or `{"ok":false,
/// "description":…,"parameters":…}`. Only the fields its kind needs are
/// read, as with teloxide's untagged enum.
#[derive(Deserialize)]
struct Answer<'a, R> {
    ok: bool,
    result: Option<R>,
    #[serde(borrow)]
    description: Option<&'a RawValue>,
    #[serde(borrow)]
    parameters: Option<&'a RawValue>,
}

/// The answer `text` as teloxide's `deserialize_response` would read it,
/// its `result` as an `R` handed to `then`.
fn decode<'t, R: Deserialize<'t>, T>(
    text: &'t str,
    then: impl FnOnce(R) -> Result<T, serde_json::Error>,
) -> Result<T, RequestError> {
    let invalid = |source: serde_json::Error| RequestError::InvalidJson {
        source: Arc::new(source),
        raw: text.into(),
    };
    let failed = match serde_json::from_str::<Answer<R>>(text) {
        Ok(Answer {
            ok: true,
            result: Some(result),
            ..
        }) => return then(result).map_err(invalid),
        Ok(Answer { ok: true, .. }) => {
            return Err(invalid(serde_json::Error::missing_field("result")))
        }
        Ok(answer) => failure(answer.description, answer.parameters),
        // An error answer with a `result` of another shape is still an
        // error answer.
        Err(error) => match serde_json::from_str::<Answer<&RawValue>>(text) {
            Ok(answer) if !answer.ok => failure(answer.description, answer.parameters),
            _ => Err(error),
        },
    };
    Err(failed.map_err(invalid)?)
}

/// The error an `"ok":false` answer means.
fn failure(
    description: Option<&RawValue>,
    parameters: Option<&RawValue>,
) -> Result<RequestError, serde_json::Error> {
    let description = description.ok_or_else(|| serde_json::Error::missing_field("description"))?;
    let description: ApiError = serde_json::from_str(description.get())?;
    let parameters = match parameters {
        Some(raw) if raw.get() != "null" => {
            Some(serde_json::from_str::<ResponseParameters>(raw.get())?)
        }
        _ => None,
    };
    Ok(match parameters {
        Some(ResponseParameters::RetryAfter(seconds)) => RequestError::RetryAfter(seconds),
        Some(ResponseParameters::MigrateToChatId(chat)) => RequestError::MigrateToChatId(chat),
        None => RequestError::Api(description),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copied(text: &str) -> Result<MessageId, RequestError> {
        decode(text, |sent: Sent| Ok(MessageId(sent.message_id)))
    }

    #[test]
    fn a_copy_reads_only_the_message_id() {
        let answer = r#"{"ok":true,"result":{"message_id":77,"other":[1,{"x":2}]}}"#;
        assert_eq!(copied(answer).unwrap(), MessageId(77));
    }

    #[test]
    fn errors_become_what_teloxide_would_make_of_them() {
        let blocked = r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#;
        assert!(matches!(
            copied(blocked),
            Err(RequestError::Api(ApiError::BotBlocked))
        ));
        let new_403 = r#"{"ok":false,"error_code":403,"description":"Forbidden: something new"}"#;
        match copied(new_403) {
            Err(RequestError::Api(ApiError::Unknown(text))) => {
                assert_eq!(text, "Forbidden: something new")
            }
            other => panic!("{other:?}"),
        }
        let flood = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
        match copied(flood) {
            Err(RequestError::RetryAfter(s)) => assert_eq!(s.seconds(), 7),
            other => panic!("{other:?}"),
        }
        let bad = r#"{"ok":false,"error_code":400,"description":"Bad Request: message to copy not found"}"#;
        assert!(matches!(
            copied(bad),
            Err(RequestError::Api(ApiError::MessageToCopyNotFound))
        ));
        for broken in [
            "",
            "<html>",
            r#"{"ok":true}"#,
            r#"{"ok":false}"#,
            r#"{"ok":true,"result":{}}"#,
        ] {
            assert!(
                matches!(copied(broken), Err(RequestError::InvalidJson { .. })),
                "{broken}"
            );
        }
    }

    #[test]
    fn the_copy_body_is_plain_json() {
        let copy = Copy {
            from: UserId(1),
            to: UserId(2),
            message: MessageId(3),
            reply_to: Some(MessageId(4)),
            caption: Some("say \"hi\""),
            protect: true,
        };
        let body: serde_json::Value = serde_json::from_str(&copy_body(&copy)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"chat_id": 2, "from_chat_id": 1, "message_id": 3,
                "caption": "say \"hi\"", "protect_content": true,
                "reply_parameters": {"message_id": 4, "allow_sending_without_reply": true}})
        );
    }
}
