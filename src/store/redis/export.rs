//! The Redis store's side of `randchat export`: every key of the layout,
//! as [`Item`]s in the same order the embedded store gives them.
//!
//! The live state comes from [`RedisStore::load_snapshot`] (one
//! `MULTI`/`EXEC`); users, counters and the full report history from a
//! second one, and message links last. Redis has no read transaction that
//! spans them all, so export with every bot instance on the prefix stopped.
//! Hashes have no order: each list is sorted into the embedded store's
//! order, so an export of the same data is the same bytes on either
//! backend.

use super::RedisStore;
use crate::domain::{MessageId, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Outbound, Report};
use crate::store::export::Item;
use crate::store::StoreError;
use std::collections::HashMap;
use tokio::sync::mpsc::Sender;

type Hash = HashMap<String, Vec<u8>>;

impl RedisStore {
    pub(super) async fn export_items(&self, sink: Sender<Item>) -> Result<(), StoreError> {
        let snapshot = self.load_snapshot().await?;
        let k = &self.keys;
        let mut conn = self.conn.clone();
        let (first, last, counters, reports, statuses): (Hash, Hash, Hash, Hash, Hash) =
            ::redis::pipe()
                .atomic()
                .hgetall(k.seen_first())
                .hgetall(k.seen_last())
                .hgetall(k.counters())
                .hgetall(k.reports())
                .hgetall(k.report_status())
                .query_async(&mut conn)
                .await
                .map_err(|e| self.read_error(e))?;
        // Sends left in instances' own outboxes follow the instance-less
        // one's, numbered after it.
        let next_seq = snapshot.outbox.iter().map(|(seq, _)| seq + 1).max();
        let next_seq = next_seq.unwrap_or(1);
        let mut items = vec![Item::Meta {
            last_update_id: snapshot.last_update_id,
            maintenance: snapshot.maintenance,
        }];
        let mut users = Vec::new();
        for (user, raw) in &first {
            let seen = |raw: &[u8]| self.id::<u64>(&String::from_utf8_lossy(raw));
            let last_seen = last.get(user).map(|raw| seen(raw)).transpose()?;
            let first_seen = seen(raw)?;
            users.push(Item::User {
                user: UserId(self.id(user)?),
                first_seen: Timestamp(first_seen),
                last_seen: Timestamp(last_seen.unwrap_or(first_seen)),
            });
        }
        users.sort_by_key(|item| match item {
            Item::User { user, .. } => *user,
            _ => UserId(0),
        });
        items.extend(users);
        let mut named: Vec<(String, u64)> = counters
            .iter()
            .map(|(name, raw)| Ok((name.clone(), self.id(&String::from_utf8_lossy(raw))?)))
            .collect::<Result<_, StoreError>>()?;
        named.sort();
        items.extend(
            named
                .into_iter()
                .map(|(name, value)| Item::Counter { name, value }),
        );
        items.extend(
            snapshot
                .pairs
                .into_iter()
                .map(|(a, b, since)| Item::Pair { a, b, since }),
        );
        items.extend(
            snapshot
                .waiting
                .into_iter()
                .map(|(ticket, user, since)| Item::Waiting {
                    ticket,
                    user,
                    since,
                }),
        );
        items.extend(
            snapshot
                .last_partners
                .into_iter()
                .map(|(user, partner, ended_at)| Item::LastPartner {
                    user,
                    partner,
                    ended_at,
                }),
        );
        let mut filed: Vec<(u64, Report)> = reports
            .iter()
            .map(|(id, raw)| Ok((self.id(id)?, self.decode(raw, "reports")?)))
            .collect::<Result<_, StoreError>>()?;
        filed.sort_by_key(|(id, _)| *id);
        for (id, report) in filed {
            let status = statuses.get(&id.to_string());
            let status = status.map(|raw| self.decode(raw, "reports:status"));
            items.push(Item::Report {
                report,
                id: Some(id),
                status: status.transpose()?,
            });
        }
        items.extend(
            snapshot
                .bans
                .into_iter()
                .map(|(user, ban)| Item::Ban { user, ban }),
        );
        items.extend(
            snapshot
                .profiles
                .into_iter()
                .map(|(user, profile)| Item::Profile { user, profile }),
        );
        items.extend(self.export_links().await?);
        items.extend(
            snapshot
                .albums
                .into_iter()
                .map(|(user, group, parts, since)| Item::Album {
                    user,
                    group,
                    parts,
                    since,
                }),
        );
        items.extend(
            snapshot
                .outbox
                .into_iter()
                .map(|(seq, send)| Item::Outbox { seq, send }),
        );
        items.extend(self.export_instance_outboxes(next_seq).await?);
        items.extend(
            snapshot
                .broadcast
                .map(|broadcast| Item::Broadcast { broadcast }),
        );
        for item in items {
            sink.send(item)
                .await
                .map_err(|_| StoreError::Read("the export was abandoned".into()))?;
        }
        Ok(())
    }

    /// The sends still in the outboxes of instances (`INSTANCE_ID`) that
    /// were stopped before they sent them, by instance id and then in each
    /// one's order, numbered from `next_seq` on.
    async fn export_instance_outboxes(&self, next_seq: u64) -> Result<Vec<Item>, StoreError> {
        let mut conn = self.conn.clone();
        // Every `outbox:<id>` key, whether or not its instance ever
        // announced itself, so nothing unsent is left behind.
        let pattern = format!("{}*", glob_escape(&self.keys.outbox_prefix()));
        let mut keys: Vec<String> = Vec::new();
        let mut cursor = 0_u64;
        loop {
            let (next, found): (u64, Vec<String>) = ::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.read_error(e))?;
            keys.extend(found);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        let mut items = Vec::new();
        for key in keys {
            let outbox: Hash = ::redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.read_error(e))?;
            let mut sends: Vec<(u64, Outbound)> = outbox
                .iter()
                .map(|(seq, raw)| Ok((self.id(seq)?, self.decode(raw, "outbox")?)))
                .collect::<Result<_, StoreError>>()?;
            sends.sort_by_key(|(seq, _)| *seq);
            items.extend(sends.into_iter().map(|(_, send)| send));
        }
        Ok(items
            .into_iter()
            .zip(next_seq..)
            .map(|(send, seq)| Item::Outbox { seq, send })
            .collect())
    }

    /// Live links, each once from its original's side, in (chat, message)
    /// order of the original.
    async fn export_links(&self) -> Result<Vec<Item>, StoreError> {
        let mut conn = self.conn.clone();
        let members: Vec<String> = ::redis::cmd("ZRANGE")
            .arg(self.keys.links_by_time())
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = members
            .iter()
            .map(|m| format!("{}{m}", self.keys.link_prefix()))
            .collect();
        let values: Vec<Option<String>> = ::redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        let mut links = Vec::new();
        for (member, value) in members.iter().zip(values) {
            // Expired (or pruned) links are gone: nothing to move.
            let Some(value) = value else { continue };
            let parts: Vec<&str> = value.split(':').collect();
            let [chat, message, at, "1"] = parts.as_slice() else {
                continue; // the copy's side, or not a link
            };
            let (own_chat, own_message) = member
                .split_once(':')
                .ok_or_else(|| self.corrupt("link", member))?;
            let original = Counterpart {
                chat: UserId(self.id(own_chat)?),
                message: MessageId(self.id(own_message)?),
            };
            let copy = Counterpart {
                chat: UserId(self.id(chat)?),
                message: MessageId(self.id(message)?),
            };
            links.push((original, copy, Timestamp(self.id(at)?)));
        }
        links.sort_by_key(|(original, _, _)| (original.chat.0, original.message.0));
        Ok(links
            .into_iter()
            .map(|(original, copy, at)| Item::Link { original, copy, at })
            .collect())
    }
}

/// `text` as a `SCAN MATCH` pattern that matches only itself.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
