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

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Screening {
        let words = WordList::parse("# a comment\n\nSpamword\nbit.ly\nbuy now\n");
        Screening::scan(text, &words)
    }

    use crate::domain::MessageId;
    use crate::engine::{Command, Event, Outbound};

    const NOW: Timestamp = Timestamp(1_700_000_000);

    fn paired(antispam: AntispamConfig) -> Engine {
        let engine = Engine::new().with_antispam(antispam);
        for user in [1, 2] {
            let chat = Event::Command {
                user: UserId(user),
                command: Command::Chat,
            };
            engine.handle(&chat, NOW);
        }
        engine
    }

    fn send(engine: &Engine, user: i64, screening: Screening, secs: u64) -> Vec<Outbound> {
        let message = Event::Message {
            user: UserId(user),
            message: MessageId(5),
            relayable: true,
        };
        let screened = Event::Screened {
            screening,
            inner: Box::new(message),
        };
        engine.handle(&screened, Timestamp(NOW.0 + secs)).sends
    }

    fn relayed(sends: &[Outbound]) -> bool {
        sends.iter().any(|s| matches!(s, Outbound::Relay { .. }))
    }

    #[test]
    fn early_links_listed_words_and_flagged_messages_are_not_relayed() {
        let engine = paired(AntispamConfig::default());
        let link = Screening {
            link: true,
            ..Screening::default()
        };
        let early = send(&engine, 1, link, 29);
        assert!(!relayed(&early));
        let why = Outbound::TellWith {
            user: UserId(1),
            text: Text::LinkTooSoon,
            args: vec![Arg::Number(DEFAULT_LINK_DELAY_SECS)],
        };
        assert!(early.contains(&why), "{early:?}");
        let mention = Screening {
            mention: true,
            ..Screening::default()
        };
        let told_two = Outbound::TellWith {
            user: UserId(2),
            text: Text::LinkTooSoon,
            args: vec![Arg::Number(DEFAULT_LINK_DELAY_SECS)],
        };
        assert!(send(&engine, 2, mention, 5).contains(&told_two));
        assert!(relayed(&send(&engine, 1, link, 30)), "after the delay");

        let listed = Screening {
            listed: true,
            ..Screening::default()
        };
        let refused = send(&engine, 1, listed, 100);
        assert!(!relayed(&refused));
        assert!(refused.contains(&Outbound::Tell {
            user: UserId(1),
            text: Text::FilterBlocked
        }));
        let flagged = Screening {
            flagged: true,
            ..Screening::default()
        };
        let refused = send(&engine, 2, flagged, 100);
        assert!(!relayed(&refused));
        assert!(refused.contains(&Outbound::Tell {
            user: UserId(2),
            text: Text::ModerationBlocked
        }));
        let idle = send(&engine, 3, listed, 100);
        assert_eq!(
            idle,
            vec![Outbound::Tell {
                user: UserId(3),
                text: Text::NotInChat
            }],
            "outside a chat the ordinary answer"
        );
    }

    #[test]
    fn refusals_count_towards_the_flood_limit() {
        let engine = Engine::with_config(crate::engine::EngineConfig {
            message_rate_limit: 2,
            ..crate::engine::EngineConfig::default()
        })
        .with_antispam(AntispamConfig::default());
        for user in [1, 2] {
            let chat = Event::Command {
                user: UserId(user),
                command: Command::Chat,
            };
            engine.handle(&chat, NOW);
        }
        let listed = Screening {
            listed: true,
            ..Screening::default()
        };
        let told: Vec<Vec<Outbound>> = (0..4).map(|_| send(&engine, 1, listed, 60)).collect();
        let refused = Outbound::Tell {
            user: UserId(1),
            text: Text::FilterBlocked,
        };
        assert_eq!(told[0], vec![refused.clone()]);
        assert_eq!(told[1], vec![refused]);
        let slow = Outbound::Tell {
            user: UserId(1),
            text: Text::SlowDownMessages,
        };
        assert_eq!(told[2], vec![slow], "then one slow-down");
        assert!(told[3].is_empty(), "then silence");
    }

    #[test]
    fn the_delay_can_be_off_and_links_can_be_blocked_outright() {
        let link = Screening {
            link: true,
            ..Screening::default()
        };
        let off = paired(AntispamConfig {
            link_delay: Duration::ZERO,
            ..AntispamConfig::default()
        });
        assert!(relayed(&send(&off, 1, link, 0)));
        let strict = paired(AntispamConfig {
            link_delay: Duration::ZERO,
            block_links: true,
            ..AntispamConfig::default()
        });
        let refused = send(&strict, 1, link, 1000);
        assert!(!relayed(&refused));
        assert!(refused.contains(&Outbound::Tell {
            user: UserId(1),
            text: Text::FilterBlocked
        }));
    }

    #[test]
    fn links_in_their_common_shapes() {
        for text in [
            "see https://example.com",
            "HTTP://X.Y",
            "go to www.example.org",
            "join t.me/somechannel",
            "tg://resolve?domain=x",
        ] {
            assert!(scan(text).link, "{text}");
        }
        for text in ["hello there", "t. me", "example dot com"] {
            assert!(!scan(text).link, "{text}");
        }
    }

    #[test]
    fn mentions_but_not_email_addresses_or_short_handles() {
        assert!(scan("add @channel_name now").mention);
        assert!(scan("@someone").mention);
        assert!(!scan("mail me at ann@example.com").mention);
        assert!(
            !scan("@abc").mention,
            "usernames have at least 5 characters"
        );
        assert!(!scan("@ alone").mention);
    }

    #[test]
    fn listed_words_match_whole_words_and_fragments_anywhere() {
        assert!(scan("this is SPAMWORD!").listed);
        assert!(!scan("spamwords are fine").listed, "whole words only");
        assert!(scan("see bit.ly/x").listed);
        assert!(scan("Buy Now, cheap").listed);
        assert!(!scan("nothing to see").listed);
        assert_eq!(WordList::parse("# only\n\n").len(), 0);
        assert!(Screening::scan("anything", &WordList::default()).is_clean());
    }
}
