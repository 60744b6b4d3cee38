//! Matching: mutual wishes, buckets, no repeats, relaxing, ratings,
//! /settings and protect-content, one rule at a time (the property test is
//! in `matching_props`).

use super::tests::{cmd_at, msg_at, told, NOW};
use super::*;
use crate::domain::MessageId;
use crate::i18n::Text;
use std::time::Duration;

pub(super) fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 + secs)
}

pub(super) fn set(engine: &Engine, user: i64, change: impl FnOnce(&mut Profile)) {
    engine.update_profile(UserId(user), &mut Outcome::default(), change);
}

fn woman_wanting_men(p: &mut Profile) {
    p.gender = Some(Gender::Female);
    p.wants_gender = Some(Gender::Male);
}

fn man_wanting_women(p: &mut Profile) {
    p.gender = Some(Gender::Male);
    p.wants_gender = Some(Gender::Female);
}

fn chat(engine: &Engine, user: i64, secs: u64) -> Outcome {
    cmd_at(engine, user, Command::Chat, at(secs))
}

fn partner(engine: &Engine, user: i64) -> Option<i64> {
    match engine.presence_of(UserId(user)) {
        Presence::Chatting(p) => Some(p.0),
        _ => None,
    }
}

fn press(engine: &Engine, user: i64, data: &str, secs: u64) -> Outcome {
    let event = Event::Callback {
        user: UserId(user),
        query_id: "q".into(),
        data: data.into(),
    };
    engine.handle(&event, at(secs))
}

fn menu_press(engine: &Engine, user: i64, data: &str, secs: u64) -> Outcome {
    let event = Event::MenuCallback {
        user: UserId(user),
        query_id: "q".into(),
        data: data.into(),
        message: MessageId(500),
    };
    engine.handle(&event, at(secs))
}

fn typed(engine: &Engine, user: i64, text: &str, secs: u64) -> Outcome {
    let event = Event::ShortText {
        user: UserId(user),
        message: MessageId(77),
        text: text.into(),
        media: None,
    };
    engine.handle(&event, at(secs))
}

fn answer(out: &Outcome) -> Option<Text> {
    out.sends.iter().find_map(|send| match send {
        Outbound::AnswerCallback { text, .. } => *text,
        _ => None,
    })
}

#[test]
fn wishes_are_mutual_and_incompatible_users_keep_waiting() {
    let engine = Engine::new();
    set(&engine, 1, woman_wanting_men);
    set(&engine, 2, |p| {
        p.gender = Some(Gender::Male);
        p.wants_gender = Some(Gender::Male);
    });
    set(&engine, 3, man_wanting_women);
    chat(&engine, 1, 0);
    chat(&engine, 2, 1);
    assert_eq!(partner(&engine, 1), None, "he wants a man, she wants a man");
    assert_eq!(engine.counts(), (2, 0));
    assert_eq!(engine.active_buckets(), 2);
    chat(&engine, 3, 2);
    assert_eq!(partner(&engine, 3), Some(1));
    assert_eq!(partner(&engine, 2), None);
    engine.check_invariants().unwrap();
}

#[test]
fn age_wishes_need_a_stated_age_in_range() {
    let engine = Engine::new();
    set(&engine, 1, |p| {
        p.wants_age = Some(AgeRange { min: 18, max: 25 })
    });
    set(&engine, 2, |p| p.age = Some(30));
    set(&engine, 4, |p| p.age = Some(20));
    chat(&engine, 1, 0);
    chat(&engine, 2, 1);
    chat(&engine, 3, 2);
    assert_eq!(partner(&engine, 1), None, "30, and unknown, are out");
    assert_eq!(partner(&engine, 2), Some(3), "the two without wishes meet");
    chat(&engine, 4, 3);
    assert_eq!(partner(&engine, 4), Some(1));
}

#[test]
fn the_oldest_compatible_waiter_comes_first() {
    let engine = Engine::new();
    for user in [1, 2, 3] {
        set(&engine, user, man_wanting_women);
        chat(&engine, user, user as u64);
    }
    set(&engine, 9, woman_wanting_men);
    chat(&engine, 9, 10);
    assert_eq!(partner(&engine, 9), Some(1));
    set(&engine, 8, woman_wanting_men);
    chat(&engine, 8, 11);
    assert_eq!(partner(&engine, 8), Some(2));
}

/// Users 1 and 3 are women who want men (so they never meet each other);
/// 2 is a man who wants women.
fn recent_partners_setup(engine: &Engine) {
    set(engine, 1, woman_wanting_men);
    set(engine, 3, woman_wanting_men);
    set(engine, 2, man_wanting_women);
    chat(engine, 1, 0);
    chat(engine, 2, 1);
    assert_eq!(partner(engine, 2), Some(1));
    cmd_at(engine, 2, Command::Stop, at(2));
    chat(engine, 1, 3);
    chat(engine, 3, 4);
    assert_eq!(engine.counts(), (2, 0));
}

#[test]
fn a_recent_partner_is_passed_over_while_someone_else_waits() {
    let engine = Engine::new();
    recent_partners_setup(&engine);
    chat(&engine, 2, 5);
    assert_eq!(partner(&engine, 2), Some(3), "1 is older but was just met");
    cmd_at(&engine, 2, Command::Stop, at(6));
    chat(&engine, 2, 7);
    assert_eq!(partner(&engine, 2), Some(1), "nobody else waits: allowed");
}

#[test]
fn the_no_repeat_rule_ends_with_its_window_and_can_be_off() {
    let engine = Engine::new();
    recent_partners_setup(&engine);
    chat(&engine, 2, 2 + 3600);
    assert_eq!(
        partner(&engine, 2),
        Some(1),
        "an hour later the oldest again"
    );

    let off = Engine::new().with_matching(MatchConfig {
        no_repeat_partners: 0,
        ..MatchConfig::default()
    });
    recent_partners_setup(&off);
    chat(&off, 2, 5);
    assert_eq!(partner(&off, 2), Some(1));
}

#[test]
fn recent_partners_survive_a_restore() {
    let engine = Engine::new();
    recent_partners_setup(&engine);
    let snapshot = crate::store::Snapshot {
        waiting: vec![
            (Ticket(10), UserId(1), at(3)),
            (Ticket(11), UserId(3), at(4)),
        ],
        profiles: [1, 2, 3]
            .map(|u| (UserId(u), engine.profile(UserId(u))))
            .to_vec(),
        ..Default::default()
    };
    let restored = Engine::restore(&snapshot);
    restored.check_invariants().unwrap();
    assert_eq!(restored.active_buckets(), 1);
    chat(&restored, 2, 5);
    assert_eq!(partner(&restored, 2), Some(3));
}

#[test]
fn a_long_search_relaxes_its_own_wishes_and_says_so() {
    let engine = Engine::new().with_matching(MatchConfig {
        relax_after: Some(Duration::from_secs(60)),
        ..MatchConfig::default()
    });
    set(&engine, 1, woman_wanting_men);
    set(&engine, 2, |p| p.gender = Some(Gender::Female));
    chat(&engine, 1, 0);
    chat(&engine, 2, 1);
    assert_eq!(partner(&engine, 1), None);
    let early = engine.handle(&Event::Tick, at(59));
    assert!(told(&early, 1).is_empty());
    let out = engine.handle(&Event::Tick, at(60));
    assert_eq!(told(&out, 1)[0], Text::SearchRelaxed);
    assert_eq!(partner(&engine, 1), Some(2));
    engine.check_invariants().unwrap();
}

#[test]
fn relaxing_never_overrides_the_other_side() {
    let engine = Engine::new().with_matching(MatchConfig {
        relax_after: Some(Duration::from_secs(60)),
        ..MatchConfig::default()
    });
    set(&engine, 1, woman_wanting_men);
    set(&engine, 2, |p| {
        p.gender = Some(Gender::Female);
        p.wants_gender = Some(Gender::Female);
        p.age = Some(30);
    });
    set(&engine, 2, |p| {
        p.wants_age = Some(AgeRange { min: 18, max: 25 })
    });
    chat(&engine, 1, 0);
    chat(&engine, 2, 30);
    engine.handle(&Event::Tick, at(60));
    assert_eq!(partner(&engine, 1), None, "2 still wants 18–25, 1 is unset");
    engine.handle(&Event::Tick, at(90));
    assert_eq!(partner(&engine, 1), Some(2), "both relaxed");
}

#[test]
fn a_chat_ends_with_rating_buttons_and_one_vote_counts() {
    let engine = Engine::new();
    chat(&engine, 1, 0);
    chat(&engine, 2, 0);
    let out = cmd_at(&engine, 1, Command::Stop, at(10));
    let asks: Vec<_> = out
        .sends
        .iter()
        .filter_map(|send| match send {
            Outbound::AskRating { user, chat } => Some((user.0, *chat)),
            _ => None,
        })
        .collect();
    assert_eq!(asks, vec![(1, at(10)), (2, at(10))]);
    let data = ratings::Vote::callback_data(at(10), false);
    let out = press(&engine, 1, &data, 11);
    assert_eq!(answer(&out), Some(Text::RatingThanks));
    assert_eq!(engine.profile(UserId(2)).votes_down, 1);
    assert!(out
        .records
        .iter()
        .any(|r| matches!(r, Record::Profile { .. })));
    let again = press(&engine, 1, &ratings::Vote::callback_data(at(10), true), 12);
    assert_eq!(answer(&again), Some(Text::RatingAlreadyGiven));
    assert!(again
        .records
        .iter()
        .all(|r| !matches!(r, Record::Profile { .. })));
    assert_eq!(engine.profile(UserId(2)).votes_up, 0);
    assert_eq!(
        answer(&press(&engine, 2, "rate:1:up", 13)),
        Some(Text::ButtonExpired)
    );
    assert_eq!(
        answer(&press(&engine, 2, "rate:junk", 13)),
        Some(Text::ButtonExpired)
    );
}

#[test]
fn a_poorly_rated_user_is_matched_last_not_never() {
    let engine = Engine::new();
    set(&engine, 1, |p| {
        man_wanting_women(p);
        p.votes_up = 1;
        p.votes_down = 4;
    });
    assert!(engine.profile(UserId(1)).low_rated());
    set(&engine, 2, man_wanting_women);
    chat(&engine, 1, 0);
    chat(&engine, 2, 1);
    set(&engine, 9, woman_wanting_men);
    chat(&engine, 9, 2);
    assert_eq!(partner(&engine, 9), Some(2), "1 waited longer but is last");
    set(&engine, 8, woman_wanting_men);
    chat(&engine, 8, 3);
    assert_eq!(partner(&engine, 8), Some(1));
}

#[test]
fn settings_presses_change_the_profile_and_edit_the_menu() {
    let engine = Engine::new();
    let out = cmd_at(&engine, 1, Command::Settings, NOW);
    assert!(matches!(
        out.sends[..],
        [Outbound::Settings { message: None, .. }]
    ));
    let out = menu_press(&engine, 1, "set:wg", 1);
    let edited = out.sends.iter().find_map(|send| match send {
        Outbound::Settings {
            message: Some(m),
            view,
            ..
        } => Some((*m, view.clone())),
        _ => None,
    });
    let (message, view) = edited.expect("the menu is edited");
    assert_eq!(message, MessageId(500));
    assert_eq!(view.wants_gender, Some(Gender::Male));
    assert_eq!(engine.profile(UserId(1)).wants_gender, Some(Gender::Male));
    assert_eq!(
        answer(&menu_press(&engine, 1, "set:bogus", 2)),
        Some(Text::ButtonExpired)
    );
}

#[test]
fn a_searcher_who_changes_wishes_moves_bucket() {
    let engine = Engine::new();
    set(&engine, 1, woman_wanting_men);
    set(&engine, 2, |p| p.gender = Some(Gender::Female));
    chat(&engine, 1, 0);
    chat(&engine, 2, 1);
    assert_eq!(engine.counts(), (2, 0));
    // 1 cycles "meet" from men to women: 2 fits now, and is matched at once.
    let out = menu_press(&engine, 1, "set:wg", 2);
    assert_eq!(engine.profile(UserId(1)).wants_gender, Some(Gender::Female));
    assert_eq!(partner(&engine, 1), Some(2));
    assert_eq!(told(&out, 1), vec![Text::PartnerFound]);
    engine.check_invariants().unwrap();
}

#[test]
fn the_age_is_typed_with_clear_errors_and_never_relayed() {
    let engine = Engine::new();
    chat(&engine, 1, 0);
    chat(&engine, 2, 0);
    let out = menu_press(&engine, 1, "set:age", 1);
    assert_eq!(told(&out, 1), vec![Text::AskAge]);
    let out = typed(&engine, 1, "abc", 2);
    assert_eq!(told(&out, 1), vec![Text::AgeNotANumber]);
    assert!(out
        .sends
        .iter()
        .all(|s| !matches!(s, Outbound::Relay { .. })));
    let out = msg_at(&engine, 1, 78, true, at(2));
    assert_eq!(
        told(&out, 1),
        vec![Text::AgeNotANumber],
        "a photo is no age"
    );
    let out = typed(&engine, 1, "150", 3);
    assert_eq!(told(&out, 1), vec![Text::AgeOutOfRange]);
    let out = typed(&engine, 1, "25", 4);
    assert!(out
        .sends
        .iter()
        .all(|s| !matches!(s, Outbound::Relay { .. })));
    assert_eq!(engine.profile(UserId(1)).age, Some(25));
    let out = typed(&engine, 1, "26", 5);
    assert!(
        matches!(out.sends[..], [Outbound::Relay { .. }]),
        "answered: texts relay again"
    );
}

#[test]
fn an_unanswered_age_question_expires() {
    let engine = Engine::new();
    chat(&engine, 1, 0);
    chat(&engine, 2, 0);
    menu_press(&engine, 1, "set:age", 1);
    let out = typed(&engine, 1, "25", 1 + settings::AGE_QUESTION_SECS);
    assert!(matches!(out.sends[..], [Outbound::Relay { .. }]));
    assert_eq!(engine.profile(UserId(1)).age, None);
}

#[test]
fn protect_content_follows_the_sender_and_the_default() {
    let engine = Engine::new();
    chat(&engine, 1, 0);
    chat(&engine, 2, 0);
    let out = menu_press(&engine, 1, "set:pc", 1);
    assert_eq!(engine.profile(UserId(1)).protect_content, Some(true));
    assert!(!out.sends.is_empty());
    let mine = msg_at(&engine, 1, 5, true, at(2));
    assert!(matches!(&mine.sends[..], [Outbound::Protected(inner)]
        if matches!(**inner, Outbound::Relay { .. })));
    let theirs = msg_at(&engine, 2, 6, true, at(2));
    assert!(matches!(theirs.sends[..], [Outbound::Relay { .. }]));

    let protected = Engine::new().with_protect_content(true);
    chat(&protected, 1, 0);
    chat(&protected, 2, 0);
    menu_press(&protected, 2, "set:pc", 1);
    assert_eq!(protected.profile(UserId(2)).protect_content, Some(false));
    let mine = msg_at(&protected, 1, 5, true, at(2));
    assert!(matches!(mine.sends[..], [Outbound::Protected(_)]));
    let theirs = msg_at(&protected, 2, 6, true, at(2));
    assert!(matches!(theirs.sends[..], [Outbound::Relay { .. }]));
}
