//! The anti-spam rules, one at a time: what is scanned, and what a
//! screened message does in a chat.

use super::antispam::*;
use super::*;
use crate::domain::MessageId;
use crate::i18n::{Arg, Text};
use std::time::Duration;

fn scan(text: &str) -> Screening {
    let words = WordList::parse("# a comment\n\nSpamword\nbit.ly\nbuy now\n");
    Screening::scan(text, &words)
}

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
        media: None,
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
