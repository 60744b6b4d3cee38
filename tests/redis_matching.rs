//! The Redis matching primitives under concurrency: several "processes"
//! (each its own connection) churn the same users through search, next and
//! stop at once, while a watcher takes consistent snapshots. Whatever the
//! interleaving, nobody is in two pairs, pairs are symmetric, nobody both
//! waits and chats, and the queue's three views agree.

use randchat::domain::{Ticket, Timestamp, UserId};
use randchat::store::redis::matching::Conflict;
use randchat::store::RedisStore;
use randchat::testing::RedisServer;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const PREFIX: &str = "m:";
const PROCESSES: usize = 4;
const USERS: i64 = 40;
const STEPS: usize = 400;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// One process's view of a user, read from Redis (may be stale by the
/// time it acts, which is the point).
async fn partner(conn: &mut redis::aio::MultiplexedConnection, user: i64) -> Option<i64> {
    let v: Option<String> = redis::cmd("HGET")
        .arg(format!("{PREFIX}pairs"))
        .arg(user)
        .query_async(conn)
        .await
        .unwrap();
    v.and_then(|v| v.split(':').next()?.parse().ok())
}

async fn ticket(conn: &mut redis::aio::MultiplexedConnection, user: i64) -> Option<u64> {
    redis::cmd("HGET")
        .arg(format!("{PREFIX}waiting:user"))
        .arg(user)
        .query_async(conn)
        .await
        .unwrap()
}

/// /chat by the rules "oldest waiter that isn't me": try candidates in
/// order; if all are taken, wait in the queue.
async fn search(store: &RedisStore, user: UserId, binds: &AtomicU64) {
    let now = Timestamp::now();
    for (ticket, candidate) in store.oldest_waiters(8).await.unwrap() {
        if candidate == user {
            continue;
        }
        match store.bind(user, candidate, ticket, now).await.unwrap() {
            Ok(()) => {
                binds.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(Conflict::Taken) => continue,
            Err(_) => return,
        }
    }
    let _ = store.enqueue(user, now).await.unwrap();
}

async fn process(url: String, seed: u64, binds: Arc<AtomicU64>) {
    let store = RedisStore::open(&url, PREFIX).await.unwrap();
    let mut conn = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut state = seed;
    for _ in 0..STEPS {
        let user = (xorshift(&mut state) % USERS as u64) as i64 + 1;
        let now = Timestamp::now();
        match (
            partner(&mut conn, user).await,
            ticket(&mut conn, user).await,
        ) {
            (Some(p), _) => {
                let _ = store.unbind(UserId(user), UserId(p), now).await.unwrap();
                if xorshift(&mut state).is_multiple_of(2) {
                    search(&store, UserId(user), &binds).await; // /next
                }
            }
            (None, Some(t)) if xorshift(&mut state).is_multiple_of(3) => {
                let _ = store.dequeue(UserId(user), Ticket(t)).await.unwrap();
            }
            (None, _) => search(&store, UserId(user), &binds).await,
        }
    }
}

/// Checks the invariants on one consistent snapshot of the matching keys.
async fn check(conn: &mut redis::aio::MultiplexedConnection) -> usize {
    type H = HashMap<String, String>;
    let (pairs, waiting, by_user, queue): (H, H, H, Vec<(String, u64)>) = redis::pipe()
        .atomic()
        .hgetall(format!("{PREFIX}pairs"))
        .hgetall(format!("{PREFIX}waiting"))
        .hgetall(format!("{PREFIX}waiting:user"))
        .cmd("ZRANGE")
        .arg(format!("{PREFIX}queue"))
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(conn)
        .await
        .unwrap();
    let partner_of: HashMap<&str, &str> = pairs
        .iter()
        .map(|(u, v)| (u.as_str(), v.split(':').next().unwrap()))
        .collect();
    for (user, partner) in &partner_of {
        assert_ne!(user, partner, "{user} paired with themselves");
        assert_eq!(
            partner_of.get(partner),
            Some(user),
            "pair {user}-{partner} is one-sided: {pairs:?}"
        );
        assert!(!by_user.contains_key(*user), "{user} chats and waits");
    }
    assert_eq!(waiting.len(), by_user.len(), "waiting views disagree");
    assert_eq!(queue.len(), by_user.len(), "queue views disagree");
    for (user, ticket) in &queue {
        assert_eq!(
            by_user.get(user).map(|t| t.parse::<u64>().unwrap()),
            Some(*ticket)
        );
        let entry = &waiting[&ticket.to_string()];
        assert!(entry.starts_with(&format!("{user}:")), "{entry}");
    }
    let waiters: HashSet<&String> = queue.iter().map(|(u, _)| u).collect();
    assert_eq!(waiters.len(), queue.len(), "someone waits twice");
    partner_of.len() / 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_processes_never_double_pair_or_lose_a_pair() {
    let server = RedisServer::start();
    let binds = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (url, done) = (server.url(), done.clone());
        tokio::spawn(async move {
            let mut conn = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let mut checks = 0;
            while !done.load(Ordering::SeqCst) {
                check(&mut conn).await;
                checks += 1;
            }
            checks
        })
    };
    let workers: Vec<_> = (0..PROCESSES)
        .map(|i| {
            tokio::spawn(process(
                server.url(),
                0x9E37_79B9 + i as u64 * 7919,
                binds.clone(),
            ))
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let checks = watcher.await.unwrap();
    assert!(checks > 10, "the watcher looked only {checks} times");
    assert!(
        binds.load(Ordering::Relaxed) > 50,
        "too few pairs formed to mean anything"
    );

    // The end state is also a state the single-process loader accepts.
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pairs = check(&mut conn).await;
    let store = RedisStore::open(&server.url(), PREFIX).await.unwrap();
    let snapshot = randchat::store::Backend::load(store).await.unwrap();
    assert_eq!(snapshot.pairs.len(), pairs);
}

#[tokio::test]
async fn each_primitive_checks_its_precondition_and_writes_nothing_on_conflict() {
    let server = RedisServer::start();
    let store = RedisStore::open(&server.url(), PREFIX).await.unwrap();
    let (a, b, c) = (UserId(1), UserId(2), UserId(3));
    let now = Timestamp(100);
    let ta = store.enqueue(a, now).await.unwrap().unwrap();
    assert_eq!(
        store.enqueue(a, now).await.unwrap(),
        Err(Conflict::Searching)
    );
    assert_eq!(
        store.bind(a, a, ta, now).await.unwrap(),
        Err(Conflict::SelfMatch)
    );
    assert_eq!(
        store.bind(b, a, Ticket(ta.0 + 1), now).await.unwrap(),
        Err(Conflict::Taken)
    );
    store.bind(b, a, ta, now).await.unwrap().unwrap();
    assert_eq!(
        store.bind(c, a, ta, now).await.unwrap(),
        Err(Conflict::Taken)
    );
    assert_eq!(
        store.enqueue(a, now).await.unwrap(),
        Err(Conflict::Chatting)
    );
    assert_eq!(store.dequeue(a, ta).await.unwrap(), Err(Conflict::Gone));
    assert!(store.oldest_waiters(5).await.unwrap().is_empty());
    assert_eq!(store.unbind(a, c, now).await.unwrap(), Err(Conflict::Gone));

    let snapshot = randchat::store::Backend::load(store.clone()).await.unwrap();
    assert_eq!(snapshot.pairs, vec![(a, b, now)]);
    assert!(snapshot.waiting.is_empty());

    store.unbind(b, a, Timestamp(200)).await.unwrap().unwrap();
    let tc = store.enqueue(c, now).await.unwrap().unwrap();
    assert_eq!(store.oldest_waiters(5).await.unwrap(), vec![(tc, c)]);
    let snapshot = randchat::store::Backend::load(store.clone()).await.unwrap();
    assert!(snapshot.pairs.is_empty());
    assert_eq!(
        snapshot.last_partners,
        vec![(a, b, Timestamp(200)), (b, a, Timestamp(200))]
    );
    assert_eq!(snapshot.waiting, vec![(tc, c, now)]);
    store.dequeue(c, tc).await.unwrap().unwrap();
    assert!(store.oldest_waiters(5).await.unwrap().is_empty());
}
