//! Languages, /link consent and /media choices, at the engine's level.

use super::tests::{cmd_at, told, NOW};
use super::*;
use crate::domain::MessageId;
use crate::i18n::{Arg, Lang, Text};
use std::time::Duration;

const SHARE_SECS: u64 = 60;

fn engine() -> Engine {
    Engine::with_config(EngineConfig {
        share_timeout: Duration::from_secs(SHARE_SECS),
        ..EngineConfig::unlimited()
    })
}

fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 + secs)
}

fn paired(engine: &Engine, a: i64, b: i64) {
    cmd_at(engine, a, Command::Chat, NOW);
    cmd_at(engine, b, Command::Chat, NOW);
    assert_eq!(engine.presence_of(UserId(a)), Presence::Chatting(UserId(b)));
}

fn choose(engine: &Engine, user: i64, choice: Choice, secs: u64) -> Outcome {
    let event = Event::Choose {
        user: UserId(user),
        query_id: format!("q{user}"),
        message: MessageId(77),
        choice,
    };
    engine.handle(&event, at(secs))
}

fn share(engine: &Engine, user: i64, username: Option<&str>, secs: u64) -> Outcome {
    let event = Event::Share {
        user: UserId(user),
        contact: Contact::from_username(username),
    };
    engine.handle(&event, at(secs))
}

fn answer(engine: &Engine, user: i64, agree: bool, username: Option<&str>, secs: u64) -> Outcome {
    let choice = Choice::Share {
        agree,
        contact: Contact::from_username(username),
    };
    choose(engine, user, choice, secs)
}

/// Every reveal in `out`: (to, about, username).
fn reveals(out: &Outcome) -> Vec<(i64, i64, Option<String>)> {
    out.sends
        .iter()
        .filter_map(|send| match send {
            Outbound::RevealPartner {
                user,
                partner,
                username,
            } => Some((user.0, partner.0, username.clone())),
            _ => None,
        })
        .collect()
}

fn expired_press(out: &Outcome) -> bool {
    out.sends.iter().any(|send| {
        matches!(
            send,
            Outbound::AnswerCallback {
                text: Some(Text::ButtonExpired),
                ..
            }
        )
    })
}

#[test]
fn the_first_language_code_is_adopted_and_kept() {
    let engine = engine();
    let user = UserId(1);
    assert_eq!(engine.language_of(user), Lang::En);
    let english = Event::Speaks {
        user,
        lang: Lang::En,
    };
    assert_eq!(
        engine.handle(&english, NOW),
        Outcome::default(),
        "the default costs nothing"
    );
    assert_eq!(engine.profile(user), Profile::default());
    let out = engine.handle(
        &Event::Speaks {
            user,
            lang: Lang::Ru,
        },
        NOW,
    );
    assert!(
        matches!(&out.records[..], [Record::Profile { profile, .. }] if profile.language == Some(Lang::Ru))
    );
    assert_eq!(engine.language_of(user), Lang::Ru);
    let again = engine.handle(
        &Event::Speaks {
            user,
            lang: Lang::Es,
        },
        NOW,
    );
    assert_eq!(again, Outcome::default(), "a later code changes nothing");
    assert_eq!(engine.language_of(user), Lang::Ru);
}

#[test]
fn a_language_picked_is_recorded_and_confirmed() {
    let engine = engine();
    let out = cmd_at(&engine, 1, Command::Language, NOW);
    assert_eq!(out.sends, vec![Outbound::ShowLanguages { user: UserId(1) }]);
    let menu = choose(&engine, 1, Choice::LanguageMenu, 0);
    assert!(menu
        .sends
        .contains(&Outbound::ShowLanguages { user: UserId(1) }));
    let out = choose(&engine, 1, Choice::Language(Lang::Es), 0);
    assert_eq!(told(&out, 1), vec![Text::LanguageSet]);
    assert!(out.records.iter().any(
        |r| matches!(r, Record::Profile { profile, .. } if profile.language == Some(Lang::Es))
    ));
    assert_eq!(engine.language_of(UserId(1)), Lang::Es);
    engine.handle(
        &Event::Speaks {
            user: UserId(1),
            lang: Lang::Ru,
        },
        NOW,
    );
    assert_eq!(engine.language_of(UserId(1)), Lang::Es, "a pick wins");
}

#[test]
fn link_reveals_both_only_when_the_partner_agrees() {
    let engine = engine();
    paired(&engine, 1, 2);
    let asked = share(&engine, 1, Some("ann_a"), 0);
    assert_eq!(told(&asked, 1), vec![Text::ShareAsked]);
    assert!(asked
        .sends
        .contains(&Outbound::AskShare { user: UserId(2) }));
    assert!(reveals(&asked).is_empty());
    assert!(
        asked.records.is_empty()
            || asked
                .records
                .iter()
                .all(|r| matches!(r, Record::Seen { .. }))
    );
    assert_eq!(
        told(&share(&engine, 1, Some("ann_a"), 1), 1),
        vec![Text::ShareAlreadyAsked]
    );

    let agreed = answer(&engine, 2, true, None, 2);
    assert_eq!(
        reveals(&agreed),
        vec![(1, 2, None), (2, 1, Some("ann_a".to_owned()))]
    );
    let again = answer(&engine, 2, true, None, 3);
    assert!(reveals(&again).is_empty() && expired_press(&again));
}

#[test]
fn asking_back_is_agreeing() {
    let engine = engine();
    paired(&engine, 1, 2);
    share(&engine, 1, Some("ann_a"), 0);
    let out = share(&engine, 2, Some("ben_b"), 1);
    assert_eq!(
        reveals(&out),
        vec![
            (2, 1, Some("ann_a".to_owned())),
            (1, 2, Some("ben_b".to_owned()))
        ]
    );
}

#[test]
fn a_refusal_reveals_nothing() {
    let engine = engine();
    paired(&engine, 1, 2);
    share(&engine, 1, Some("ann_a"), 0);
    let out = answer(&engine, 2, false, None, 1);
    assert!(reveals(&out).is_empty());
    assert_eq!(told(&out, 1), vec![Text::ShareDeclined]);
    assert_eq!(told(&out, 2), vec![Text::ShareDeclinedYou]);
    let late = answer(&engine, 2, true, Some("ben_b"), 2);
    assert!(reveals(&late).is_empty() && expired_press(&late));
    // No pestering: the partner isn't asked again in this chat.
    let again = share(&engine, 1, Some("ann_a"), 3);
    assert_eq!(told(&again, 1), vec![Text::ShareNotAgain]);
    assert!(!again
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::AskShare { .. })));
    // Ben may still ask, and in a new chat Ann may too.
    assert!(share(&engine, 2, Some("ben_b"), 4)
        .sends
        .contains(&Outbound::AskShare { user: UserId(1) }));
    cmd_at(&engine, 1, Command::Stop, at(5));
    paired(&engine, 1, 2);
    assert_eq!(
        told(&share(&engine, 1, Some("ann_a"), 6), 1),
        vec![Text::ShareAsked]
    );
}

#[test]
fn an_unanswered_request_lapses_on_the_tick_and_reveals_nothing() {
    let engine = engine();
    paired(&engine, 1, 2);
    share(&engine, 1, Some("ann_a"), 0);
    assert_eq!(
        engine.handle(&Event::Tick, at(SHARE_SECS - 1)),
        Outcome::default()
    );
    let out = engine.handle(&Event::Tick, at(SHARE_SECS));
    assert_eq!(told(&out, 1), vec![Text::ShareExpired]);
    assert_eq!(told(&out, 2), vec![Text::ShareExpired]);
    let late = answer(&engine, 2, true, Some("ben_b"), SHARE_SECS + 1);
    assert!(reveals(&late).is_empty() && expired_press(&late));
}

#[test]
fn a_chat_ending_voids_the_request_even_in_a_later_chat() {
    let engine = engine();
    paired(&engine, 1, 2);
    share(&engine, 1, Some("ann_a"), 0);
    cmd_at(&engine, 2, Command::Stop, at(1));
    let after_end = answer(&engine, 2, true, Some("ben_b"), 2);
    assert!(reveals(&after_end).is_empty() && expired_press(&after_end));
    // The same two meet again: the old question's button still does nothing.
    paired(&engine, 1, 2);
    let next_chat = answer(&engine, 2, true, Some("ben_b"), 3);
    assert!(reveals(&next_chat).is_empty() && expired_press(&next_chat));
    assert!(told(&engine.handle(&Event::Tick, at(SHARE_SECS)), 1).is_empty());
}

#[test]
fn link_outside_a_chat_asks_nobody() {
    let engine = engine();
    let out = share(&engine, 1, Some("ann_a"), 0);
    assert_eq!(told(&out, 1), vec![Text::NotInChat]);
    assert!(!out
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::AskShare { .. })));
}

#[test]
fn a_contact_never_prints_its_username() {
    let event = Event::Share {
        user: UserId(1),
        contact: Contact::from_username(Some("secret_name")),
    };
    assert!(!format!("{event:?}").contains("secret_name"));
    assert_eq!(Contact::from_username(Some("bad name!")).username(), None);
}

fn photo(engine: &Engine, user: i64, id: i32) -> Outcome {
    let event = Event::Message {
        user: UserId(user),
        message: MessageId(id),
        relayable: true,
        media: Some(Media::Photos),
    };
    engine.handle(&event, NOW)
}

#[test]
fn a_refused_kind_is_not_relayed_and_the_sender_is_told() {
    let engine = engine();
    paired(&engine, 1, 2);
    let shown = cmd_at(&engine, 2, Command::Media, NOW);
    assert_eq!(
        shown.sends,
        vec![Outbound::ShowMedia {
            user: UserId(2),
            refused: 0,
            edit: None
        }]
    );
    let toggled = choose(&engine, 2, Choice::Media(Media::Photos), 0);
    assert!(toggled.sends.contains(&Outbound::ShowMedia {
        user: UserId(2),
        refused: Media::Photos.bit(),
        edit: Some(MessageId(77)),
    }));
    assert_eq!(engine.profile(UserId(2)).refused_media, Media::Photos.bit());

    let out = photo(&engine, 1, 10);
    assert!(!out
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::Relay { .. })));
    assert_eq!(
        out.sends,
        vec![Outbound::TellWith {
            user: UserId(1),
            text: Text::MediaRefused,
            args: vec![Arg::Text(Text::MediaPhotos)],
        }]
    );
    // The other way round, and other kinds, still go through.
    assert!(photo(&engine, 2, 11)
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::Relay { .. })));
    choose(&engine, 2, Choice::Media(Media::Photos), 0);
    assert!(photo(&engine, 1, 12)
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::Relay { .. })));
}

#[test]
fn a_refused_album_is_dropped_with_one_notice() {
    let engine = engine();
    paired(&engine, 1, 2);
    choose(&engine, 2, Choice::Media(Media::Photos), 0);
    let mut sends = Vec::new();
    for id in 1..=3 {
        let event = Event::AlbumPart {
            user: UserId(1),
            message: MessageId(id),
            group: "g".into(),
            media: Some(Media::Photos),
        };
        sends.extend(engine.handle(&event, NOW).sends);
    }
    sends.extend(engine.handle(&Event::Tick, at(10)).sends);
    assert_eq!(
        sends,
        vec![Outbound::TellWith {
            user: UserId(1),
            text: Text::MediaRefused,
            args: vec![Arg::Text(Text::MediaPhotos)],
        }]
    );
}
