//! The key layout of the Redis store, in one place.
//!
//! Every key starts with the configured prefix (`REDIS_PREFIX`, default
//! `randchat:`), so several bots can share one server. Values that are
//! plain integers are decimal strings (readable with `redis-cli`); the rest
//! are postcard bytes, exactly as the embedded store encodes them.
//!
//! | Key | Type | Holds |
//! | --- | --- | --- |
//! | `meta` | hash | `schema_version`, `last_update_id`, `maintenance` (`0`/`1`), `last_report_id` (the highest engine-given report id) |
//! | `seen:first`, `seen:last` | hash | user → unix seconds |
//! | `pairs` | hash | user → `partner:since`, both directions |
//! | `waiting` | hash | ticket → `user:since` |
//! | `last_partner` | hash | user → `partner:ended_at` |
//! | `albums` | hash | user → postcard `(group, parts, since)` |
//! | `bans` | hash | user → postcard `Ban` |
//! | `profiles` | hash | user → postcard `Profile` |
//! | `reports` | hash | id → postcard `Report` |
//! | `reports:seq` | string | the last report id |
//! | `reports:by_time` | zset | id, scored by the report's time |
//! | `reports:status` | hash | id → postcard `ReportStatus` (reports filed with an engine id) |
//! | `counters` | hash | counter name → count |
//! | `outbox` | hash | send sequence number → postcard `Outbound` (a store opened without an instance id: the CLI, older versions) |
//! | `outbox:<instance>` | hash | the same, for one running instance (`INSTANCE_ID`) |
//! | `alive:<instance>` | string | an instance's sign of life, expiring after [`super::shared::ALIVE_MS`] |
//! | `instances` | set | instance ids that have run on this prefix |
//! | `lease` | string | the token of the instance deciding now, expiring after [`super::shared::LEASE_MS`] |
//! | `version` | string | how many state-changing batches were committed by fenced commits |
//! | `changes` | stream | entry `<version>-1`: field `r`, the postcard records of that batch |
//! | `update:<id>` | string | `1`: Telegram update `<id>` is applied (expires after a day) |
//! | `link:<chat>:<message>` | string | `chat:message:at:1` (the other side; `1` if the key is the original, `0` if it is the copy), expiring 48 h after `at` |
//! | `links:by_time` | zset | `<chat>:<message>`, scored by link time, for pruning |

use crate::engine::effect::Counterpart;

/// Default of `REDIS_PREFIX`.
pub const DEFAULT_PREFIX: &str = "randchat:";

/// The full names of the store's keys under one prefix.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
    /// The running instance whose outbox [`Keys::outbox`] names.
    instance: Option<String>,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
            instance: None,
        }
    }

    /// The keys of instance `id` (its own outbox) under `prefix`.
    pub fn for_instance(prefix: &str, id: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
            instance: Some(id.to_owned()),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn named(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn meta(&self) -> String {
        self.named("meta")
    }
    pub fn seen_first(&self) -> String {
        self.named("seen:first")
    }
    pub fn seen_last(&self) -> String {
        self.named("seen:last")
    }
    pub fn pairs(&self) -> String {
        self.named("pairs")
    }
    pub fn waiting(&self) -> String {
        self.named("waiting")
    }
    pub fn last_partner(&self) -> String {
        self.named("last_partner")
    }
    pub fn albums(&self) -> String {
        self.named("albums")
    }
    pub fn bans(&self) -> String {
        self.named("bans")
    }
    pub fn profiles(&self) -> String {
        self.named("profiles")
    }
    pub fn reports(&self) -> String {
        self.named("reports")
    }
    pub fn report_seq(&self) -> String {
        self.named("reports:seq")
    }
    pub fn report_status(&self) -> String {
        self.named("reports:status")
    }
    pub fn reports_by_time(&self) -> String {
        self.named("reports:by_time")
    }
    pub fn counters(&self) -> String {
        self.named("counters")
    }
    /// This instance's outbox, or the instance-less one.
    pub fn outbox(&self) -> String {
        match &self.instance {
            Some(id) => format!("{}{id}", self.outbox_prefix()),
            None => self.legacy_outbox(),
        }
    }
    pub fn legacy_outbox(&self) -> String {
        self.named("outbox")
    }
    pub fn outbox_prefix(&self) -> String {
        self.named("outbox:")
    }
    pub fn alive_prefix(&self) -> String {
        self.named("alive:")
    }
    pub fn instances(&self) -> String {
        self.named("instances")
    }
    pub fn lease(&self) -> String {
        self.named("lease")
    }
    pub fn version(&self) -> String {
        self.named("version")
    }
    pub fn changes(&self) -> String {
        self.named("changes")
    }
    pub fn update_prefix(&self) -> String {
        self.named("update:")
    }
    /// What every link key starts with; the rest is [`Keys::link_member`].
    pub fn link_prefix(&self) -> String {
        self.named("link:")
    }
    pub fn link(&self, message: &Counterpart) -> String {
        format!("{}{}", self.link_prefix(), Self::link_member(message))
    }
    /// A message as a member of [`Keys::links_by_time`].
    pub fn link_member(message: &Counterpart) -> String {
        format!("{}:{}", message.chat.0, message.message.0)
    }
    pub fn links_by_time(&self) -> String {
        self.named("links:by_time")
    }
}

/// `meta` field: the layout version (see [`super::SCHEMA_VERSION`]).
pub const META_SCHEMA_VERSION: &str = "schema_version";
/// `meta` field: the highest Telegram update id applied.
pub const META_LAST_UPDATE_ID: &str = "last_update_id";
/// `meta` field: `1` while maintenance mode is on.
pub const META_LAST_REPORT_ID: &str = "last_report_id";
/// `meta` field: maintenance mode, `0` or `1`.
pub const META_MAINTENANCE: &str = "maintenance";
/// `meta` field: the last broadcast, postcard-encoded (as in the embedded
/// store's `meta` table).
pub const META_BROADCAST: &str = "broadcast";
