//! Reading what one simulated user received, in order.
//!
//! An `Inbox` remembers how far a test has read, so "A is told X" means the
//! next matching delivery after the ones already checked, not any delivery
//! ever; a user who is told "partner found" twice needs two matches.

use super::{Delivery, FakeBotApi, SimUser};
use randchat::i18n::Text;
use std::time::{Duration, Instant};

pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Inbox {
    fake: FakeBotApi,
    chat: i64,
    read: usize,
}

impl Inbox {
    pub fn new(fake: &FakeBotApi, chat: i64) -> Self {
        Inbox {
            fake: fake.clone(),
            chat,
            read: 0,
        }
    }

    /// Waits for the next delivery matching `predicate`, skipping others.
    pub async fn expect(&mut self, what: &str, predicate: impl Fn(&Delivery) -> bool) -> Delivery {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let received = self.fake.received(self.chat);
            if let Some(at) = received[self.read.min(received.len())..]
                .iter()
                .position(&predicate)
            {
                let found = received[self.read + at].clone();
                self.read += at + 1;
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "chat {} never received {what}; unread deliveries: {:#?}",
                    self.chat,
                    &received[self.read.min(received.len())..]
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the catalog text `text`.
    pub async fn expect_text(&mut self, text: Text) {
        let wanted = text.render();
        self.expect(
            &format!("{text:?}"),
            |d| matches!(d, Delivery::Text { text, .. } if text == wanted),
        )
        .await;
    }

    /// Waits for a copy of `message_id` from `from`'s chat.
    pub async fn expect_copy(&mut self, from: i64, message_id: i64) -> Delivery {
        self.expect(&format!("a copy of message {message_id} from {from}"), |d| {
            matches!(d, Delivery::Copy { from_chat_id, message_id: m, .. } if *from_chat_id == from && *m == message_id)
        })
        .await
    }

    /// Everything not yet read.
    pub fn unread(&self) -> Vec<Delivery> {
        let received = self.fake.received(self.chat);
        received[self.read.min(received.len())..].to_vec()
    }
}

/// Two new users, `a` and `b`, paired with each other; their inboxes are
/// read past "partner found".
pub async fn chatting(fake: &FakeBotApi, a: i64, b: i64) -> (SimUser, SimUser, Inbox, Inbox) {
    let (ua, ub) = (fake.user(a, "Ann", None), fake.user(b, "Ben", None));
    let (mut to_a, mut to_b) = (Inbox::new(fake, a), Inbox::new(fake, b));
    ua.send_command("/chat");
    ub.send_command("/chat");
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    (ua, ub, to_a, to_b)
}

/// `user` sends /report, then picks `reason` (e.g. "report:abuse") on the
/// question's keyboard, and is thanked. Returns the question's message id.
pub async fn report_with_reason(user: &SimUser, inbox: &mut Inbox, reason: &str) -> i64 {
    user.send_command("/report");
    let question = Text::ReportAskReason.render();
    let asked = inbox
        .expect(
            "the reason question",
            |d| matches!(d, Delivery::Text { text, .. } if text == question),
        )
        .await;
    let Delivery::Text { sent_id, .. } = asked else {
        unreachable!("expect returned a text")
    };
    user.press_button(sent_id, reason);
    inbox.expect_text(Text::ReportThanks).await;
    sent_id
}
