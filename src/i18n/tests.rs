//! Catalog completeness, serialized positions and argument rendering.

use super::*;

#[test]
fn every_key_has_non_empty_english_text() {
    for text in Text::ALL {
        assert!(!text.render().trim().is_empty(), "{text:?} is empty");
    }
}

/// The outbox stores keys by position: `ALL` lists them in declaration
/// order, so a reordering shows up here as a changed index.
#[test]
fn keys_keep_their_serialized_positions() {
    for (index, text) in Text::ALL.into_iter().enumerate() {
        let bytes = postcard::to_allocvec(&text).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&(index as u32)).unwrap());
    }
    let pinned = [
        (Text::Welcome, 0),
        (Text::StatusSearching, 21),
        (Text::ChatIdleEnded, 22),
        (Text::SearchTimedOut, 23),
        (Text::SlowDownMessages, 24),
        (Text::SlowDownSearches, 25),
    ];
    for (text, index) in pinned {
        assert_eq!(Text::ALL[index], text);
    }
}

/// The `{n}` placeholders in a sentence, sorted.
fn placeholders(sentence: &str) -> Vec<String> {
    let mut found: Vec<String> = (0..10)
        .map(|n| format!("{{{n}}}"))
        .filter(|p| sentence.contains(p.as_str()))
        .collect();
    found.sort();
    found
}

#[test]
fn every_catalog_has_every_key_with_the_english_placeholders() {
    for text in Text::ALL {
        let english = placeholders(text.render());
        for lang in Lang::ALL {
            let sentence = text.render_in(lang);
            assert!(!sentence.trim().is_empty(), "{text:?} is empty in {lang:?}");
            assert_eq!(
                placeholders(sentence),
                english,
                "{text:?} in {lang:?} has other placeholders than in English: {sentence:?}"
            );
        }
    }
}

#[test]
fn every_menu_command_is_described_in_every_language() {
    for lang in Lang::ALL {
        let menu = commands(lang);
        assert_eq!(menu.len(), MenuCommand::ALL.len());
        for (name, about) in menu {
            assert!(!about.trim().is_empty(), "/{name} in {lang:?}");
            // Telegram's limits for setMyCommands.
            assert!(
                (3..=256).contains(&about.chars().count()),
                "/{name} in {lang:?}"
            );
        }
    }
}

#[test]
fn translations_are_not_english_left_in_place() {
    let same: Vec<Text> = Text::ALL
        .into_iter()
        .filter(|t| t.render_in(Lang::Ru) == t.render() || t.render_in(Lang::Es) == t.render())
        .collect();
    assert!(same.is_empty(), "untranslated: {same:?}");
}

#[test]
fn arguments_are_rendered_in_the_sentence_language() {
    let ru = Text::MediaRefused.render_with_in(Lang::Ru, &[Arg::Text(Text::MediaPhotos)]);
    assert!(ru.contains(Text::MediaPhotos.render_in(Lang::Ru)), "{ru}");
    let es = Text::StillBanned.render_with_in(Lang::Es, &[Arg::Until(0)]);
    assert!(es.contains(Text::BanForever.render_in(Lang::Es)), "{es}");
}

#[test]
fn arguments_fill_placeholders() {
    assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc_minute(1_795_334_400), "2026-11-22 08:00 UTC");
    assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
    let until = Text::StillBanned.render_with(&[Arg::Until(1_795_334_400)]);
    assert!(until.contains("2026-11-22 08:00 UTC"), "{until}");
    let forever = Text::StillBanned.render_with(&[Arg::Until(0)]);
    assert!(forever.contains(Text::BanForever.render()), "{forever}");
    let stats = Text::AdminStats.render_with(&[Arg::Number(1), Arg::Number(2), Arg::Number(3)]);
    assert!(!stats.contains('{'), "{stats}");
}
