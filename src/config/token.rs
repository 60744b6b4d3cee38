//! The bot token: a secret that can't be printed by accident.

use std::fmt;
use std::str::FromStr;

/// What `Debug` and `Display` print instead of a secret.
pub const MASK: &str = "***masked***";

/// Minimum length of the part after the ':'; real secrets have 35 characters.
const MIN_SECRET_LEN: usize = 30;

/// A Telegram bot token, `<bot id>:<secret>`, checked for shape on parsing.
///
/// `Debug` and `Display` print `***masked***`; only [`BotToken::expose`]
/// gives the text, for the one place that hands it to the Bot API client.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

/// Why a token has the wrong shape. None of these quote the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("it is not a single text value")]
    NotText,
    #[error("there is no ':' between the bot id and the secret")]
    NoColon,
    #[error("the part before ':' must be digits only, with no \"bot\" prefix")]
    BadId,
    #[error("the part after ':' is too short")]
    TooShort,
    #[error("the part after ':' holds a character other than letters, digits, _ or - (stray quotes or spaces?)")]
    BadChar,
}

impl BotToken {
    /// Checks the shape: digits, ':', then at least 30 of `[A-Za-z0-9_-]`.
    pub fn parse(s: &str) -> Result<Self, TokenProblem> {
        let (id, secret) = s.split_once(':').ok_or(TokenProblem::NoColon)?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenProblem::BadId);
        }
        if !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(TokenProblem::BadChar);
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(TokenProblem::TooShort);
        }
        Ok(BotToken(s.to_owned()))
    }

    /// The token itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for BotToken {
    type Err = TokenProblem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BotToken::parse(s)
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}
