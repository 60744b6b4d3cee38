//! What only the Redis store has: a key prefix, a layout version on a
//! shared server, and a server that can go away and come back.

use super::harness::{Harness, Redis, PREFIX};
use randchat::engine::Record;
use randchat::store::{Backend, Batch, RedisStore, StoreError};
use randchat::testing::RedisServer;
use std::time::{Duration, Instant};

fn maintenance(on: bool) -> Batch {
    Batch {
        records: vec![Record::Maintenance { on }],
        last_update_id: Some(1),
        ..Batch::default()
    }
}

#[tokio::test]
async fn two_prefixes_on_one_server_do_not_see_each_other() {
    let server = RedisServer::start();
    let a = RedisStore::open(&server.url(), "bot-a:").await.unwrap();
    let b = RedisStore::open(&server.url(), "bot-b:").await.unwrap();
    a.clone().commit(maintenance(true)).await.unwrap();
    assert!(a.clone().load().await.unwrap().maintenance);
    let other = b.clone().load().await.unwrap();
    assert!(!other.maintenance);
    assert_eq!(other.last_update_id, None);

    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("bot-a:") || k.starts_with("bot-b:")),
        "every key is under a prefix: {keys:?}"
    );
}

#[tokio::test]
async fn a_newer_layout_is_refused_and_left_alone() {
    let h = Redis::new().await;
    let mut conn = h.raw().await;
    let meta = format!("{PREFIX}meta");
    let _: () = redis::cmd("HSET")
        .arg(&meta)
        .arg("schema_version")
        .arg(99)
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = RedisStore::open(&h.url(), PREFIX).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("layout version 99"), "{err}");
    let version: u32 = redis::cmd("HGET")
        .arg(&meta)
        .arg("schema_version")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, 99);
}

#[tokio::test]
async fn an_unreachable_server_is_one_line_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}", dir.path().join("nobody.sock").display());
    let err = RedisStore::open(&url, PREFIX).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(!err.is_fatal_at_startup(), "it may just not be up yet");
    let text = err.to_string();
    assert!(
        text.contains("nobody.sock") && text.contains("REDIS_URL"),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
}

#[tokio::test]
async fn commits_fail_while_the_server_is_down_and_work_once_it_is_back() {
    let mut h = Redis::new().await;
    let store = h.open().await;
    store.clone().commit(maintenance(true)).await.unwrap();

    h.server().kill();
    let started = Instant::now();
    let err = store.clone().commit(maintenance(false)).await.unwrap_err();
    assert!(matches!(err, StoreError::Write(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a down server fails the call promptly, not after minutes"
    );
    store.clone().load().await.unwrap_err();

    h.server().start_again();
    // The connection manager reconnects on its own; give it a few tries.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.clone().commit(maintenance(false)).await {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "never reconnected: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snapshot = store.load().await.unwrap();
    assert!(!snapshot.maintenance, "the commit after the outage landed");
    assert_eq!(snapshot.last_update_id, Some(1));
}

#[tokio::test]
async fn a_counter_that_is_not_a_number_fails_the_batch_before_any_write() {
    let mut h = Redis::new().await;
    let store = h.open().await;
    let mut conn = h.raw().await;
    let _: () = redis::cmd("HSET")
        .arg(format!("{PREFIX}counters"))
        .arg("relayed")
        .arg("many")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut batch = maintenance(true);
    batch.records.push(Record::Count {
        counter: randchat::engine::Counter::Relayed,
        delta: 1,
    });
    let err = store.clone().commit(batch).await.unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
    let snapshot = store.load().await.unwrap();
    assert!(
        !snapshot.maintenance,
        "the record before the bad one stayed"
    );
    assert_eq!(snapshot.last_update_id, None);
}
