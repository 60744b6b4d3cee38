//! Atomic matching primitives on the server: enqueue, bind (claim a waiter
//! and pair), unbind, dequeue.
//!
//! **Unused by the bot.** They were the first design for several bot
//! processes on one Redis (each primitive checks its precondition and
//! applies its effect in one script run, `matching.lua`, so N processes
//! calling them concurrently never pair anyone twice or lose a pair). The
//! bot now keeps a whole engine per instance and the instances take turns
//! ([`super::shared`]), which keeps every rule in the engine; these stay as
//! a tested building block (`tests/redis_matching.rs`). A failed
//! precondition is a [`Conflict`], and nothing was written.

use super::RedisStore;
use crate::domain::{Ticket, Timestamp, UserId};
use crate::store::StoreError;

/// Why a primitive wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The user is already in a chat.
    Chatting,
    /// The user is already in the queue.
    Searching,
    /// The candidate is no longer waiting under that ticket, or is paired.
    Taken,
    /// A user can't be paired with themselves.
    SelfMatch,
    /// The pair or the queue entry is already gone.
    Gone,
}

/// What a primitive did: `Ok` with its result, or the conflict.
pub type Attempt<T> = Result<T, Conflict>;

impl RedisStore {
    /// Puts `user` in the queue with a fresh ticket, unless they are
    /// chatting or already searching.
    pub async fn enqueue(
        &self,
        user: UserId,
        since: Timestamp,
    ) -> Result<Attempt<Ticket>, StoreError> {
        let reply = self
            .primitive("enqueue", &[user.0.to_string(), since.0.to_string()])
            .await?;
        Ok(reply.and_then(|rest| {
            rest.first()
                .and_then(|t| t.parse().ok())
                .map(Ticket)
                .ok_or(Conflict::Gone)
        }))
    }

    /// Pairs `user` with `candidate` if the candidate still waits under
    /// `ticket` and neither is paired; both leave the queue.
    pub async fn bind(
        &self,
        user: UserId,
        candidate: UserId,
        ticket: Ticket,
        since: Timestamp,
    ) -> Result<Attempt<()>, StoreError> {
        let args = [user.0, candidate.0].map(|id| id.to_string());
        let args = [
            args[0].clone(),
            args[1].clone(),
            ticket.0.to_string(),
            since.0.to_string(),
        ];
        Ok(self.primitive("bind", &args).await?.map(drop))
    }

    /// Ends the pair `a`–`b` if it still exists, recording both as each
    /// other's last partner.
    pub async fn unbind(
        &self,
        a: UserId,
        b: UserId,
        ended_at: Timestamp,
    ) -> Result<Attempt<()>, StoreError> {
        let args = [a.0.to_string(), b.0.to_string(), ended_at.0.to_string()];
        Ok(self.primitive("unbind", &args).await?.map(drop))
    }

    /// Takes `user` out of the queue if they still wait under `ticket`.
    pub async fn dequeue(&self, user: UserId, ticket: Ticket) -> Result<Attempt<()>, StoreError> {
        let args = [user.0.to_string(), ticket.0.to_string()];
        Ok(self.primitive("dequeue", &args).await?.map(drop))
    }

    /// Up to `limit` waiters, oldest first: the candidates the rules pick
    /// from before calling [`RedisStore::bind`].
    pub async fn oldest_waiters(&self, limit: usize) -> Result<Vec<(Ticket, UserId)>, StoreError> {
        let mut conn = self.conn.clone();
        let stop = limit.max(1) as isize - 1;
        let rows: Vec<(i64, u64)> = ::redis::cmd("ZRANGE")
            .arg(self.keys.queue())
            .arg(0)
            .arg(stop)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.read_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(user, ticket)| (Ticket(ticket), UserId(user)))
            .collect())
    }

    async fn primitive(
        &self,
        op: &str,
        args: &[String],
    ) -> Result<Attempt<Vec<String>>, StoreError> {
        let k = &self.keys;
        let mut invocation = self.matching.prepare_invoke();
        for key in [
            k.pairs(),
            k.waiting(),
            k.waiting_by_user(),
            k.queue(),
            k.ticket_seq(),
            k.last_partner(),
        ] {
            invocation.key(key);
        }
        invocation.arg(op);
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<String> = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| StoreError::Write(format!("Redis at {}: {e}", self.shown_url)))?;
        let mut reply = reply.into_iter();
        match (reply.next().as_deref(), reply.next().as_deref()) {
            (Some("ok"), first) => Ok(Ok(first.map(str::to_owned).into_iter().collect())),
            (Some("conflict"), Some(reason)) => Ok(Err(match reason {
                "chatting" => Conflict::Chatting,
                "searching" => Conflict::Searching,
                "taken" => Conflict::Taken,
                "self" => Conflict::SelfMatch,
                _ => Conflict::Gone,
            })),
            (other, _) => Err(StoreError::Write(format!(
                "Redis at {}: unexpected reply from a matching primitive: {other:?}",
                self.shown_url
            ))),
        }
    }
}
