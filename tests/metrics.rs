//! `/metrics` after an end-to-end run: every series issue 7 asks for is
//! there with the values the run implies, and none carries a user id or
//! any content.

mod support;

use std::time::{Duration, Instant};
use support::{chatting, spawn_app_with, Fault};

const TOKEN: &str = "metrics-test-token-0123456789";

/// The value of the sample line that starts with `series ` (exact labels).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_after_a_conversation_a_searcher_an_api_error_and_a_login() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", TOKEN)]).await;
    let fake = app.fake.clone();
    let (a, b, _to_a, mut to_b) = chatting(&fake, 21_001, 21_002).await;
    let first = a.send_text("metrics never show this");
    let copy = to_b.expect_copy(21_001, first).await;
    let support::Delivery::Copy { sent_id, .. } = copy else {
        unreachable!("expect_copy returns a copy")
    };
    // A reply to the copy becomes a reply to the original on the other side.
    b.reply_text(sent_id, "nor this reply");
    a.send_album(2);
    let searcher = fake.user(21_003, "Searcher", None);
    searcher.send_command("/chat");
    // One Bot API error with a code: the next sendMessage gets a 400.
    fake.fail_next(
        "sendMessage",
        Fault::Api {
            code: 400,
            description: "Bad Request: injected".into(),
        },
    );
    fake.user(21_004, "Unlucky", None).send_command("/help");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = app.admin_url();
    for token in [TOKEN, "a-wrong-token-of-some-length"] {
        http.post(format!("{base}/login"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
    }

    let expected: [(&str, f64); 10] = [
        ("randchat_searching_users", 1.0),
        ("randchat_active_chats", 1.0),
        ("randchat_matches_total", 1.0),
        ("randchat_relayed_total{kind=\"message\"}", 1.0),
        ("randchat_relayed_total{kind=\"reply\"}", 1.0),
        ("randchat_relayed_total{kind=\"album_part\"}", 2.0),
        ("randchat_api_errors_total{code=\"400\"}", 1.0),
        ("randchat_dashboard_logins_total{result=\"accepted\"}", 1.0),
        ("randchat_dashboard_logins_total{result=\"refused\"}", 1.0),
        ("randchat_update_lag_seconds", 0.0),
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let caught_up = expected
            .iter()
            .all(|(series, want)| value(&text, series) == Some(*want));
        if caught_up {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never caught up:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // The commit latency histogram: cumulative buckets ending in +Inf = count.
    let count = value(&text, "randchat_commit_seconds_count").unwrap();
    assert!(count >= 5.0, "every batch is a commit: {count}");
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("randchat_commit_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&count));
    assert!(value(&text, "randchat_updates_total").unwrap() >= 6.0);
    for secret in [
        "21001",
        "21002",
        "21003",
        "metrics never show this",
        "nor this reply",
        TOKEN,
    ] {
        assert!(!text.contains(secret), "/metrics shows {secret:?}");
    }
}
