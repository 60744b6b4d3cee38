//! Screening a message's text for the anti-spam rules, before the engine.
//!
//! The engine must not see message text, and the operator's word list and
//! the AI moderator are the shell's business, so the update loop reads each
//! message's text or caption here ([`inbound::written`]), finds what the
//! rules care about (links, @mentions, listed words, and, when
//! `MODERATION_URL` is set, the moderator's verdict) and hands the engine
//! only those facts, as [`Event::Screened`]. The text is dropped here; it
//! is never logged.
//!
//! The moderator is asked only about messages from users who are chatting
//! (nothing else can be relayed), all of a batch's at once. A timeout or an
//! error lets the message through (see [`crate::moderation_ai`]).

use super::inbound::Written;
use crate::domain::UserId;
use crate::engine::{Event, Screening, WordList};
use crate::metrics::Metrics;
use crate::moderation_ai::{Moderator, Verdict};
use std::sync::Arc;
use tokio::task::JoinSet;

/// The shell's half of the anti-spam rules.
pub struct Screener {
    words: WordList,
    moderator: Option<Arc<dyn Moderator>>,
    metrics: Arc<Metrics>,
}

impl Screener {
    pub fn new(
        words: WordList,
        moderator: Option<Arc<dyn Moderator>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Screener {
            words,
            moderator,
            metrics,
        }
    }

    /// Whether texts go to the AI moderator before the engine sees them.
    pub fn moderates(&self) -> bool {
        self.moderator.is_some()
    }

    /// The batch's events, with every message that has something to report
    /// wrapped in [`Event::Screened`]. `chatting` says whether a user is in
    /// a chat now.
    pub async fn screen(
        &self,
        events: Vec<(Event, Option<Written>)>,
        chatting: impl Fn(UserId) -> bool,
    ) -> Vec<Event> {
        let mut screenings = Vec::with_capacity(events.len());
        let mut checks = JoinSet::new();
        for (index, (event, written)) in events.iter().enumerate() {
            let screening = written
                .as_ref()
                .filter(|_| carries_text(event))
                .map(|written| self.scan(written));
            if let (Some(moderator), Some(written), Some(user)) =
                (&self.moderator, written, event.user())
            {
                if screening.is_some() && chatting(user) {
                    let (moderator, text) = (moderator.clone(), written.text.clone());
                    checks.spawn(async move { (index, moderator.check(&text).await) });
                }
            }
            screenings.push(screening.unwrap_or_default());
        }
        while let Some(done) = checks.join_next().await {
            let Ok((index, verdict)) = done else { continue };
            let outcome = match verdict {
                Ok(Verdict::Flagged) => {
                    screenings[index].flagged = true;
                    "flagged"
                }
                Ok(Verdict::Clean) => "clean",
                Err(error) => {
                    tracing::warn!(%error, "moderation check failed; the message goes through");
                    "error"
                }
            };
            self.metrics.moderation_checked(outcome);
        }
        events
            .into_iter()
            .zip(screenings)
            .map(|((event, _), screening)| match screening.is_clean() {
                true => event,
                false => Event::Screened {
                    screening,
                    inner: Box::new(event),
                },
            })
            .collect()
    }

    fn scan(&self, written: &Written) -> Screening {
        let mut screening = Screening::scan(&written.text, &self.words);
        screening.link |= written.link_entity;
        screening.mention |= written.mention_entity;
        screening
    }
}

/// Messages that would be relayed, and edits that would reach a copy: the
/// ones the rules apply to (an edit must not sneak in what the message
/// could not carry).
fn carries_text(event: &Event) -> bool {
    matches!(
        event,
        Event::Message { .. }
            | Event::ShortText { .. }
            | Event::Reply { .. }
            | Event::AlbumPart { .. }
            | Event::Edit { .. }
    )
}
