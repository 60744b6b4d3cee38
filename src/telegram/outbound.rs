//! Engine sends out, Bot API calls in.
//!
//! One send at a time; ordering and concurrency are `dispatch`'s job.
//! Failures are classified once, here:
//! - 429: wait `retry_after` and try again;
//! - network trouble: retry with capped exponential backoff, a few times;
//! - 403 ("Forbidden: …", whatever teloxide names it) or a vanished chat:
//!   the user is unreachable, which the engine turns into an ended chat;
//! - any other 400 on a relay: the sender is told it wasn't delivered.

use crate::domain::{MessageId, UserId};
use crate::engine::{CopyResult, Outbound};
use crate::i18n::Lang;
use crate::telemetry::Pseudonymizer;
use std::time::Duration;
use teloxide::{ApiError, Bot, RequestError};

/// What a failed send means for the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// Telegram won't deliver to this user any more.
    Unreachable(UserId),
    /// A relayed message from this user could not be delivered.
    DeliveryFailed(UserId),
    /// What became of a broadcast copy to this user.
    Broadcast(UserId, CopyResult),
    /// The broadcast's progress message was sent with this id.
    BroadcastShown(MessageId),
}

/// How a failed call should be handled.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Unreachable,
    BadRequest,
    RetryAfter(Duration),
    Transient,
    Fatal,
}

impl Failure {
    /// The label for `randchat_api_errors_total`.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Unreachable => "403",
            Failure::BadRequest => "400",
            Failure::RetryAfter(_) => "429",
            Failure::Transient => "transient",
            Failure::Fatal => "401",
        }
    }
}

/// Classifies a Bot API error. 403s are matched by their "Forbidden:"
/// prefix too, because new wordings arrive as `ApiError::Unknown`.
pub fn classify(error: &RequestError) -> Failure {
    match error {
        RequestError::RetryAfter(seconds) => Failure::RetryAfter(seconds.duration()),
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            Failure::Transient
        }
        RequestError::MigrateToChatId(_) => Failure::BadRequest,
        RequestError::Api(api) => classify_api(api),
    }
}

fn classify_api(api: &ApiError) -> Failure {
    // `Unknown` displays as `Unknown error: "…"`; the raw text is inside.
    let description = match api {
        ApiError::Unknown(text) => text.clone(),
        other => other.to_string(),
    };
    match api {
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::ChatNotFound
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel => Failure::Unreachable,
        ApiError::InvalidToken => Failure::Fatal,
        _ if description.starts_with("Forbidden:") => Failure::Unreachable,
        _ if description.starts_with("Bad Request:") => Failure::BadRequest,
        _ if description.starts_with("Unauthorized") => Failure::Fatal,
        _ => Failure::Transient,
    }
}

/// Performs sends against the Bot API.
#[derive(Clone)]
pub struct Courier {
    pub(super) bot: Bot,
    /// copyMessage without teloxide's request machinery (the relay path).
    pub(super) direct: super::direct::Direct,
    names: Pseudonymizer,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// What became of one send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// What the engine must hear, if the send failed for good.
    pub feedback: Option<Feedback>,
    /// The ids of the copies a relay made in the partner's chat, in order.
    pub copies: Vec<MessageId>,
}

/// Network faults and 5xx are retried this many times, then the send is
/// given up (and logged). A 429 is always waited out: Telegram said when.
const MAX_TRANSIENT_RETRIES: u32 = 5;
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

impl Delivered {
    /// A send that went through; an album of which Telegram copied only
    /// some parts is reported to the sender as not (fully) delivered.
    fn made(send: &Outbound, copies: Vec<MessageId>) -> Self {
        let feedback = match send {
            Outbound::RelayAlbum { from, messages, .. } if copies.len() < messages.len() => {
                Some(Feedback::DeliveryFailed(*from))
            }
            Outbound::BroadcastCopy { to, .. } => Some(Feedback::Broadcast(*to, CopyResult::Sent)),
            Outbound::BroadcastStatus { message: None, .. } => {
                copies.first().map(|id| Feedback::BroadcastShown(*id))
            }
            _ => None,
        };
        Delivered { feedback, copies }
    }
}

impl Courier {
    /// Whether a copy is protected is the engine's decision
    /// ([`Outbound::Protected`]), so the courier needs no setting for it.
    /// Its calls are bounded as `bot`'s own are for `poll_timeout`.
    pub fn new(bot: Bot, names: Pseudonymizer, poll_timeout: std::time::Duration) -> Self {
        Courier {
            direct: super::direct::Direct::new(&bot, poll_timeout),
            bot,
            names,
            metrics: Default::default(),
        }
    }

    /// Counts failed calls in `metrics`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Performs one send with retries, and says what it made and what the
    /// engine must hear if it failed for good.
    pub async fn deliver_one(&self, send: &Outbound, lang: Lang) -> Delivered {
        let failure = match self.with_retries(send, lang).await {
            Ok(copies) => return Delivered::made(send.unwrapped().0, copies),
            Err(failure) => failure,
        };
        let destination = self.names.chat(send.destination());
        tracing::warn!(to = %destination, kind = kind_name(send), ?failure, "send failed");
        let feedback = match (failure, send.unwrapped().0) {
            // A user who blocked the bot is counted as such, not as an error.
            (Failure::Unreachable, Outbound::BroadcastCopy { to, .. }) => {
                Some(Feedback::Broadcast(*to, CopyResult::Blocked))
            }
            (_, Outbound::BroadcastCopy { to, .. }) => {
                Some(Feedback::Broadcast(*to, CopyResult::Failed))
            }
            (
                Failure::Unreachable,
                Outbound::Tell { user, .. }
                | Outbound::TellWith { user, .. }
                | Outbound::AskReportReason { user }
                | Outbound::AskShare { user }
                | Outbound::RevealPartner { user, .. }
                | Outbound::ShowLanguages { user }
                | Outbound::ShowMedia { user, .. }
                | Outbound::Captcha { user, .. }
                | Outbound::Settings { user, .. }
                | Outbound::AskRating { user, .. },
            ) => Some(Feedback::Unreachable(*user)),
            (
                Failure::Unreachable,
                Outbound::Relay { to, .. }
                | Outbound::RelayReply { to, .. }
                | Outbound::RelayAlbum { to, .. },
            ) => Some(Feedback::Unreachable(*to)),
            (
                Failure::BadRequest,
                Outbound::Relay { from, .. }
                | Outbound::RelayReply { from, .. }
                | Outbound::RelayAlbum { from, .. },
            ) => Some(Feedback::DeliveryFailed(*from)),
            _ => None,
        };
        Delivered {
            feedback,
            copies: Vec::new(),
        }
    }

    async fn with_retries(&self, send: &Outbound, lang: Lang) -> Result<Vec<MessageId>, Failure> {
        let mut transient = 0;
        let mut backoff = BACKOFF_START;
        loop {
            let error = match self.call(send, lang).await {
                Ok(copy) => return Ok(copy),
                Err(error) => error,
            };
            let failure = classify(&error);
            self.metrics.api_error(failure.code());
            match failure {
                Failure::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Failure::Transient if transient < MAX_TRANSIENT_RETRIES => {
                    transient += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_CAP);
                }
                failure => return Err(failure),
            }
        }
    }
}

fn kind_name(send: &Outbound) -> &'static str {
    match send.unwrapped().0 {
        Outbound::Protected(_) => "protected",
        Outbound::Settings { .. } => "settings",
        Outbound::AskRating { .. } => "ask_rating",
        Outbound::Tell { .. } => "tell",
        Outbound::TellWith { .. } => "tell_with",
        Outbound::AskReportReason { .. } => "ask_report_reason",
        Outbound::AnswerCallback { .. } => "answer_callback",
        Outbound::Relay { .. } => "relay",
        Outbound::RelayReply { .. } => "relay_reply",
        Outbound::EditCopy { .. } => "edit",
        Outbound::React { .. } => "react",
        Outbound::Delete { .. } => "delete",
        Outbound::RelayAlbum { .. } => "relay_album",
        Outbound::TellChat { .. } => "tell_chat",
        Outbound::LeaveChat { .. } => "leave_chat",
        Outbound::AskShare { .. } => "ask_share",
        Outbound::RevealPartner { .. } => "reveal_partner",
        Outbound::ShowLanguages { .. } => "show_languages",
        Outbound::ShowMedia { .. } => "show_media",
        Outbound::ReportCard { .. } => "report_card",
        Outbound::EditReportCard { .. } => "edit_report_card",
        Outbound::Captcha { .. } => "captcha",
        Outbound::BroadcastCopy { .. } => "broadcast_copy",
        Outbound::BroadcastStatus { .. } => "broadcast_status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_album_copied_only_in_part_is_reported_to_the_sender() {
        use crate::domain::{MessageId, UserId};
        let album = Outbound::RelayAlbum {
            from: UserId(1),
            to: UserId(2),
            messages: vec![MessageId(1), MessageId(2), MessageId(3)],
        };
        let partial = Delivered::made(&album, vec![MessageId(7), MessageId(8)]);
        assert_eq!(partial.feedback, Some(Feedback::DeliveryFailed(UserId(1))));
        let whole = Delivered::made(&album, vec![MessageId(7), MessageId(8), MessageId(9)]);
        assert_eq!(whole.feedback, None);
    }

    #[test]
    fn forbidden_is_unreachable_whatever_its_name() {
        let unknown =
            ApiError::Unknown("Forbidden: bot was blocked by the user in a new way".into());
        assert_eq!(classify(&RequestError::Api(unknown)), Failure::Unreachable);
        assert_eq!(
            classify(&RequestError::Api(ApiError::BotBlocked)),
            Failure::Unreachable
        );
        assert_eq!(
            classify(&RequestError::Api(ApiError::UserDeactivated)),
            Failure::Unreachable
        );
    }

    #[test]
    fn bad_requests_rate_limits_and_tokens() {
        let copy = RequestError::Api(ApiError::MessageToCopyNotFound);
        assert_eq!(classify(&copy), Failure::BadRequest);
        let unknown = RequestError::Api(ApiError::Unknown("Bad Request: something new".into()));
        assert_eq!(classify(&unknown), Failure::BadRequest);
        let wait = RequestError::RetryAfter(teloxide::types::Seconds::from_seconds(3));
        assert_eq!(classify(&wait), Failure::RetryAfter(Duration::from_secs(3)));
        assert_eq!(
            classify(&RequestError::Api(ApiError::InvalidToken)),
            Failure::Fatal
        );
    }
}
