//! Several instances on one Redis prefix, at the store level: the lease,
//! the fenced commit, the change log, applied update ids and the adoption
//! of a dead instance's outbox (src/store/redis/shared.rs).
//!
//! The race at the end drives two real engines, each over its own
//! connection, through /chat, /next and /stop of the same users at once;
//! every decision is taken in turn on the latest state, so what Redis holds
//! keeps the engine's invariants and both replicas agree with it.

use randchat::domain::{Timestamp, UserId};
use randchat::engine::{Command, Engine, Event, Outbound, Presence, Record};
use randchat::i18n::Text;
use randchat::store::{Backend, Batch, RedisStore};
use randchat::testing::RedisServer;
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "s:";

async fn instance(server: &RedisServer, id: &str) -> Arc<RedisStore> {
    RedisStore::open_instance(&server.url(), PREFIX, id)
        .await
        .expect("open the store")
}

async fn conn(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn pair(a: i64, b: i64) -> Batch {
    Batch {
        records: vec![Record::Pair {
            a: UserId(a),
            b: UserId(b),
            since: Timestamp(1),
        }],
        ..Batch::default()
    }
}

fn tell(user: i64) -> Outbound {
    Outbound::Tell {
        user: UserId(user),
        text: Text::PartnerFound,
    }
}

async fn pairs(store: &Arc<RedisStore>) -> Vec<(UserId, UserId, Timestamp)> {
    store.clone().load().await.unwrap().pairs
}

#[tokio::test]
async fn a_turn_hands_over_what_the_other_instance_committed() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    let begun = a.clone().begin(vec![]).await.unwrap();
    assert!(begun.changes.is_empty() && !begun.reload);
    // B waits for A's turn to end...
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.begin(vec![]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "B decided while A held the lease");
    // ...which A's commit does; B then sees A's pair.
    a.clone().commit(pair(1, 2)).await.unwrap();
    let begun = waiting.await.unwrap().unwrap();
    assert_eq!(begun.changes, pair(1, 2).records);
    b.clone().commit(pair(3, 4)).await.unwrap();
    // A's next turn brings B's pair, and not A's own again.
    let begun = a.clone().begin(vec![]).await.unwrap();
    assert_eq!(begun.changes, pair(3, 4).records);
    a.clone().end().await.unwrap();
}

#[tokio::test]
async fn a_decision_on_an_old_version_writes_nothing() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    a.clone().begin(vec![]).await.unwrap();
    a.clone().commit(pair(1, 2)).await.unwrap();
    // B decided without taking its turn: its view is older than A's pair.
    let stale = Batch {
        outbox_add: vec![(1, tell(3))],
        update_ids: vec![42],
        ..pair(1, 3)
    };
    let error = b.clone().commit(stale).await.unwrap_err();
    assert!(error.to_string().contains("conflict"), "{error}");
    let snapshot = b.clone().load().await.unwrap();
    assert_eq!(snapshot.pairs, vec![(UserId(1), UserId(2), Timestamp(1))]);
    assert!(snapshot.outbox.is_empty(), "{:?}", snapshot.outbox);
    let applied = b.clone().applied_updates(vec![42]).await.unwrap();
    assert_eq!(applied, Some(vec![]));
    // After the reload above B is current: the same decision now lands.
    b.clone().begin(vec![]).await.unwrap();
    b.clone().commit(pair(3, 4)).await.unwrap();
    assert_eq!(pairs(&a).await.len(), 2);
}

#[tokio::test]
async fn a_decision_after_losing_the_lease_writes_nothing() {
    let server = RedisServer::start();
    let a = instance(&server, "a").await;
    a.clone().begin(vec![]).await.unwrap();
    // The lease ran out and another instance took it.
    let _: () = redis::cmd("SET")
        .arg(format!("{PREFIX}lease"))
        .arg("b:somebody")
        .query_async(&mut conn(&server).await)
        .await
        .unwrap();
    let error = a.clone().commit(pair(1, 2)).await.unwrap_err();
    assert!(error.to_string().contains("conflict"), "{error}");
    assert!(pairs(&a).await.is_empty());
    // Bookkeeping that commutes (links, counters) is not fenced.
    let plain = Batch {
        records: vec![Record::Count {
            counter: randchat::engine::Counter::Relayed,
            delta: 1,
        }],
        ..Batch::default()
    };
    a.clone().commit(plain).await.unwrap();
}

#[tokio::test]
async fn an_update_applied_by_one_instance_is_known_to_the_other() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    let begun = a.clone().begin(vec![7, 8]).await.unwrap();
    assert_eq!(begun.applied, Some(vec![]));
    let batch = Batch {
        update_ids: vec![7],
        ..pair(1, 2)
    };
    a.clone().commit(batch).await.unwrap();
    let begun = b.clone().begin(vec![7, 8]).await.unwrap();
    assert_eq!(begun.applied, Some(vec![7]));
    b.clone().end().await.unwrap();
}

#[tokio::test]
async fn a_log_trimmed_past_an_instance_asks_it_to_reload() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    for user in [1, 3, 5] {
        a.clone().begin(vec![]).await.unwrap();
        a.clone().commit(pair(user, user + 1)).await.unwrap();
    }
    let _: i64 = redis::cmd("XTRIM")
        .arg(format!("{PREFIX}changes"))
        .arg("MAXLEN")
        .arg(1)
        .query_async(&mut conn(&server).await)
        .await
        .unwrap();
    let begun = b.clone().begin(vec![]).await.unwrap();
    assert!(begun.reload, "{begun:?}");
    // The reload brings B up to date; from there the log serves again.
    assert_eq!(pairs(&b).await.len(), 3);
    b.clone().commit(pair(7, 8)).await.unwrap();
    let begun = a.clone().begin(vec![]).await.unwrap();
    assert!(!begun.reload);
    assert_eq!(begun.changes, pair(7, 8).records);
}

#[tokio::test]
async fn a_dead_instances_outbox_is_adopted_once() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    assert!(a.clone().heartbeat(1).await.unwrap().is_empty());
    a.clone().begin(vec![]).await.unwrap();
    let sends = Batch {
        outbox_add: vec![(1, tell(1)), (2, tell(2))],
        ..Batch::default()
    };
    a.clone().commit(sends).await.unwrap();
    // While A gives signs of life, B leaves its outbox alone.
    assert!(b.clone().heartbeat(100).await.unwrap().is_empty());
    // A dies: its sign of life runs out.
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{PREFIX}alive:a"))
        .query_async(&mut conn(&server).await)
        .await
        .unwrap();
    let adopted = b.clone().heartbeat(100).await.unwrap();
    assert_eq!(adopted, vec![(100, tell(1)), (101, tell(2))]);
    assert!(
        b.clone().heartbeat(102).await.unwrap().is_empty(),
        "adopted twice"
    );
    // They are B's now: in its outbox, removed when B has sent them.
    let outbox = b.clone().load().await.unwrap().outbox;
    assert_eq!(outbox, vec![(100, tell(1)), (101, tell(2))]);
    assert!(a.clone().load().await.unwrap().outbox.is_empty());
}

/// One instance's loop: take a turn, catch up, decide one command, commit;
/// on a failed commit reload, as the bot does.
async fn churn(store: Arc<RedisStore>, seed: u64, steps: usize) -> Engine {
    let mut engine = Engine::restore(&store.clone().load().await.unwrap());
    let mut state = seed;
    let now = Timestamp::now();
    for _ in 0..steps {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let user = UserId((state % 12) as i64);
        let command = [Command::Chat, Command::Chat, Command::Next, Command::Stop]
            [(state >> 8) as usize % 4]
            .clone();
        let begun = store.clone().begin(vec![]).await.unwrap();
        if begun.reload {
            engine = engine.rebuilt_from(&store.clone().load().await.unwrap());
        } else {
            engine.apply_replicated(&begun.changes);
        }
        let outcome = engine.handle(&Event::Command { user, command }, now);
        let batch = Batch {
            records: outcome.records,
            ..Batch::default()
        };
        if store.clone().commit(batch).await.is_err() {
            engine = engine.rebuilt_from(&store.clone().load().await.unwrap());
        }
        tokio::task::yield_now().await;
    }
    engine
}

/// A last turn, once every instance has stopped deciding.
async fn catch_up(store: &Arc<RedisStore>, engine: Engine) -> Engine {
    let begun = store.clone().begin(vec![]).await.unwrap();
    store.clone().end().await.unwrap();
    if begun.reload {
        return engine.rebuilt_from(&store.clone().load().await.unwrap());
    }
    engine.apply_replicated(&begun.changes);
    engine
}

#[tokio::test]
async fn two_engines_racing_on_one_prefix_keep_the_invariants() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    let (ea, eb) = tokio::join!(
        tokio::spawn(churn(a.clone(), 0x9E37_79B9, 300)),
        tokio::spawn(churn(b.clone(), 0x7F4A_7C15, 300)),
    );
    let ea = catch_up(&a, ea.unwrap()).await;
    let eb = catch_up(&b, eb.unwrap()).await;
    let stored = Engine::restore(&a.clone().load().await.unwrap());
    stored
        .check_invariants()
        .expect("what Redis holds is consistent");
    let mut chatting = 0;
    for user in (0..12).map(UserId) {
        let presence = stored.presence_of(user);
        assert_eq!(ea.presence_of(user), presence, "replica A on {user:?}");
        assert_eq!(eb.presence_of(user), presence, "replica B on {user:?}");
        chatting += usize::from(matches!(presence, Presence::Chatting(_)));
    }
    let (_, pairs) = stored.counts();
    assert_eq!(pairs * 2, chatting);
}

#[tokio::test]
async fn an_export_carries_the_sends_left_in_every_instance_outbox() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "a").await, instance(&server, "b").await);
    for (store, sends) in [
        (&a, vec![(1, tell(1)), (2, tell(2))]),
        (&b, vec![(1, tell(3))]),
    ] {
        store.clone().begin(vec![]).await.unwrap();
        let batch = Batch {
            outbox_add: sends,
            ..Batch::default()
        };
        store.clone().commit(batch).await.unwrap();
    }
    // Both instances are stopped; the operator exports with the CLI's
    // instance-less store.
    let cli = RedisStore::open(&server.url(), PREFIX).await.unwrap();
    cli.clone()
        .commit(Batch {
            outbox_add: vec![(7, tell(9))],
            ..Batch::default()
        })
        .await
        .unwrap();
    let (sink, mut items) = tokio::sync::mpsc::channel(64);
    cli.export(sink).await.unwrap();
    let mut outbox = Vec::new();
    while let Some(item) = items.recv().await {
        if let randchat::store::export::Item::Outbox { seq, send } = item {
            outbox.push((seq, send));
        }
    }
    assert_eq!(
        outbox,
        vec![(7, tell(9)), (8, tell(1)), (9, tell(2)), (10, tell(3))],
        "the instance-less outbox first, then each instance's, numbered after it"
    );
}
