//! Reading the Redis store back: the snapshot at start-up, the operators'
//! counts, and message links.
//!
//! The snapshot's hashes are read in one `MULTI`/`EXEC`, so no batch lands
//! half-way through the read. Reports are append-only and read afterwards.
//! Hashes have no order, so each list is sorted here into the order the
//! embedded store gives (by user id, ticket or sequence number).

use super::keys::{META_BROADCAST, META_LAST_REPORT_ID, META_LAST_UPDATE_ID, META_MAINTENANCE};
use super::RedisStore;
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Report};
use crate::engine::event::Linked;
use crate::engine::{OpenReport, ReportId, ReportStatus};
use crate::store::{Snapshot, Stats, StoreError, RECENT_REPORTS_SECS};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::str::FromStr;

type Hash = HashMap<String, Vec<u8>>;

impl RedisStore {
    pub(super) async fn load_snapshot(&self) -> Result<Snapshot, StoreError> {
        let k = &self.keys;
        let mut conn = self.conn.clone();
        let (pairs, waiting, last, bans, albums, meta, outbox, profiles, version): (
            Hash,
            Hash,
            Hash,
            Hash,
            Hash,
            Hash,
            Hash,
            Hash,
            Option<u64>,
        ) = ::redis::pipe()
            .atomic()
            .hgetall(k.pairs())
            .hgetall(k.waiting())
            .hgetall(k.last_partner())
            .hgetall(k.bans())
            .hgetall(k.albums())
            .hgetall(k.meta())
            .hgetall(k.outbox())
            .hgetall(k.profiles())
            .get(k.version())
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let mut snapshot = Snapshot::default();
        for (user, value) in &pairs {
            let (user, (partner, since)) = (self.id(user)?, self.two(value)?);
            if user < partner {
                snapshot
                    .pairs
                    .push((UserId(user), UserId(partner), Timestamp(since)));
            }
        }
        for (ticket, value) in &waiting {
            let (user, since) = self.two::<i64>(value)?;
            let ticket = self.id::<u64>(ticket)?;
            snapshot
                .waiting
                .push((Ticket(ticket), UserId(user), Timestamp(since)));
        }
        for (user, value) in &last {
            let (partner, ended) = self.two::<i64>(value)?;
            let user = UserId(self.id(user)?);
            snapshot
                .last_partners
                .push((user, UserId(partner), Timestamp(ended)));
        }
        snapshot.bans = self.decode_all(&bans, "bans")?;
        for (user, (group, parts, since)) in
            self.decode_all::<(String, Vec<i32>, u64)>(&albums, "albums")?
        {
            let parts = parts.into_iter().map(MessageId).collect();
            snapshot.albums.push((user, group, parts, Timestamp(since)));
        }
        snapshot.profiles = self.decode_all(&profiles, "profiles")?;
        for (seq, raw) in &outbox {
            snapshot
                .outbox
                .push((self.id(seq)?, self.decode(raw, "outbox")?));
        }
        snapshot.maintenance = meta.get(META_MAINTENANCE).is_some_and(|v| v == b"1");
        if let Some(raw) = meta.get(META_BROADCAST) {
            snapshot.broadcast = Some(self.decode(raw, "broadcast")?);
        }
        if let Some(raw) = meta.get(META_LAST_UPDATE_ID) {
            snapshot.last_update_id = Some(self.id(&String::from_utf8_lossy(raw))?);
        }
        snapshot.pairs.sort_by_key(|(a, _, _)| *a);
        snapshot.waiting.sort_by_key(|(ticket, _, _)| *ticket);
        snapshot.last_partners.sort_by_key(|(user, _, _)| *user);
        snapshot.outbox.sort_by_key(|(seq, _)| *seq);
        snapshot.recent_reports = self.recent_reports(Timestamp::now()).await?;
        let filed = meta.get(META_LAST_REPORT_ID);
        let filed = filed.map(|raw| self.id::<u64>(&String::from_utf8_lossy(raw)));
        (snapshot.open_reports, snapshot.last_report_id) =
            self.open_reports(filed.transpose()?).await?;
        // Changes after this version come from the log (read in the same
        // MULTI as the state above, so none is missed or applied twice).
        self.loaded_at(version.unwrap_or(0));
        Ok(snapshot)
    }

    /// Reports still open, oldest first, and the highest report id used
    /// (engine-given or, from before report handling, by `reports:seq`).
    async fn open_reports(&self, filed: Option<u64>) -> Result<(Vec<OpenReport>, u64), StoreError> {
        let mut conn = self.conn.clone();
        let (statuses, seq): (Hash, Option<u64>) = ::redis::pipe()
            .hgetall(self.keys.report_status())
            .get(self.keys.report_seq())
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let last = filed.unwrap_or(0).max(seq.unwrap_or(0));
        let mut open: Vec<u64> = Vec::new();
        for (id, raw) in &statuses {
            if self.decode::<ReportStatus>(raw, "reports:status")? == ReportStatus::Open {
                open.push(self.id(id)?);
            }
        }
        if open.is_empty() {
            return Ok((Vec::new(), last));
        }
        open.sort_unstable();
        let raws: Vec<Option<Vec<u8>>> = ::redis::cmd("HMGET")
            .arg(self.keys.reports())
            .arg(&open)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let mut reports = Vec::new();
        for (id, raw) in open.into_iter().zip(raws) {
            if let Some(raw) = raw {
                let report = self.decode(&raw, "reports")?;
                reports.push(OpenReport {
                    id: ReportId(id),
                    report,
                });
            }
        }
        Ok((reports, last))
    }

    /// Reports made at or after `now` minus [`RECENT_REPORTS_SECS`], oldest
    /// first (in id order, as the embedded store gives them).
    async fn recent_reports(&self, now: Timestamp) -> Result<Vec<Report>, StoreError> {
        let horizon = now.0.saturating_sub(RECENT_REPORTS_SECS);
        let mut conn = self.conn.clone();
        let ids: Vec<u64> = ::redis::cmd("ZRANGEBYSCORE")
            .arg(self.keys.reports_by_time())
            .arg(horizon)
            .arg("+inf")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sorted = ids;
        sorted.sort_unstable();
        let raws: Vec<Option<Vec<u8>>> = ::redis::cmd("HMGET")
            .arg(self.keys.reports())
            .arg(&sorted)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        raws.into_iter()
            .flatten()
            .map(|raw| self.decode(&raw, "reports"))
            .collect()
    }

    /// Up to `limit` known users above `after`, in id order, for a
    /// broadcast. Redis hashes have no order, so this reads every known id
    /// (`HKEYS`) and sorts: fine for tens of thousands of users a step, slow
    /// beyond that (see docs/moderation.md).
    pub(super) async fn load_users_after(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = ::redis::cmd("HKEYS")
            .arg(self.keys.seen_first())
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let floor = after.map_or(i64::MIN, |user| user.0);
        let mut above: Vec<i64> = ids
            .iter()
            .map(|id| self.id::<i64>(id))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|id| *id > floor)
            .collect();
        above.sort_unstable();
        Ok(above.into_iter().take(limit).map(UserId).collect())
    }

    pub(super) async fn load_stats(&self) -> Result<Stats, StoreError> {
        let k = &self.keys;
        let mut conn = self.conn.clone();
        let (users, pair_entries, waiting, reports, counters): (u64, u64, u64, u64, Hash) =
            ::redis::pipe()
                .atomic()
                .hlen(k.seen_first())
                .hlen(k.pairs())
                .hlen(k.waiting())
                .hlen(k.reports())
                .hgetall(k.counters())
                .query_async(&mut conn)
                .await
                .map_err(|e| self.read_error(e))?;
        let mut counters: Vec<(String, u64)> = counters
            .into_iter()
            .map(|(name, value)| Ok((name, self.id(&String::from_utf8_lossy(&value))?)))
            .collect::<Result<_, StoreError>>()?;
        counters.sort();
        Ok(Stats {
            users,
            // Every pair is stored in both directions.
            pairs: pair_entries / 2,
            waiting,
            reports,
            counters,
        })
    }

    pub(super) async fn load_links(
        &self,
        messages: &[Counterpart],
    ) -> Result<Vec<Option<Linked>>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = messages.iter().map(|m| self.keys.link(m)).collect();
        let mut conn = self.conn.clone();
        let found: Vec<Option<String>> = ::redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        found
            .into_iter()
            .map(|value| value.map(|v| self.link(&v)).transpose())
            .collect()
    }

    /// `chat:message:at:1|0` → the other side, and whether the key is the
    /// original.
    fn link(&self, value: &str) -> Result<Linked, StoreError> {
        let parts: Vec<&str> = value.split(':').collect();
        let [chat, message, _at, original] = parts.as_slice() else {
            return Err(self.corrupt("link", value));
        };
        Ok(Linked {
            other: Counterpart {
                chat: UserId(self.id(chat)?),
                message: MessageId(self.id(message)?),
            },
            original: *original == "1",
        })
    }

    /// Every entry of a hash of postcard values keyed by user id, in user
    /// order.
    fn decode_all<T: DeserializeOwned>(
        &self,
        hash: &Hash,
        what: &str,
    ) -> Result<Vec<(UserId, T)>, StoreError> {
        let mut out = hash
            .iter()
            .map(|(user, raw)| Ok((UserId(self.id(user)?), self.decode(raw, what)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|(user, _)| *user);
        Ok(out)
    }

    pub(super) fn decode<T: DeserializeOwned>(
        &self,
        raw: &[u8],
        what: &str,
    ) -> Result<T, StoreError> {
        postcard::from_bytes(raw).map_err(|e| self.corrupt(what, e))
    }

    pub(super) fn id<T: FromStr>(&self, text: &str) -> Result<T, StoreError> {
        text.parse().map_err(|_| self.corrupt("number", text))
    }

    /// `x:y` as two numbers.
    fn two<T: FromStr>(&self, raw: &[u8]) -> Result<(T, u64), StoreError> {
        let text = String::from_utf8_lossy(raw);
        let (x, y) = text
            .split_once(':')
            .ok_or_else(|| self.corrupt("pair of numbers", &text))?;
        Ok((self.id(x)?, self.id(y)?))
    }

    pub(super) fn corrupt(&self, what: &str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            path: format!("{} (prefix {})", self.shown_url, self.keys.prefix()).into(),
            detail: format!("unreadable {what}: {detail}"),
        }
    }
}
