//! What /broadcast needs from the store: the running broadcast (one value
//! in `meta`, so no new table and no schema change) and the user list,
//! walked in id order from a cursor.
//! (Both are tested against every store by `tests/store_conformance`.)

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
