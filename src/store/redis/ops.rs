//! From a [`Batch`] to the argument list of `apply.lua`.
//!
//! Each [`Record`] becomes a few primitive operations (`HSET`, `HDEL`, …)
//! or one of the compound ones that must read before they write (`SEEN`,
//! `PAIR`, `UNPAIR`, `REPORT`, `PRUNE`). Adding a record is one more arm in
//! [`record_ops`] (usually an `HSET` or `HDEL` on a new hash in
//! [`super::keys`]) and one more line in the loader.
//!
//! Everything is rendered to bytes here, so the script never encodes
//! anything: it only moves the values it is given.

use super::keys::{
    Keys, META_BROADCAST, META_LAST_REPORT_ID, META_LAST_UPDATE_ID, META_MAINTENANCE,
};
use crate::engine::effect::Record;
use crate::engine::ReportStatus;
use crate::store::{album_row, encode, Batch, StoreError, LINK_TTL_SECS};

/// One argument of the script: a key, a field or a value.
pub type Arg = Vec<u8>;

/// The script's arguments for `batch`, in the order the engine made the
/// records, then the update id, then the outbox.
pub fn batch_args(keys: &Keys, batch: &Batch) -> Result<Vec<Arg>, StoreError> {
    let mut ops = Ops::default();
    for record in &batch.records {
        record_ops(keys, record, &mut ops)?;
    }
    if let Some(id) = batch.last_update_id {
        ops.hset(keys.meta(), META_LAST_UPDATE_ID, id.to_string());
    }
    for (seq, send) in &batch.outbox_add {
        ops.hset(keys.outbox(), seq.to_string(), encode(send)?);
    }
    for seq in &batch.outbox_done {
        ops.hdel(keys.outbox(), seq.to_string());
    }
    Ok(ops.args)
}

/// What one record changes.
fn record_ops(keys: &Keys, record: &Record, ops: &mut Ops) -> Result<(), StoreError> {
    match record {
        Record::Seen { user, at } => {
            ops.op("SEEN", [keys.seen_first(), keys.seen_last()]);
            ops.more([user.0.to_string(), at.0.to_string()]);
        }
        Record::Pair { a, b, since } => {
            ops.op("PAIR", [keys.pairs()]);
            ops.more([a.0.to_string(), b.0.to_string(), since.0.to_string()]);
        }
        Record::Unpair { a, b } => {
            ops.op("UNPAIR", [keys.pairs()]);
            ops.more([a.0.to_string(), b.0.to_string()]);
        }
        Record::Enqueue {
            ticket,
            user,
            since,
        } => ops.hset(
            keys.waiting(),
            ticket.0.to_string(),
            format!("{}:{}", user.0, since.0),
        ),
        Record::Dequeue { ticket, .. } => ops.hdel(keys.waiting(), ticket.0.to_string()),
        Record::LastPartner {
            user,
            partner,
            ended_at,
        } => ops.hset(
            keys.last_partner(),
            user.0.to_string(),
            format!("{}:{}", partner.0, ended_at.0),
        ),
        Record::ForgetLastPartner { user } => ops.hdel(keys.last_partner(), user.0.to_string()),
        Record::Link { original, copy, at } => {
            let expire_at = at.0.saturating_add(LINK_TTL_SECS).to_string();
            // The value says whether the key is the original, as in the
            // embedded store's `links` table.
            for (key, other, key_is_original) in [(original, copy, "1"), (copy, original, "0")] {
                let value = format!(
                    "{}:{}:{}:{key_is_original}",
                    other.chat.0, other.message.0, at.0
                );
                ops.op("SETEXAT", [keys.link(key)]);
                ops.more([value, expire_at.clone()]);
                ops.op("ZADD", [keys.links_by_time()]);
                ops.more([at.0.to_string(), Keys::link_member(key)]);
            }
        }
        Record::PruneLinks { before, .. } => {
            ops.op("PRUNE", [keys.links_by_time(), keys.link_prefix()]);
            ops.more([before.0.to_string()]);
        }
        Record::Album {
            user,
            group,
            parts,
            since,
        } => {
            let row = album_row(group, parts, *since)?;
            ops.hset(keys.albums(), user.0.to_string(), row);
        }
        Record::AlbumDone { user } => ops.hdel(keys.albums(), user.0.to_string()),
        Record::Maintenance { on } => {
            ops.hset(keys.meta(), META_MAINTENANCE, if *on { "1" } else { "0" })
        }
        Record::Broadcast(broadcast) => ops.hset(keys.meta(), META_BROADCAST, encode(broadcast)?),
        Record::Report(report) => {
            ops.op(
                "REPORT",
                [keys.report_seq(), keys.reports(), keys.reports_by_time()],
            );
            ops.args.push(report.at.0.to_string().into_bytes());
            ops.args.push(encode(report)?);
        }
        Record::Count { counter, delta } => {
            // HINCRBY takes a signed 64-bit number.
            let delta = (*delta).min(i64::MAX as u64);
            ops.op("HINCRBY", [keys.counters()]);
            ops.more([counter.name().to_owned(), delta.to_string()]);
        }
        Record::Ban { user, ban } => ops.hset(keys.bans(), user.0.to_string(), encode(ban)?),
        Record::Unban { user } => ops.hdel(keys.bans(), user.0.to_string()),
        Record::Profile { user, profile } => {
            ops.hset(keys.profiles(), user.0.to_string(), encode(profile)?)
        }
        Record::FiledReport { id, report } => {
            // The engine numbers these, continuing from `last_report_id`.
            ops.hset(keys.reports(), id.0.to_string(), encode(report)?);
            ops.op("ZADD", [keys.reports_by_time()]);
            ops.more([report.at.0.to_string(), id.0.to_string()]);
            ops.hset(keys.meta(), META_LAST_REPORT_ID, id.0.to_string());
            let open = encode(&ReportStatus::Open)?;
            ops.hset(keys.report_status(), id.0.to_string(), open);
        }
        Record::ReportStatus { id, status } => {
            ops.hset(keys.report_status(), id.0.to_string(), encode(status)?)
        }
    }
    Ok(())
}

/// The argument list being built.
#[derive(Default)]
struct Ops {
    args: Vec<Arg>,
}

impl Ops {
    /// An op's name and its leading key arguments.
    fn op<const N: usize>(&mut self, name: &str, keys: [String; N]) {
        self.args.push(name.as_bytes().to_vec());
        self.more(keys);
    }

    fn more<const N: usize>(&mut self, args: [String; N]) {
        self.args.extend(args.into_iter().map(String::into_bytes));
    }

    fn hset(&mut self, key: String, field: impl Into<String>, value: impl Into<Arg>) {
        self.op("HSET", [key, field.into()]);
        self.args.push(value.into());
    }

    fn hdel(&mut self, key: String, field: impl Into<String>) {
        self.op("HDEL", [key, field.into()]);
    }
}
