//! The bot on the Redis store, whatever `TEST_STORE` says: a
//! Redis restart mid-run, an outage, and the operator commands.
//!
//! Each test gives its app a private redis-server; the restart and outage
//! tests use a persistent one (append-only file, `appendfsync always`) so
//! the state is still there when the server comes back.

mod support;

use randchat::i18n::Text;
use randchat::testing::RedisServer;
use std::process::Output;
use support::app::{bot_command, unstarted_app};
use support::{chatting, TestApp};

/// An app on a persistent private Redis, started.
async fn app_on_persistent_redis() -> TestApp {
    let mut app = unstarted_app(&[]).await;
    app.redis = Some(RedisServer::start_persistent());
    app.start().await;
    assert!(
        app.logs().contains("using the Redis store"),
        "the bot is not on Redis:\n{}",
        app.logs()
    );
    app
}

fn redis(app: &mut TestApp) -> &mut RedisServer {
    app.redis.as_mut().expect("the app has a Redis server")
}

#[tokio::test]
async fn after_redis_restarts_the_bot_reconnects_and_the_state_is_consistent() {
    let mut app = app_on_persistent_redis().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 9101, 9102).await;
    let c = fake.user(9103, "Cid", None);
    let mut to_c = support::Inbox::new(&fake, 9103);
    c.send_command("/chat");
    to_c.expect_text(Text::Searching).await;
    let before = a.send_text("before the Redis restart");
    to_b.expect_copy(9101, before).await;

    redis(&mut app).restart();

    // The bot reconnects by itself: relays flow and new state is committed.
    let after = b.send_text("after the Redis restart");
    to_a.expect_copy(9102, after).await;
    a.send_command("/next");
    to_b.expect_text(Text::PartnerLeft).await;
    to_a.expect_text(Text::PartnerFound).await;
    to_c.expect_text(Text::PartnerFound).await;

    // What the bot now believes is what Redis holds: a bot started afresh
    // from Redis alone sees A with C, and B idle.
    app.kill();
    app.start().await;
    let hello = c.send_text("still paired after both restarts?");
    to_a.expect_copy(9103, hello).await;
    b.send_command("/stop");
    to_b.expect_text(Text::NothingToStop).await;
    a.send_command("/stop");
    to_a.expect_text(Text::YouLeftChat).await;
    to_c.expect_text(Text::PartnerLeft).await;
}

#[tokio::test]
async fn while_redis_is_down_changes_are_refused_and_nothing_is_half_done() {
    let mut app = app_on_persistent_redis().await;
    let fake = app.fake.clone();
    let (a, b, mut to_a, mut to_b) = chatting(&fake, 9201, 9202).await;

    redis(&mut app).kill();
    a.send_command("/stop");
    to_a.expect_text(Text::TemporarilyUnavailable).await;
    let c = fake.user(9203, "Cid", None);
    let mut to_c = support::Inbox::new(&fake, 9203);
    c.send_command("/chat");
    to_c.expect_text(Text::TemporarilyUnavailable).await;

    redis(&mut app).start_again();
    // The refused /stop left the pair whole: B was never told A left, and
    // the two still reach each other once Redis is back.
    let back = b.send_text("are you still there?");
    to_a.expect_copy(9202, back).await;
    assert!(
        !to_b
            .unread()
            .iter()
            .any(|d| matches!(d, support::Delivery::Text { text, .. } if *text == Text::PartnerLeft.render())),
        "B was told about a /stop that was refused"
    );
    a.send_command("/stop");
    to_a.expect_text(Text::YouLeftChat).await;
    to_b.expect_text(Text::PartnerLeft).await;
    // C's refused search left no trace: C is idle, so /chat starts a search.
    c.send_command("/chat");
    to_c.expect_text(Text::Searching).await;
}

#[tokio::test]
async fn a_commit_that_timed_out_but_landed_is_carried_through() {
    let app = app_on_persistent_redis().await;
    let fake = app.fake.clone();
    let (a, b) = (fake.user(9401, "Ann", None), fake.user(9402, "Ben", None));
    let (mut to_a, mut to_b) = (
        support::Inbox::new(&fake, 9401),
        support::Inbox::new(&fake, 9402),
    );
    a.send_command("/chat");
    to_a.expect_text(Text::Searching).await;
    // Let the bot commit the removal of that send from its outbox (it
    // follows about 10 ms later), so B's pairing is the next commit.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Writes stall for longer than the store waits for a reply (3 s), then
    // go through: the bot sees B's pairing fail, although it lands.
    let redis = app.redis.as_ref().unwrap();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(4500)
        .arg("WRITE")
        .query_async(&mut conn)
        .await
        .unwrap();
    b.send_command("/chat");

    // The reload after the failure finds the batch in Redis: it landed
    // whole, so both are told they are paired and nobody hears of trouble.
    to_a.expect_text(Text::PartnerFound).await;
    to_b.expect_text(Text::PartnerFound).await;
    let unavailable = Text::TemporarilyUnavailable.render();
    assert!(
        fake.received(9402)
            .iter()
            .all(|d| !matches!(d, support::Delivery::Text { text, .. } if *text == unavailable)),
        "B was told of a failure although the pairing landed"
    );
    assert!(
        app.logs().contains("had landed"),
        "the commit did not time out:\n{}",
        app.logs()
    );
    let hi = a.send_text("so we are paired after all");
    to_b.expect_copy(9401, hi).await;
}

/// Runs `randchat <args>` against `app`'s Redis and data directory.
fn randchat(app: &TestApp, args: &[&str]) -> Output {
    bot_command(&app.fake.url(), app.dir.path())
        .envs(app.store_env())
        .args(args)
        .output()
        .expect("run randchat")
}

#[tokio::test]
async fn stats_read_redis_and_backup_and_restore_say_they_are_embedded_only() {
    let app = app_on_persistent_redis().await;
    let fake = app.fake.clone();
    let _pair = chatting(&fake, 9301, 9302).await;

    let output = randchat(&app, &["stats", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stats["pairs"], 1, "{stats}");

    let output = randchat(&app, &["stats"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Redis at unix://"), "{text}");

    let backup = app.dir.path().join("snap.redb");
    for args in [
        vec!["backup", backup.to_str().unwrap()],
        vec!["restore", backup.to_str().unwrap()],
    ] {
        let output = randchat(&app, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.contains("embedded store only") && err.contains("docs/redis.md"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!backup.exists());
}

#[tokio::test]
async fn an_unreachable_redis_at_start_up_is_one_line_and_exit_1_to_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}", dir.path().join("nobody.sock").display());
    let output = bot_command("http://127.0.0.1:9", dir.path())
        .env("REDIS_URL", &url)
        .output()
        .expect("run randchat");
    // Not 2: Redis may just not be up yet, and supervisors don't restart
    // on 2.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("cannot reach Redis") && last.contains("REDIS_URL"),
        "{err}"
    );
}

// Multi-threaded: the fake Bot API must answer while the test waits for
// the command.
#[tokio::test(flavor = "multi_thread")]
async fn check_config_pings_redis() {
    let app = app_on_persistent_redis().await;
    let output = randchat(&app, &["check-config"]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(out.contains("STORE              = redis"), "{out}");
    assert!(
        out.contains("Redis: reachable; keys under prefix randchat:"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let nobody = format!("unix://{}", dir.path().join("nobody.sock").display());
    let output = bot_command(&app.fake.url(), app.dir.path())
        .env("REDIS_URL", &nobody)
        .arg("check-config")
        .output()
        .expect("run randchat");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cannot reach Redis"), "{err}");
}
