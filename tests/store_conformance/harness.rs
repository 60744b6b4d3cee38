//! How the conformance cases get a store: one [`Harness`] per backend.
//!
//! A case opens a store, commits, and "restarts" it: the embedded harness
//! closes and reopens the redb file; the Redis harness kills its private,
//! persistent redis-server (appendfsync always) with SIGKILL, starts it
//! again on the same files and connects a new store, so what survives is
//! what the server made durable.

use randchat::store::{Backend, EmbeddedStore, RedisStore};
use randchat::testing::RedisServer;
use std::sync::Arc;

pub trait Harness {
    /// A fresh, empty store.
    async fn new() -> Self;
    /// The store, opened if it is not open.
    async fn open(&mut self) -> Arc<dyn Backend>;
    /// Closes the store (the caller has dropped its handles) and opens it
    /// again, as after a restart.
    async fn reopen(&mut self) -> Arc<dyn Backend>;
    /// Makes a batch that records a sighting of `user` fail (on Redis, any
    /// sighting), and returns the store, open again.
    async fn sabotage_seen_of(&mut self, user: i64) -> Arc<dyn Backend>;
}

pub struct Embedded {
    dir: tempfile::TempDir,
    store: Option<Arc<EmbeddedStore>>,
}

impl Harness for Embedded {
    async fn new() -> Self {
        Embedded {
            dir: tempfile::tempdir().unwrap(),
            store: None,
        }
    }

    async fn open(&mut self) -> Arc<dyn Backend> {
        let store = match &self.store {
            Some(store) => store.clone(),
            None => EmbeddedStore::open(self.dir.path()).unwrap(),
        };
        self.store = Some(store.clone());
        store
    }

    async fn reopen(&mut self) -> Arc<dyn Backend> {
        self.close();
        self.open().await
    }

    async fn sabotage_seen_of(&mut self, user: i64) -> Arc<dyn Backend> {
        use randchat::store::schema::USERS;
        let path = self.store.as_ref().unwrap().path().to_path_buf();
        self.close();
        // An undecodable users row: merging a sighting into it fails.
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(USERS)
            .unwrap()
            .insert(user, &[0xff_u8; 3][..])
            .unwrap();
        txn.commit().unwrap();
        drop(db);
        self.open().await
    }
}

impl Embedded {
    fn close(&mut self) {
        let store = self.store.take().expect("the store is open");
        assert_eq!(
            Arc::strong_count(&store),
            1,
            "the case still holds the store"
        );
    }
}

pub struct Redis {
    server: RedisServer,
    store: Option<Arc<RedisStore>>,
}

/// Not the default, so the cases also prove that the prefix is honoured.
pub const PREFIX: &str = "conformance:";

impl Harness for Redis {
    async fn new() -> Self {
        Redis {
            server: RedisServer::start_persistent(),
            store: None,
        }
    }

    async fn open(&mut self) -> Arc<dyn Backend> {
        let store = match &self.store {
            Some(store) => store.clone(),
            None => RedisStore::open(&self.server.url(), PREFIX).await.unwrap(),
        };
        self.store = Some(store.clone());
        store
    }

    async fn reopen(&mut self) -> Arc<dyn Backend> {
        self.store = None;
        self.server.restart();
        self.open().await
    }

    async fn sabotage_seen_of(&mut self, _user: i64) -> Arc<dyn Backend> {
        // A key of the wrong type: the script's first pass refuses it.
        let mut conn = self.raw().await;
        let key = format!("{PREFIX}seen:last");
        let _: () = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg("not a hash")
            .query_async(&mut conn)
            .await
            .unwrap();
        self.open().await
    }
}

impl Redis {
    /// A plain connection to the test's server.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn server(&mut self) -> &mut RedisServer {
        &mut self.server
    }
}
