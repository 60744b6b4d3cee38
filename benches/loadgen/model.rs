//! The simulated users and a reference model of the bot's matching.
//!
//! The load generator is the only source of updates and the bot applies
//! them one at a time in update_id order, so the pairing the bot makes is
//! determined: an idle user's /chat pairs with the oldest waiter, or waits.
//! Replaying the same rules here tells the load generator, for every message
//! it injects, which chat the copy must reach. That is how it counts lost,
//! duplicated and misrouted messages without asking the bot anything.
//! (Timeouts and flood limits, the only other rules that move users, are
//! set far beyond the run by the load generator.)

use randchat::testing::{LeanUpdate, SimKind};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Idle,
    Searching,
    Chatting(usize),
}

/// What a simulated user does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Chat,
    Next,
    Stop,
    /// A message of this kind; relayed when the sender is chatting.
    Send(SimKind),
}

pub struct Model {
    base_id: i64,
    presence: Vec<Presence>,
    queue: VecDeque<usize>,
    next_message_id: Vec<i64>,
    /// Content fields (without braces) for each message kind.
    contents: Vec<(SimKind, String)>,
    date: u64,
    rng: u64,
    pub counts: ModelCounts,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ModelCounts {
    pub messages: u64,
    pub relays: u64,
    pub commands: u64,
}

/// The kinds users send, text weighted as in real chats.
const KIND_WEIGHTS: [(SimKind, u32); 14] = [
    (SimKind::Text, 60),
    (SimKind::Photo, 8),
    (SimKind::Sticker, 8),
    (SimKind::Voice, 4),
    (SimKind::Animation, 4),
    (SimKind::Video, 3),
    (SimKind::VideoNote, 3),
    (SimKind::Document, 2),
    (SimKind::Audio, 2),
    (SimKind::Location, 2),
    (SimKind::Venue, 1),
    (SimKind::Contact, 1),
    (SimKind::Poll, 1),
    (SimKind::Dice, 1),
];

impl Model {
    pub fn new(users: usize, base_id: i64, seed: u64) -> Self {
        let contents = SimKind::ALL
            .iter()
            .map(|&kind| {
                let content = kind.content(7).to_string();
                let inner = content[1..content.len() - 1].to_owned();
                (kind, inner)
            })
            .collect();
        Model {
            base_id,
            presence: vec![Presence::Idle; users],
            queue: VecDeque::new(),
            next_message_id: vec![1; users],
            contents,
            date: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            rng: seed | 1,
            counts: ModelCounts::default(),
        }
    }

    /// A model of a store where users `2i` and `2i + 1` chat, for `i < chats`.
    pub fn with_pairs(users: usize, chats: usize, base_id: i64, seed: u64) -> Self {
        let mut model = Model::new(users, base_id, seed);
        for user in 0..2 * chats {
            model.presence[user] = Presence::Chatting(user ^ 1);
        }
        model
    }

    pub fn users(&self) -> usize {
        self.presence.len()
    }

    pub fn user_id(&self, user: usize) -> i64 {
        self.base_id + user as i64
    }

    fn random(&mut self) -> u64 {
        let x = &mut self.rng;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// A random user and what they do: chatting users mostly talk, now and
    /// then skip (/next) or leave (/stop); idle users search again.
    pub fn next_action(&mut self) -> (usize, Action) {
        loop {
            let user = (self.random() % self.users() as u64) as usize;
            let action = match self.presence[user] {
                Presence::Searching => continue,
                Presence::Idle => Action::Chat,
                Presence::Chatting(_) => match self.random() % 1000 {
                    0..=14 => Action::Next,
                    15..=19 => Action::Stop,
                    _ => Action::Send(self.random_kind()),
                },
            };
            return (user, action);
        }
    }

    fn random_kind(&mut self) -> SimKind {
        let total: u32 = KIND_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut pick = (self.random() % u64::from(total)) as u32;
        for (kind, weight) in KIND_WEIGHTS {
            if pick < weight {
                return kind;
            }
            pick -= weight;
        }
        SimKind::Text
    }

    /// Applies `action` as the bot will, and builds its update.
    pub fn apply(&mut self, user: usize, action: Action) -> LeanUpdate {
        let track = match action {
            Action::Chat => {
                if self.presence[user] == Presence::Idle {
                    self.search(user);
                }
                None
            }
            Action::Next => {
                match self.presence[user] {
                    Presence::Chatting(partner) => {
                        self.presence[partner] = Presence::Idle;
                        self.presence[user] = Presence::Idle;
                        self.search(user);
                    }
                    Presence::Idle => self.search(user),
                    Presence::Searching => {}
                }
                None
            }
            Action::Stop => {
                match self.presence[user] {
                    Presence::Chatting(partner) => {
                        self.presence[partner] = Presence::Idle;
                        self.presence[user] = Presence::Idle;
                    }
                    Presence::Searching => {
                        self.queue.retain(|&u| u != user);
                        self.presence[user] = Presence::Idle;
                    }
                    Presence::Idle => {}
                }
                None
            }
            Action::Send(_) => Some(match self.presence[user] {
                Presence::Chatting(partner) => Some(self.user_id(partner)),
                _ => None,
            }),
        };
        let message_id = self.next_message_id[user];
        self.next_message_id[user] += 1;
        let json = self.message_json(user, message_id, action);
        match track {
            None => {
                self.counts.commands += 1;
                LeanUpdate { json, track: None }
            }
            Some(to) => {
                self.counts.messages += 1;
                self.counts.relays += u64::from(to.is_some());
                let from = self.user_id(user);
                LeanUpdate {
                    json,
                    track: Some((from, message_id, to)),
                }
            }
        }
    }

    fn search(&mut self, user: usize) {
        match self.queue.pop_front() {
            Some(waiter) => {
                self.presence[waiter] = Presence::Chatting(user);
                self.presence[user] = Presence::Chatting(waiter);
            }
            None => {
                self.queue.push_back(user);
                self.presence[user] = Presence::Searching;
            }
        }
    }

    /// The update as Telegram would send it, without `update_id`.
    fn message_json(&self, user: usize, message_id: i64, action: Action) -> String {
        let command = |name: &str| {
            format!(
                r#""text":"{name}","entities":[{{"offset":0,"length":{},"type":"bot_command"}}]"#,
                name.len()
            )
        };
        let content = match action {
            Action::Chat => command("/chat"),
            Action::Next => command("/next"),
            Action::Stop => command("/stop"),
            Action::Send(kind) => {
                let (_, content) = self
                    .contents
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .expect("kind");
                content.clone()
            }
        };
        let id = self.user_id(user);
        format!(
            r#"{{"message":{{"message_id":{message_id},"from":{{"id":{id},"is_bot":false,"first_name":"User","language_code":"en"}},"chat":{{"id":{id},"type":"private","first_name":"User"}},"date":{},{content}}}}}"#,
            self.date
        )
    }
}
