//! Committing a [`Batch`]: one redb write transaction per batch.
//!
//! Why here and not in `embedded.rs`: this is the store's hot path (the
//! group commit thread runs it for every batch of updates), and it is where
//! a commit's promises are kept, so it reads best on its own. Either the
//! whole batch is durable when `commit_blocking` returns `Ok`, or none of
//! it is; the outbox index (see `outbox`) changes only after the
//! transaction has committed, so it always describes what the file holds.

use super::outbox::Plan;
use super::schema::{
    UserRow, ALBUMS, BANS, COUNTERS, LAST_PARTNER, LINKS, META, META_BROADCAST,
    META_LAST_UPDATE_ID, META_LINK_PRUNE_FROM, META_MAINTENANCE, OUTBOX_ROWS, PAIRS, PROFILES,
    REPORTS, REPORT_STATUS, USERS, WAITING,
};
use super::{encode, key_of, write, EmbeddedStore};
use crate::domain::Timestamp;
use crate::engine::effect::Record;
use crate::engine::ReportStatus;
use crate::store::{album_row, Batch, StoreError};
use redb::{ReadableTable, ReadableTableMetadata, Table, WriteTransaction};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

impl EmbeddedStore {
    pub(super) fn commit_blocking(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Held until the index matches what this commit leaves in the file.
        let mut index = self.outbox.lock();
        let result = self.with_db(|db| {
            self.refresh_outbox(db, &mut index)?;
            let plan = index.plan(&batch.outbox_add, &batch.outbox_done);
            let txn = db.begin_write().map_err(write)?;
            match self.apply(&txn, batch, &plan) {
                Ok(()) => {
                    // Whether a failed or panicking commit reached the disk
                    // is unknown: until it succeeds, the file is the truth.
                    index.mark_stale();
                    txn.commit().map_err(write)?;
                    index.apply(plan);
                    Ok(())
                }
                Err(e) => {
                    if let Err(abort) = txn.abort() {
                        tracing::warn!("aborting failed commit: {abort}");
                    }
                    Err(e)
                }
            }
        });
        if result.is_err() {
            self.broken.store(true, Ordering::SeqCst);
        }
        result
    }

    fn apply(&self, txn: &WriteTransaction, batch: &Batch, plan: &Plan) -> Result<(), StoreError> {
        let mut users = txn.open_table(USERS).map_err(write)?;
        let mut pairs = txn.open_table(PAIRS).map_err(write)?;
        let mut waiting = txn.open_table(WAITING).map_err(write)?;
        let mut last_partner = txn.open_table(LAST_PARTNER).map_err(write)?;
        let mut links = txn.open_table(LINKS).map_err(write)?;
        let mut albums = txn.open_table(ALBUMS).map_err(write)?;
        let mut reports = txn.open_table(REPORTS).map_err(write)?;
        let mut bans = txn.open_table(BANS).map_err(write)?;
        let mut profiles = txn.open_table(PROFILES).map_err(write)?;
        let mut report_status = txn.open_table(REPORT_STATUS).map_err(write)?;
        let mut counters = txn.open_table(COUNTERS).map_err(write)?;
        let mut meta = txn.open_table(META).map_err(write)?;

        // `Seen` and `Count` records touch tables nothing else touches and
        // commute, so each user row and each counter is written once per
        // transaction, with the same result as writing them in turn: a new
        // user's first_seen is their first record's time, last_seen the
        // latest, a counter the sum.
        let mut seen: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut new_links = Vec::new();
        for record in &batch.records {
            match record {
                Record::Seen { user, at } => {
                    let (_, last) = seen.entry(user.0).or_insert((at.0, at.0));
                    *last = (*last).max(at.0);
                }
                Record::Pair { a, b, since } => {
                    // A user is in at most one pair: if either side still
                    // points at someone else, drop that stale reverse entry.
                    for (x, y) in [(a.0, b.0), (b.0, a.0)] {
                        match partner_of(&pairs, x)? {
                            Some(old) if old != y && partner_of(&pairs, old)? == Some(x) => {
                                pairs.remove(old).map_err(write)?;
                            }
                            _ => {}
                        }
                    }
                    pairs.insert(a.0, (b.0, since.0)).map_err(write)?;
                    pairs.insert(b.0, (a.0, since.0)).map_err(write)?;
                }
                Record::Unpair { a, b } => {
                    let a_to_b = partner_of(&pairs, a.0)? == Some(b.0);
                    let b_to_a = partner_of(&pairs, b.0)? == Some(a.0);
                    if a_to_b {
                        pairs.remove(a.0).map_err(write)?;
                    }
                    if b_to_a {
                        pairs.remove(b.0).map_err(write)?;
                    }
                }
                Record::Enqueue {
                    ticket,
                    user,
                    since,
                } => {
                    waiting.insert(ticket.0, (user.0, since.0)).map_err(write)?;
                }
                Record::Dequeue { ticket, .. } => {
                    waiting.remove(ticket.0).map_err(write)?;
                }
                Record::LastPartner {
                    user,
                    partner,
                    ended_at,
                } => {
                    last_partner
                        .insert(user.0, (partner.0, ended_at.0))
                        .map_err(write)?;
                }
                Record::ForgetLastPartner { user } => {
                    last_partner.remove(user.0).map_err(write)?;
                }
                Record::Link { original, copy, at } => {
                    let (o, c) = (key_of(original), key_of(copy));
                    new_links.push((o, (c.0, c.1, at.0, true)));
                    new_links.push((c, (o.0, o.1, at.0, false)));
                }
                Record::Album {
                    user,
                    group,
                    parts,
                    since,
                } => {
                    let row = album_row(group, parts, *since)?;
                    albums.insert(user.0, row.as_slice()).map_err(write)?;
                }
                Record::Maintenance { on } => {
                    meta.insert(META_MAINTENANCE, encode(on)?.as_slice())
                        .map_err(write)?;
                }
                Record::AlbumDone { user } => {
                    albums.remove(user.0).map_err(write)?;
                }
                Record::PruneLinks { before, slices } => {
                    insert_in_key_order(&mut links, &mut new_links)?;
                    prune_links(&mut links, &mut meta, *before, *slices)?;
                }
                Record::Report(report) => {
                    let last = reports.last().map_err(write)?.map(|(k, _)| k.value());
                    let id = match last {
                        None => 1,
                        Some(last) => last
                            .checked_add(1)
                            .ok_or_else(|| StoreError::Write("report ids exhausted".into()))?,
                    };
                    reports
                        .insert(id, encode(report)?.as_slice())
                        .map_err(write)?;
                }
                Record::FiledReport { id, report } => {
                    reports
                        .insert(id.0, encode(report)?.as_slice())
                        .map_err(write)?;
                    let open = encode(&ReportStatus::Open)?;
                    report_status.insert(id.0, open.as_slice()).map_err(write)?;
                }
                Record::ReportStatus { id, status } => {
                    report_status
                        .insert(id.0, encode(status)?.as_slice())
                        .map_err(write)?;
                }
                Record::Ban { user, ban } => {
                    bans.insert(user.0, encode(ban)?.as_slice())
                        .map_err(write)?;
                }
                Record::Unban { user } => {
                    bans.remove(user.0).map_err(write)?;
                }
                Record::Broadcast(broadcast) => {
                    meta.insert(META_BROADCAST, encode(broadcast)?.as_slice())
                        .map_err(write)?;
                }
                Record::Profile { user, profile } => {
                    profiles
                        .insert(user.0, encode(profile)?.as_slice())
                        .map_err(write)?;
                }
                Record::Count { counter, delta } => {
                    let sum = counts.entry(counter.name()).or_insert(0);
                    *sum = sum.saturating_add(*delta);
                }
            }
        }
        insert_in_key_order(&mut links, &mut new_links)?;
        for (user, (first, last)) in seen {
            let old = users.get(user).map_err(write)?;
            let old = old.map(|raw| self.decode::<UserRow>("users row", raw.value()));
            let old = old.transpose()?;
            let row = UserRow {
                first_seen: old.map_or(first, |old| old.first_seen),
                last_seen: old.map_or(last, |old| old.last_seen.max(last)),
            };
            users
                .insert(user, encode(&row)?.as_slice())
                .map_err(write)?;
        }
        for (name, delta) in counts {
            let old = counters.get(name).map_err(write)?.map(|v| v.value());
            let new = old.unwrap_or(0).saturating_add(delta);
            counters.insert(name, new).map_err(write)?;
        }

        if let Some(id) = batch.last_update_id {
            meta.insert(META_LAST_UPDATE_ID, encode(&id)?.as_slice())
                .map_err(write)?;
        }
        if !plan.is_empty() {
            plan.write_to(&mut txn.open_table(OUTBOX_ROWS).map_err(write)?)?;
        }
        Ok(())
    }
}

/// A link row: the message on the other side, when the link was made, and
/// whether the key is the original.
type LinkRow = ((i64, i32), (i64, i32, u64, bool));

/// Inserts (and drains) `rows` sorted by key, stably: of two rows with
/// one key (a send replayed after a crash links its original again) the
/// later still wins. Links of many chats arrive
/// together, in the order their copies finished; in key order, a leaf is
/// reached once, its neighbours next, and the B-tree's path is mostly in
/// the cache already, instead of a random walk through a table larger
/// than the cache (README, "Performance").
fn insert_in_key_order(
    links: &mut Table<(i64, i32), (i64, i32, u64, bool)>,
    rows: &mut Vec<LinkRow>,
) -> Result<(), StoreError> {
    rows.sort_by_key(|(key, _)| *key);
    for (key, value) in rows.drain(..) {
        links.insert(key, value).map_err(write)?;
    }
    Ok(())
}

/// A sliced prune looks at no fewer rows than this (two per link), so
/// that a small table is swept in one or a few prunes.
const MIN_PRUNE_SLICE: u64 = 1_000;

/// Forgets links made before `before`: with `slices` above 1, only among
/// the next `1/slices` of the table's rows (at least [`MIN_PRUNE_SLICE`])
/// in key order, from where the last prune stopped. A pass keeps the slice
/// size it started with, so at most `slices` prunes cover every row there
/// was when it began, however many they forget (more if rows are added
/// ahead of it meanwhile); the next pass starts again from the first key.
///
/// Why slices: links are keyed by chat, so the old ones are spread over
/// every leaf of the table, and forgetting them all at once reads the
/// whole table and rewrites nearly every leaf in one transaction, which
/// holds the update loop's commit for as long. A slice is a run of
/// neighbouring keys: it reads and rewrites only its own leaves.
fn prune_links(
    links: &mut Table<(i64, i32), (i64, i32, u64, bool)>,
    meta: &mut Table<&str, &[u8]>,
    before: Timestamp,
    slices: u32,
) -> Result<(), StoreError> {
    if slices <= 1 {
        links
            .retain(|_, (_, _, at, _)| at >= before.0)
            .map_err(write)?;
        meta.remove(META_LINK_PRUNE_FROM).map_err(write)?;
        return Ok(());
    }
    // Only a place to start: a pass that can't be read starts afresh.
    let pass = meta.get(META_LINK_PRUNE_FROM).map_err(write)?;
    let pass = pass.and_then(|raw| postcard::from_bytes::<((i64, i32), u64)>(raw.value()).ok());
    let (from, slice) = match pass {
        Some((from, slice)) => (Some(from), slice.max(MIN_PRUNE_SLICE)),
        None => {
            let all = links.len().map_err(write)?;
            (None, all.div_ceil(u64::from(slices)).max(MIN_PRUNE_SLICE))
        }
    };
    let mut expired = Vec::new();
    let mut next = None;
    let rows = match from {
        Some(from) => links.range(from..).map_err(write)?,
        None => links.iter().map_err(write)?,
    };
    for (seen, row) in (0..).zip(rows) {
        let (key, value) = row.map_err(write)?;
        if seen == slice {
            next = Some(key.value());
            break;
        }
        if value.value().2 < before.0 {
            expired.push(key.value());
        }
    }
    for key in expired {
        links.remove(key).map_err(write)?;
    }
    match next {
        Some(key) => meta
            .insert(META_LINK_PRUNE_FROM, encode(&(key, slice))?.as_slice())
            .map(drop),
        None => meta.remove(META_LINK_PRUNE_FROM).map(drop),
    }
    .map_err(write)
}

fn partner_of(pairs: &Table<i64, (i64, u64)>, user: i64) -> Result<Option<i64>, StoreError> {
    Ok(pairs.get(user).map_err(write)?.map(|v| v.value().0))
}
