//! Waiting on the fake's webhook deliveries: the fake POSTs each update to
//! the bot and notes the status it got back, as Telegram would.

use randchat::testing::FakeBotApi;
use std::time::Duration;

/// How long a webhook test waits for an answer it expects.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Waits until the fake has POSTed `update_id` and got `status` back.
pub async fn wait_for_attempt(fake: &FakeBotApi, update_id: i64, status: u16) {
    wait_for_attempts(fake, update_id, status, 1).await
}

/// Waits until `update_id` got `status` back `times` times.
pub async fn wait_for_attempts(fake: &FakeBotApi, update_id: i64, status: u16, times: usize) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let seen = || {
        let attempts = fake.webhook_attempts();
        attempts
            .iter()
            .filter(|a| **a == (update_id, status))
            .count()
    };
    while seen() < times {
        assert!(
            tokio::time::Instant::now() < deadline,
            "update {update_id} never got {status}; attempts: {:?}",
            fake.webhook_attempts()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
