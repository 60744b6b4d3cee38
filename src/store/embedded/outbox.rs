//! The embedded store's outbox: one redb row per committed batch of sends.
//!
//! Why rows: every relayed message is a send added to the outbox in one
//! commit and removed in a later one. Stored one key per send, that was a
//! B-tree insert and a B-tree remove per message, each rebuilding a leaf:
//! about 40% of the bot's CPU under load, on the update loop's critical path.
//! Stored one row per commit, a commit's adds are one insert, and its
//! removals touch only the few rows they fall in (sends are performed
//! roughly in the order they were decided, so usually one or two).
//!
//! Finding a done send's row without reading the table needs an index in
//! memory: row key → remaining sends, and send → row key. The index mirrors
//! the table and must never run ahead of it, so a commit computes a [`Plan`]
//! from the index, writes it in its transaction, and applies it to the index
//! only once the transaction has committed. A commit whose outcome is
//! unknown (redb failed or panicked inside `commit`) leaves the index marked
//! stale, and the next commit rebuilds it from the file.
//!
//! A row with some sends done is rewritten with only the rest, so a crash
//! never replays a send whose removal was committed, as with one key per
//! send. A done send that is in no row is ignored: it was removed already.

use super::super::schema::{OUTBOX_ROWS, OUTBOX_V1};
use super::super::StoreError;
use super::{encode, read, write, EmbeddedStore};
use crate::engine::effect::Outbound;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, Table};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Sends with their sequence numbers, as in a row and in `Snapshot::outbox`.
pub(super) type Sends = Vec<(u64, Outbound)>;

/// The outbox table as the store last committed it, held in memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct OutboxIndex {
    /// Row key (the first send's number when the row was written) → the
    /// row's sends not yet done.
    rows: BTreeMap<u64, Sends>,
    /// Send number → the key of the row holding it.
    row_of: HashMap<u64, u64>,
    /// Whether the index may differ from the file and must be rebuilt.
    stale: bool,
}

/// What one commit does to the outbox table, computed before it is written.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Plan {
    /// Row key → the row's new sends, or `None` to remove the row.
    writes: BTreeMap<u64, Option<Sends>>,
}

impl OutboxIndex {
    /// An index of these rows.
    pub(super) fn of(rows: BTreeMap<u64, Sends>) -> Self {
        let row_of = rows
            .iter()
            .flat_map(|(key, sends)| sends.iter().map(move |(seq, _)| (*seq, *key)))
            .collect();
        Self {
            rows,
            row_of,
            stale: false,
        }
    }

    /// An index to be read from the file before its first use.
    pub(super) fn stale() -> Self {
        Self {
            stale: true,
            ..Self::default()
        }
    }

    /// Every remaining send, in send order.
    #[cfg(test)]
    pub(super) fn sends(&self) -> Sends {
        flatten(self.rows.values().cloned())
    }

    /// The rows to write so that `adds` are pending and `done` are not.
    /// A send added again replaces its earlier copy, as a key would.
    pub(super) fn plan(&self, adds: &[(u64, Outbound)], done: &[u64]) -> Plan {
        let done_now: HashSet<u64> = done.iter().copied().collect();
        let mut writes = self.without(done.iter().chain(adds.iter().map(|(seq, _)| seq)));
        let fresh = fresh_sends(adds, &done_now);
        if let Some(&(key, _)) = fresh.first() {
            let row = match writes.remove(&key) {
                Some(Some(mut rest)) => {
                    rest.extend(fresh);
                    rest
                }
                Some(None) => fresh,
                // A reused number can name a row still holding other sends.
                None => match self.rows.get(&key) {
                    Some(existing) => existing.iter().cloned().chain(fresh).collect(),
                    None => fresh,
                },
            };
            writes.insert(key, Some(row));
        }
        Plan { writes }
    }

    /// The rewrites that take `seqs` out of the rows holding them.
    fn without<'a>(&self, seqs: impl Iterator<Item = &'a u64>) -> BTreeMap<u64, Option<Sends>> {
        let mut gone: BTreeMap<u64, HashSet<u64>> = BTreeMap::new();
        for seq in seqs {
            if let Some(&key) = self.row_of.get(seq) {
                gone.entry(key).or_default().insert(*seq);
            }
        }
        let mut writes = BTreeMap::new();
        for (key, gone) in gone {
            let Some(row) = self.rows.get(&key) else {
                continue;
            };
            let rest: Sends = row
                .iter()
                .filter(|(seq, _)| !gone.contains(seq))
                .cloned()
                .collect();
            writes.insert(key, (!rest.is_empty()).then_some(rest));
        }
        writes
    }

    /// Makes the index match the file after `plan` was committed.
    pub(super) fn apply(&mut self, plan: Plan) {
        for key in plan.writes.keys() {
            for (seq, _) in self.rows.remove(key).unwrap_or_default() {
                if self.row_of.get(&seq) == Some(key) {
                    self.row_of.remove(&seq);
                }
            }
        }
        for (key, row) in plan.writes {
            let Some(row) = row else { continue };
            for (seq, _) in &row {
                self.row_of.insert(*seq, key);
            }
            self.rows.insert(key, row);
        }
        self.stale = false;
    }

    /// Marks the index as possibly behind the file: a commit is under way.
    pub(super) fn mark_stale(&mut self) {
        self.stale = true;
    }
}

impl Plan {
    /// Writes the plan into the transaction's outbox table.
    pub(super) fn write_to(&self, table: &mut Table<u64, &[u8]>) -> Result<(), StoreError> {
        for (key, row) in &self.writes {
            match row {
                Some(sends) => {
                    table
                        .insert(*key, encode(sends)?.as_slice())
                        .map_err(write)?;
                }
                None => {
                    table.remove(*key).map_err(write)?;
                }
            }
        }
        Ok(())
    }

    /// Whether the plan changes nothing.
    pub(super) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// The batch's own sends still pending after it: a repeated number keeps
/// its last send, and sends the batch also marks done are left out.
fn fresh_sends(adds: &[(u64, Outbound)], done: &HashSet<u64>) -> Sends {
    let mut fresh: Sends = Vec::with_capacity(adds.len());
    let mut position: HashMap<u64, usize> = HashMap::new();
    for (seq, send) in adds.iter().filter(|(seq, _)| !done.contains(seq)) {
        match position.get(seq) {
            Some(&at) => fresh[at].1 = send.clone(),
            None => {
                position.insert(*seq, fresh.len());
                fresh.push((*seq, send.clone()));
            }
        }
    }
    fresh
}

/// The sends of all rows in send order, which is the order they were
/// decided in.
fn flatten(rows: impl Iterator<Item = Sends>) -> Sends {
    let mut sends: Sends = rows.flatten().collect();
    sends.sort_by_key(|(seq, _)| *seq);
    sends
}

impl EmbeddedStore {
    /// Every pending send in the file, in send order.
    pub(super) fn load_outbox(&self, txn: &ReadTransaction) -> Result<Sends, StoreError> {
        Ok(flatten(self.outbox_rows(txn)?.into_values()))
    }

    /// The outbox table's rows. A file not yet migrated to schema 2 (only
    /// `verify_file` reads one) has a send per key: each is read as a row.
    fn outbox_rows(&self, txn: &ReadTransaction) -> Result<BTreeMap<u64, Sends>, StoreError> {
        let mut rows = BTreeMap::new();
        match txn.open_table(OUTBOX_ROWS) {
            Ok(table) => {
                for entry in table.iter().map_err(read)? {
                    let (key, raw) = entry.map_err(read)?;
                    rows.insert(key.value(), self.decode("outbox row", raw.value())?);
                }
                return Ok(rows);
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(read(e)),
        }
        let table = match txn.open_table(OUTBOX_V1) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(rows),
            Err(e) => return Err(read(e)),
        };
        for entry in table.iter().map_err(read)? {
            let (seq, raw) = entry.map_err(read)?;
            let send: Outbound = self.decode("outbox", raw.value())?;
            rows.insert(seq.value(), vec![(seq.value(), send)]);
        }
        Ok(rows)
    }

    /// Rebuilds `index` from the file if it may be behind it.
    pub(super) fn refresh_outbox(
        &self,
        db: &Database,
        index: &mut OutboxIndex,
    ) -> Result<(), StoreError> {
        if index.stale {
            let txn = db.begin_read().map_err(read)?;
            *index = OutboxIndex::of(self.outbox_rows(&txn)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
