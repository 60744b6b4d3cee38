//! What /broadcast needs from the store: the running broadcast (one value
//! in `meta`, so no new table and no schema change) and the user list,
//! walked in id order from a cursor.

use super::{read, EmbeddedStore};
use crate::domain::UserId;
use crate::engine::Broadcast;
use crate::store::schema::{META, META_BROADCAST, USERS};
use crate::store::StoreError;
use redb::{ReadTransaction, ReadableDatabase};

impl EmbeddedStore {
    /// The broadcast last recorded, finished or not.
    pub(super) fn load_broadcast(
        &self,
        txn: &ReadTransaction,
    ) -> Result<Option<Broadcast>, StoreError> {
        let meta = txn.open_table(META).map_err(read)?;
        let raw = meta.get(META_BROADCAST).map_err(read)?;
        raw.map(|raw| self.decode("broadcast", raw.value()))
            .transpose()
    }

    /// Up to `limit` known users with ids above `after`, in id order.
    pub(super) fn users_after_blocking(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let txn = self.with_db(|db| db.begin_read().map_err(read))?;
        let users = txn.open_table(USERS).map_err(read)?;
        let range = match after {
            Some(after) => users.range(after.0.saturating_add(1)..),
            None => users.range::<i64>(..),
        };
        let mut found = Vec::with_capacity(limit);
        for entry in range.map_err(read)?.take(limit) {
            let (user, _) = entry.map_err(read)?;
            found.push(UserId(user.value()));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Timestamp, UserId};
    use crate::engine::{Broadcast, Record};
    use crate::store::{Backend, Batch, EmbeddedStore};

    #[tokio::test]
    async fn users_are_walked_in_id_order_and_the_broadcast_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let mut records: Vec<Record> = [9, 2, 5, 7]
            .map(|id| Record::Seen {
                user: UserId(id),
                at: Timestamp(1),
            })
            .into();
        let broadcast = Broadcast {
            admin: UserId(2),
            text: "hi".into(),
            started: Timestamp(1),
            progress: None,
            cursor: Some(UserId(5)),
            handed: 2,
            sent: 1,
            blocked: 1,
            failed: 0,
            exhausted: false,
            finished: false,
        };
        records.push(Record::Broadcast(broadcast.clone()));
        let batch = Batch {
            records,
            ..Batch::default()
        };
        store.clone().commit(batch).await.unwrap();
        let ids = |v: Vec<UserId>| v.into_iter().map(|u| u.0).collect::<Vec<_>>();
        let first = store.clone().users_after(None, 3).await.unwrap();
        assert_eq!(ids(first), [2, 5, 7]);
        let rest = store.clone().users_after(Some(UserId(5)), 3).await.unwrap();
        assert_eq!(ids(rest), [7, 9]);
        assert_eq!(
            store.clone().load().await.unwrap().broadcast,
            Some(broadcast)
        );
    }
}
