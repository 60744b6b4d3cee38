//! Anti-spam rules for what a user sends in a chat.
//!
//! Spam in anonymous chat comes mostly from accounts that pair, drop a link
//! or an @channel at once, and skip. So:
//!
//! - **Links and @mentions wait** ([`AntispamConfig::link_delay`]): in the
//!   first seconds of a chat they are not relayed, and the sender is told
//!   why. A person who wants to share a link after talking a little can;
//!   a drive-by spammer gets nothing across.
//! - **A local word and link filter** ([`WordList`], from a file the
//!   operator keeps): a message containing a listed word or fragment is not
//!   relayed, ever. With [`AntispamConfig::block_links`] every link is.
//! - **AI moderation** (optional, in the shell: `crate::moderation_ai`)
//!   marks a message as flagged; a flagged message is not relayed.
//!
//! The engine never sees the message text. The shell reads it, scans it
//! with [`Screening::scan`] (pure, here, so it is unit tested with the
//! rules) and hands in only the resulting [`Screening`], wrapped around the
//! message's event as [`Event::Screened`](super::Event::Screened). A
//! message with nothing to report is not wrapped at all. The text is never
//! stored or logged.

use super::{Engine, Presence};
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::Outcome;
use crate::i18n::{Arg, Text};
use std::time::Duration;

/// Default of [`AntispamConfig::link_delay`], in seconds.
pub const DEFAULT_LINK_DELAY_SECS: u64 = 30;

/// Link shapes recognised in text, besides what Telegram itself marks as a
/// link: schemes, `www.` and Telegram's own link domains.
const LINK_PATTERNS: [&str; 7] = [
    "http://",
    "https://",
    "www.",
    "t.me/",
    "telegram.me/",
    "telegram.dog/",
    "tg://",
];

/// The anti-spam settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AntispamConfig {
    /// Links and @mentions are refused for this long after a chat starts;
    /// zero turns the rule off.
    pub link_delay: Duration,
    /// Refuse every link, at any time.
    pub block_links: bool,
    /// A one-tap captcha before a user's first search (see
    /// [`super::captcha`]).
    pub captcha: bool,
    /// Words and fragments that stop a message.
    pub words: WordList,
}

impl Default for AntispamConfig {
    fn default() -> Self {
        AntispamConfig {
            link_delay: Duration::from_secs(DEFAULT_LINK_DELAY_SECS),
            block_links: false,
            captcha: false,
            words: WordList::default(),
        }
    }
}

/// The operator's list of words and fragments that stop a message. There is
/// no built-in list: what is offensive depends on the audience and the
/// language, and a wrong default blocks innocent messages.
///
/// One entry per line; blank lines and lines starting with `#` are skipped;
/// matching ignores case. An entry of letters and digits only matches a
/// whole word (`ass` does not stop "class"); any other entry (`bit.ly`,
/// `onlyfans.com/`, `buy now`) matches anywhere in the text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordList {
    words: Vec<String>,
    fragments: Vec<String>,
}

impl WordList {
    /// Parses the list file's contents.
    pub fn parse(contents: &str) -> WordList {
        let mut list = WordList::default();
        for line in contents.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = line.to_lowercase();
            if entry.chars().all(char::is_alphanumeric) {
                list.words.push(entry);
            } else {
                list.fragments.push(entry);
            }
        }
        list
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.words.len() + self.fragments.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `lowered` (already lower case) contains an entry.
    fn matches(&self, lowered: &str) -> bool {
        self.fragments.iter().any(|f| lowered.contains(f.as_str()))
            || lowered
                .split(|c: char| !c.is_alphanumeric())
                .any(|token| self.words.iter().any(|w| w == token))
    }
}

/// What the shell found in a message's text or caption. Only these facts
/// reach the engine, never the text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Screening {
    /// It contains a link.
    pub link: bool,
    /// It mentions a username (`@name`).
    pub mention: bool,
    /// It contains an entry of the operator's [`WordList`].
    pub listed: bool,
    /// The AI moderator flagged it.
    pub flagged: bool,
}

impl Screening {
    /// Scans a text for links, mentions and listed words.
    pub fn scan(text: &str, words: &WordList) -> Screening {
        let lowered = text.to_lowercase();
        Screening {
            link: LINK_PATTERNS.iter().any(|p| lowered.contains(p)),
            mention: has_mention(text),
            listed: words.matches(&lowered),
            flagged: false,
        }
    }

    /// Whether there is nothing any rule could object to.
    pub fn is_clean(&self) -> bool {
        *self == Screening::default()
    }
}

/// `@` followed by a Telegram username (5 or more letters, digits or `_`),
/// not inside a word (so an e-mail address is not a mention).
fn has_mention(text: &str) -> bool {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    bytes.iter().enumerate().any(|(at, &b)| {
        let starts = b == b'@' && (at == 0 || !word(bytes[at - 1]));
        starts && bytes[at + 1..].iter().take_while(|&&c| word(c)).count() >= 5
    })
}

impl Engine {
    /// The anti-spam settings.
    pub fn antispam(&self) -> &AntispamConfig {
        &self.antispam
    }

    /// The same engine with `antispam` as its anti-spam settings.
    pub fn with_antispam(mut self, antispam: AntispamConfig) -> Self {
        self.antispam = antispam;
        self
    }

    /// Applies the anti-spam rules to a message `user` sent while chatting.
    /// Returns true if it is refused (the sender has been told why); a
    /// message sent outside a chat is left to the ordinary rules. A refused
    /// message still counts towards the sender's flood limit, so refusals
    /// can't be used to make the bot talk without end.
    pub(super) fn refuse_spam(
        &self,
        user: UserId,
        screening: &Screening,
        now: Timestamp,
        out: &mut Outcome,
    ) -> bool {
        if !matches!(self.presence_of(user), Presence::Chatting(_)) {
            return false;
        }
        let Some((text, args)) = self.spam_verdict(user, screening, now) else {
            return false;
        };
        match self.may_send(user, now, out) {
            true if args.is_empty() => out.tell(user, text),
            true => out.tell_with(user, text, args),
            false => {}
        }
        true
    }

    /// Why the rules refuse a message, if they do: the notice and its
    /// arguments.
    fn spam_verdict(
        &self,
        user: UserId,
        screening: &Screening,
        now: Timestamp,
    ) -> Option<(Text, Vec<Arg>)> {
        if screening.listed || (screening.link && self.antispam.block_links) {
            return Some((Text::FilterBlocked, Vec::new()));
        }
        if screening.flagged {
            return Some((Text::ModerationBlocked, Vec::new()));
        }
        let delay = self.antispam.link_delay.as_secs();
        let linky = screening.link || screening.mention;
        let started = self.chats.get(&user).map(|clock| clock.since);
        let early = started.is_some_and(|since| now.0 < since.0.saturating_add(delay));
        (linky && delay > 0 && early).then(|| (Text::LinkTooSoon, vec![Arg::Number(delay)]))
    }
}
