//! An update as the loop receives it: parsed leanly, or by teloxide.
//!
//! getUpdates answers go through [`parse_updates`]: each update that is a
//! plain private text or common media message is read by
//! [`super::lean`], every other one by teloxide's full `Update` parser, exactly as teloxide would have parsed
//! the whole batch (an update teloxide can't read is `UpdateKind::Error`,
//! and a batch it can't read at all is an error). Webhook updates arrive
//! already parsed by teloxide. The loop asks an [`Incoming`] the same three
//! questions either way, so both kinds give the same events.

use super::inbound::{self, Written};
use super::lean::LeanMessage;
use crate::engine::Event;
use serde::Deserialize;
use serde_json::value::RawValue;
use teloxide::types::{Update, UpdateKind};

/// One update, parsed one way or the other.
#[derive(Clone, Debug)]
pub enum Incoming {
    /// A plain private text or media message (the relay path's usual
    /// update).
    Lean(LeanMessage),
    /// Everything else, as teloxide reads it.
    Full(Box<Update>),
}

impl From<Update> for Incoming {
    fn from(update: Update) -> Self {
        Incoming::Full(Box::new(update))
    }
}

impl Incoming {
    pub fn id(&self) -> i64 {
        match self {
            Incoming::Lean(text) => text.update_id,
            Incoming::Full(update) => i64::from(update.id.0),
        }
    }

    /// A new message's date (Unix seconds), for the update-lag metric.
    pub fn message_date(&self) -> Option<i64> {
        match self {
            Incoming::Lean(text) => Some(text.date),
            Incoming::Full(update) => match &update.kind {
                UpdateKind::Message(message) => Some(message.date.timestamp()),
                _ => None,
            },
        }
    }

    /// See [`inbound::spoken_language`].
    pub fn spoken_language(&self) -> Option<Event> {
        match self {
            Incoming::Lean(text) => text.spoken_language(),
            Incoming::Full(update) => inbound::spoken_language(update),
        }
    }

    /// See [`inbound::classify`].
    pub fn classify(&self, bot_username: &str) -> Option<Event> {
        match self {
            Incoming::Lean(text) => text.classify(bot_username),
            Incoming::Full(update) => inbound::classify(update, bot_username),
        }
    }

    /// See [`inbound::written`].
    pub fn written(&self) -> Option<Written> {
        match self {
            Incoming::Lean(message) => message.written(),
            Incoming::Full(update) => inbound::written(update),
        }
    }
}

/// Parses a whole getUpdates answer body that has `"ok":true`, each
/// update leanly if it can be. Fails where teloxide would fail on the
/// whole batch.
pub fn parse_updates(body: &str) -> Result<Vec<Incoming>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Batch<'a> {
        #[serde(borrow)]
        result: Vec<&'a RawValue>,
    }
    let batch: Batch = serde_json::from_str(body)?;
    batch.result.into_iter().map(parse_one).collect()
}

/// One update of a getUpdates answer: leanly if it is a plain private
/// text or media message, else by teloxide.
pub fn parse_one(raw: &RawValue) -> Result<Incoming, serde_json::Error> {
    match LeanMessage::parse(raw.get()) {
        Some(text) => Ok(Incoming::Lean(text)),
        None => serde_json::from_str::<Update>(raw.get()).map(Incoming::from),
    }
}
