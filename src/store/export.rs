//! The backend-neutral form of all durable data, for `randchat export` and
//! `randchat import` (see `docs/export-import.md`).
//!
//! Why items rather than tables: an export must be readable by any backend
//! (embedded today, Redis next), so it speaks in the engine's terms (a
//! user, a pair, a ban) rather than in one backend's layout. Every item
//! turns back into the [`Record`]s (or [`Batch`] fields) that would have
//! written it, so an import goes through [`super::Backend::commit`] like
//! any other change and needs nothing backend-specific.
//!
//! "All data" is everything a backend keeps: users' first and last seen,
//! pairs, the waiting queue, last partners (for late reports), every report
//! ever filed (with its id and status), bans, profiles, counters, message
//! links still within their 48 hours, albums being gathered, the outbox of
//! unsent messages, the last broadcast (finished or running), and the last
//! applied update id and maintenance flag. Nothing is left out, so an
//! export followed by an import is a move, not a summary.

use super::Batch;
use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::{Counterpart, Outbound, Record, Report};
use crate::engine::{Ban, Broadcast, Counter, Profile, ReportId, ReportStatus};
use serde::{Deserialize, Serialize};

/// The export format this build writes and reads.
pub const FORMAT: u32 = 1;

/// One line of an export. The first line is a [`Item::Header`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Item {
    /// The first line: which format follows.
    Header {
        format: u32,
    },
    /// The last applied update id and the maintenance flag.
    Meta {
        last_update_id: Option<i64>,
        maintenance: bool,
    },
    User {
        user: UserId,
        first_seen: Timestamp,
        last_seen: Timestamp,
    },
    /// A named counter (`matches`, `relayed`, …).
    Counter {
        name: String,
        value: u64,
    },
    Pair {
        a: UserId,
        b: UserId,
        since: Timestamp,
    },
    Waiting {
        ticket: Ticket,
        user: UserId,
        since: Timestamp,
    },
    LastPartner {
        user: UserId,
        partner: UserId,
        ended_at: Timestamp,
    },
    /// A report, in the order reports were filed, with its id and, for
    /// reports filed since moderators handle them, where it stands. An
    /// export from before either existed has neither.
    Report {
        report: Report,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<ReportStatus>,
    },
    Ban {
        user: UserId,
        ban: Ban,
    },
    Profile {
        user: UserId,
        #[serde(deserialize_with = "profile_with_defaults")]
        profile: Profile,
    },
    /// A relayed message and its copy.
    Link {
        original: Counterpart,
        copy: Counterpart,
        at: Timestamp,
    },
    Album {
        user: UserId,
        group: String,
        parts: Vec<MessageId>,
        since: Timestamp,
    },
    /// A send committed but not yet performed.
    Outbox {
        seq: u64,
        send: Outbound,
    },
    /// The last broadcast, finished or still running (it resumes after
    /// the import from where it stood).
    Broadcast {
        broadcast: Broadcast,
    },
}

/// A profile, with the defaults for fields an older export lacks: new
/// settings are added to [`Profile`] over time, and an export made before
/// one existed must still import.
fn profile_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
    use serde::de::Error;
    let given = serde_json::Value::deserialize(d)?;
    let serde_json::Value::Object(given) = given else {
        return Err(D::Error::custom("a profile must be an object"));
    };
    let mut full = serde_json::to_value(Profile::default()).map_err(D::Error::custom)?;
    if let Some(full) = full.as_object_mut() {
        full.extend(given);
    }
    serde_json::from_value(full).map_err(D::Error::custom)
}

/// Why an item cannot be imported.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ItemError {
    #[error("unknown counter {0:?}")]
    UnknownCounter(String),
    #[error("a header is only allowed on the first line")]
    LateHeader,
}

impl Item {
    /// The `type` tag, for counting items by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Header { .. } => "header",
            Item::Meta { .. } => "meta",
            Item::User { .. } => "user",
            Item::Counter { .. } => "counter",
            Item::Pair { .. } => "pair",
            Item::Waiting { .. } => "waiting",
            Item::LastPartner { .. } => "last_partner",
            Item::Report { .. } => "report",
            Item::Ban { .. } => "ban",
            Item::Profile { .. } => "profile",
            Item::Link { .. } => "link",
            Item::Album { .. } => "album",
            Item::Outbox { .. } => "outbox",
            Item::Broadcast { .. } => "broadcast",
        }
    }

    /// Adds what writes this item to `batch`.
    pub fn write_into(self, batch: &mut Batch) -> Result<(), ItemError> {
        let record = match self {
            Item::Header { .. } => return Err(ItemError::LateHeader),
            Item::Meta {
                last_update_id,
                maintenance,
            } => {
                batch.last_update_id = last_update_id.or(batch.last_update_id);
                if !maintenance {
                    return Ok(());
                }
                Record::Maintenance { on: true }
            }
            Item::User {
                user,
                first_seen,
                last_seen,
            } => {
                // The store keeps a new user's first time and the latest.
                batch.records.push(Record::Seen {
                    user,
                    at: first_seen,
                });
                Record::Seen {
                    user,
                    at: last_seen,
                }
            }
            Item::Counter { name, value } => {
                let counter = Counter::ALL.into_iter().find(|c| c.name() == name);
                let counter = counter.ok_or(ItemError::UnknownCounter(name))?;
                Record::Count {
                    counter,
                    delta: value,
                }
            }
            Item::Pair { a, b, since } => Record::Pair { a, b, since },
            Item::Waiting {
                ticket,
                user,
                since,
            } => Record::Enqueue {
                ticket,
                user,
                since,
            },
            Item::LastPartner {
                user,
                partner,
                ended_at,
            } => Record::LastPartner {
                user,
                partner,
                ended_at,
            },
            Item::Report {
                report,
                id: Some(id),
                status: Some(status),
            } => {
                let id = ReportId(id);
                batch.records.push(Record::FiledReport { id, report });
                if status == ReportStatus::Open {
                    return Ok(());
                }
                Record::ReportStatus { id, status }
            }
            // Without a status the store numbers it, next after the last.
            Item::Report { report, .. } => Record::Report(report),
            Item::Ban { user, ban } => Record::Ban { user, ban },
            Item::Profile { user, profile } => Record::Profile { user, profile },
            Item::Link { original, copy, at } => Record::Link { original, copy, at },
            Item::Album {
                user,
                group,
                parts,
                since,
            } => Record::Album {
                user,
                group,
                parts,
                since,
            },
            Item::Outbox { seq, send } => {
                batch.outbox_add.push((seq, send));
                return Ok(());
            }
            Item::Broadcast { broadcast } => Record::Broadcast(broadcast),
        };
        batch.records.push(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_tagged_json_and_read_back() {
        let item = Item::Pair {
            a: UserId(1),
            b: UserId(2),
            since: Timestamp(3),
        };
        let line = serde_json::to_string(&item).unwrap();
        assert_eq!(line, r#"{"type":"pair","a":1,"b":2,"since":3}"#);
        assert_eq!(serde_json::from_str::<Item>(&line).unwrap(), item);
        let header = serde_json::to_string(&Item::Header { format: FORMAT }).unwrap();
        assert_eq!(header, r#"{"type":"header","format":1}"#);
        assert!(serde_json::from_str::<Item>(r#"{"type":"pair","a":1}"#).is_err());
        assert!(serde_json::from_str::<Item>(r#"{"type":"nope"}"#).is_err());
    }

    #[test]
    fn a_profile_from_an_older_export_gets_defaults_for_new_settings() {
        let line = r#"{"type":"profile","user":7,"profile":{"age":30}}"#;
        let Item::Profile { user, profile } = serde_json::from_str(line).unwrap() else {
            panic!("not a profile")
        };
        assert_eq!(user, UserId(7));
        assert_eq!(
            profile,
            Profile {
                age: Some(30),
                ..Profile::default()
            }
        );
        assert!(
            serde_json::from_str::<Item>(r#"{"type":"profile","user":7,"profile":3}"#).is_err()
        );
    }

    #[test]
    fn a_handled_report_keeps_its_id_and_status_and_an_old_one_is_numbered_anew() {
        let report = r#""report":{"reporter":1,"reported":2,"at":3,"reason":"Spam"}"#;
        let handled = format!(r#"{{"type":"report",{report},"id":9,"status":"acted_on"}}"#);
        let mut batch = Batch::default();
        let item: Item = serde_json::from_str(&handled).unwrap();
        assert_eq!(serde_json::to_string(&item).unwrap(), handled);
        item.write_into(&mut batch).unwrap();
        assert!(matches!(
            batch.records[..],
            [
                Record::FiledReport {
                    id: ReportId(9),
                    ..
                },
                Record::ReportStatus {
                    id: ReportId(9),
                    status: ReportStatus::ActedOn
                }
            ]
        ));
        let old: Item = serde_json::from_str(&format!(r#"{{"type":"report",{report}}}"#)).unwrap();
        let mut batch = Batch::default();
        old.write_into(&mut batch).unwrap();
        assert!(matches!(batch.records[..], [Record::Report(_)]));
    }

    #[test]
    fn items_become_the_records_that_wrote_them() {
        let mut batch = Batch::default();
        let user = Item::User {
            user: UserId(5),
            first_seen: Timestamp(10),
            last_seen: Timestamp(20),
        };
        user.write_into(&mut batch).unwrap();
        let meta = Item::Meta {
            last_update_id: Some(42),
            maintenance: false,
        };
        meta.write_into(&mut batch).unwrap();
        assert_eq!(batch.records.len(), 2);
        assert_eq!(batch.last_update_id, Some(42));
        let unknown = Item::Counter {
            name: "bogus".into(),
            value: 1,
        };
        assert_eq!(
            unknown.write_into(&mut batch),
            Err(ItemError::UnknownCounter("bogus".into()))
        );
    }
}
