//! A one-tap captcha before a user's first chat (`CAPTCHA=on`).
//!
//! Most spam in random chats comes from scripts that press /chat, post and
//! skip. The check is one tap for a person: the text names an animal ("tap
//! the fox") and six buttons show animal emoji in a shuffled order. The
//! button data is only a position (`cap:0`…`cap:5`), so a script must read
//! the word, know which emoji it means and find its position; pressing at
//! random passes one time in six, and every miss asks again with a new
//! order.
//!
//! Passing is kept in the user's [`Profile`](super::Profile)
//! (`captcha_passed`), so it is asked once per user, ever. The open
//! challenge itself is only in memory: after a restart a press on an old
//! challenge gets a fresh one. /chat and /next wait until the user passes;
//! passing starts the search they asked for.
//!
//! The engine reads no clock and no random source, so the order is drawn
//! from a seed the shell chooses at start-up, mixed with the user, the time
//! and a counter.

use super::{Command, Engine, Presence};
use crate::domain::{Timestamp, UserId};
use crate::engine::effect::{Outbound, Outcome};
use crate::i18n::Text;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

/// The callback data prefix of the captcha's buttons.
pub const CALLBACK_PREFIX: &str = "cap:";

/// The pictures a challenge shows. Serialized in the outbox: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Animal {
    Cat,
    Dog,
    Fox,
    Frog,
    Owl,
    Panda,
}

impl Animal {
    pub const ALL: [Animal; 6] = [
        Animal::Cat,
        Animal::Dog,
        Animal::Fox,
        Animal::Frog,
        Animal::Owl,
        Animal::Panda,
    ];

    /// The button label.
    pub fn emoji(self) -> &'static str {
        match self {
            Animal::Cat => "🐱",
            Animal::Dog => "🐶",
            Animal::Fox => "🦊",
            Animal::Frog => "🐸",
            Animal::Owl => "🦉",
            Animal::Panda => "🐼",
        }
    }

    /// The animal's name, as the question says it.
    pub fn name(self) -> Text {
        match self {
            Animal::Cat => Text::AnimalCat,
            Animal::Dog => Text::AnimalDog,
            Animal::Fox => Text::AnimalFox,
            Animal::Frog => Text::AnimalFrog,
            Animal::Owl => Text::AnimalOwl,
            Animal::Panda => Text::AnimalPanda,
        }
    }
}

/// An open challenge: the buttons in order, and which one is right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Challenge {
    choices: [Animal; 6],
    answer: usize,
}

/// The callback data of the button at `position`.
pub fn callback_data(position: usize) -> String {
    format!("{CALLBACK_PREFIX}{position}")
}

/// SplitMix64: a good spread from a counter, with no dependencies.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Engine {
    /// Holds `user`'s /chat or /next for the captcha if they must pass it
    /// first, asking them. Returns true if held.
    pub(super) fn hold_for_captcha(&self, user: UserId, now: Timestamp, out: &mut Outcome) -> bool {
        let must = self.antispam.captcha
            && self.presence_of(user) == Presence::Idle
            && !self.profile(user).captcha_passed;
        if must {
            self.challenge(user, now, out);
        }
        must
    }

    /// Asks `user` a new challenge.
    fn challenge(&self, user: UserId, now: Timestamp, out: &mut Outcome) {
        let draw = self.captcha_draws.fetch_add(1, Ordering::Relaxed);
        let mut random = mix(self.captcha_seed ^ mix(user.0 as u64 ^ mix(now.0 ^ mix(draw))));
        let mut choices = Animal::ALL;
        for i in (1..choices.len()).rev() {
            choices.swap(i, (random % (i as u64 + 1)) as usize);
            random = mix(random);
        }
        let answer = (random % choices.len() as u64) as usize;
        self.captchas.insert(user, Challenge { choices, answer });
        out.sends.push(Outbound::Captcha {
            user,
            answer: choices[answer],
            choices: choices.to_vec(),
        });
    }

    /// A press on a captcha button: `position` is what follows `cap:`.
    pub(super) fn captcha_answer(
        &self,
        user: UserId,
        query_id: &str,
        position: &str,
        now: Timestamp,
        out: &mut Outcome,
    ) {
        let open = self.captchas.get(&user).map(|c| c.clone());
        let passed = self.profile(user).captcha_passed;
        let answer = |text| Outbound::AnswerCallback {
            user,
            query_id: query_id.to_owned(),
            text,
        };
        let Some(open) = open.filter(|_| self.antispam.captcha && !passed) else {
            out.sends.push(answer(Some(Text::ButtonExpired)));
            return;
        };
        out.sends.push(answer(None));
        if position.parse::<usize>().ok() != Some(open.answer) {
            out.tell(user, Text::CaptchaWrong);
            return self.challenge(user, now, out);
        }
        self.captchas.remove(&user);
        self.update_profile(user, out, |profile| profile.captcha_passed = true);
        out.tell(user, Text::CaptchaPassed);
        self.command(user, Command::Chat, now, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AntispamConfig, Event, Presence};

    const NOW: Timestamp = Timestamp(1_700_000_000);

    fn engine() -> Engine {
        Engine::new().with_antispam(AntispamConfig {
            captcha: true,
            ..AntispamConfig::default()
        })
    }

    fn chat(engine: &Engine, user: UserId) -> Outcome {
        let command = Event::Command {
            user,
            command: Command::Chat,
        };
        engine.handle(&command, NOW)
    }

    fn press(engine: &Engine, user: UserId, data: &str) -> Outcome {
        let press = Event::Callback {
            user,
            query_id: "q".into(),
            data: data.into(),
        };
        engine.handle(&press, NOW)
    }

    /// The challenge sent in `out`: the right position.
    fn right_position(out: &Outcome) -> usize {
        out.sends
            .iter()
            .find_map(|send| match send {
                Outbound::Captcha {
                    answer, choices, ..
                } => choices.iter().position(|c| c == answer),
                _ => None,
            })
            .expect("a challenge")
    }

    #[test]
    fn chat_waits_for_the_captcha_and_passing_starts_the_search() {
        let engine = engine();
        let user = UserId(5);
        let asked = chat(&engine, user);
        assert_eq!(engine.presence_of(user), Presence::Idle, "held");
        let right = right_position(&asked);
        let wrong = (right + 1) % 6;
        let missed = press(&engine, user, &callback_data(wrong));
        assert!(missed.sends.contains(&Outbound::Tell {
            user,
            text: Text::CaptchaWrong
        }));
        let right = right_position(&missed);
        let passed = press(&engine, user, &callback_data(right));
        assert!(engine.profile(user).captcha_passed);
        assert!(matches!(engine.presence_of(user), Presence::Searching(_)));
        assert!(passed.records.iter().any(|r| matches!(
            r,
            crate::engine::Record::Profile { profile, .. } if profile.captcha_passed
        )));
        // Never asked again.
        engine.handle(
            &Event::Command {
                user,
                command: Command::Stop,
            },
            NOW,
        );
        let again = chat(&engine, user);
        assert!(!again
            .sends
            .iter()
            .any(|s| matches!(s, Outbound::Captcha { .. })));
    }

    #[test]
    fn odd_presses_and_a_captcha_that_is_off() {
        let engine = engine();
        let user = UserId(6);
        let stray = press(&engine, user, "cap:0");
        assert!(stray.sends.iter().any(|s| matches!(
            s,
            Outbound::AnswerCallback {
                text: Some(Text::ButtonExpired),
                ..
            }
        )));
        chat(&engine, user);
        press(&engine, user, "cap:💥");
        assert_eq!(engine.presence_of(user), Presence::Idle);
        let off = Engine::new();
        chat(&off, user);
        assert!(matches!(off.presence_of(user), Presence::Searching(_)));
    }
}
