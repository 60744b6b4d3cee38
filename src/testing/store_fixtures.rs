//! Store fixtures shared by the store conformance suite
//! (`tests/store_conformance`) and the embedded store's own unit tests:
//! one batch that uses every record variant, and the snapshot `load` must
//! give back for it.

use crate::domain::{MessageId, Ticket, Timestamp, UserId};
use crate::engine::effect::Counterpart;
use crate::engine::{
    AgeRange, Ban, BanReason, Broadcast, Counter, Gender, OpenReport, Outbound, Profile, Record,
    Report, ReportId, ReportReason, ReportStatus,
};
use crate::i18n::{Lang, Text};
use crate::store::{Batch, Snapshot};

/// User `id`.
pub fn u(id: i64) -> UserId {
    UserId(id)
}

/// Message `id` in `chat`: one side of a link.
pub fn message(chat: i64, id: i32) -> Counterpart {
    Counterpart {
        chat: u(chat),
        message: MessageId(id),
    }
}

/// The time `secs`.
pub fn t(secs: u64) -> Timestamp {
    Timestamp(secs)
}

/// `user` seen at `at`.
pub fn seen(user: i64, at: u64) -> Record {
    Record::Seen {
        user: u(user),
        at: t(at),
    }
}

/// A batch of just `records`.
pub fn batch(records: Vec<Record>) -> Batch {
    Batch {
        records,
        ..Batch::default()
    }
}

/// Tells `user` a partner was found.
pub fn tell(user: i64) -> Outbound {
    Outbound::Tell {
        user: u(user),
        text: Text::PartnerFound,
    }
}

/// A profile with every field away from its default.
pub fn settled_profile() -> Profile {
    Profile {
        gender: Some(Gender::Other),
        age: Some(42),
        language: Some(Lang::Ru),
        wants_gender: Some(Gender::Female),
        wants_age: Some(AgeRange { min: 30, max: 50 }),
        same_language_only: true,
        refused_media: 0b101,
        protect_content: Some(true),
        captcha_passed: true,
        recent_partners: vec![crate::engine::profile::RecentPartner {
            partner: crate::domain::UserId(8),
            ended_at: crate::domain::Timestamp(40),
            rated: true,
        }],
        votes_up: 4,
        votes_down: 1,
    }
}

/// One batch using every record variant that shows in a snapshot, and the
/// snapshot `load` must give back.
pub fn every_record() -> (Batch, Snapshot) {
    let outbox = vec![
        (1, tell(1)),
        (
            2,
            Outbound::Relay {
                from: u(1),
                to: u(2),
                message: MessageId(42),
            },
        ),
    ];
    let now = Timestamp::now().0;
    let report = |reporter, reported, at, reason| {
        Record::Report(Report {
            reporter: u(reporter),
            reported: u(reported),
            at: t(at),
            reason,
        })
    };
    let records = vec![
        seen(1, 10),
        seen(1, 5),
        seen(2, 11),
        Record::Enqueue {
            ticket: Ticket(1),
            user: u(1),
            since: t(10),
        },
        Record::Enqueue {
            ticket: Ticket(12),
            user: u(3),
            since: t(12),
        },
        Record::Enqueue {
            ticket: Ticket(3),
            user: u(4),
            since: t(13),
        },
        Record::Dequeue {
            ticket: Ticket(1),
            user: u(1),
        },
        Record::Pair {
            a: u(2),
            b: u(1),
            since: t(20),
        },
        Record::Pair {
            a: u(5),
            b: u(6),
            since: t(21),
        },
        Record::Unpair { a: u(6), b: u(5) },
        Record::LastPartner {
            user: u(6),
            partner: u(5),
            ended_at: t(30),
        },
        Record::LastPartner {
            user: u(5),
            partner: u(6),
            ended_at: t(30),
        },
        report(5, 6, now - 2, ReportReason::Spam),
        report(6, 5, now - 1, ReportReason::Underage),
        Record::FiledReport {
            id: ReportId(3),
            report: filed_report(now),
        },
        Record::FiledReport {
            id: ReportId(4),
            report: filed_report(now),
        },
        Record::ReportStatus {
            id: ReportId(4),
            status: ReportStatus::Dismissed,
        },
        Record::Count {
            counter: Counter::Matches,
            delta: 2,
        },
        Record::Count {
            counter: Counter::Matches,
            delta: 1,
        },
        Record::Count {
            counter: Counter::Reports,
            delta: 2,
        },
        Record::Ban {
            user: u(-100),
            ban: Ban {
                until: t(0),
                count: 1,
                reason: BanReason::Admin("spam links".into()),
            },
        },
        Record::Album {
            user: u(7),
            group: "g7".into(),
            parts: vec![MessageId(70), MessageId(71)],
            since: t(40),
        },
        Record::Maintenance { on: true },
        Record::Profile {
            user: u(3),
            profile: Profile {
                age: Some(20),
                ..Profile::default()
            },
        },
        Record::Profile {
            user: u(3),
            profile: settled_profile(),
        },
        Record::Broadcast(broadcast()),
    ];
    let snapshot = Snapshot {
        pairs: vec![(u(1), u(2), t(20))],
        waiting: vec![(Ticket(3), u(4), t(13)), (Ticket(12), u(3), t(12))],
        last_partners: vec![(u(5), u(6), t(30)), (u(6), u(5), t(30))],
        bans: vec![(
            u(-100),
            Ban {
                until: t(0),
                count: 1,
                reason: BanReason::Admin("spam links".into()),
            },
        )],
        recent_reports: vec![
            Report {
                reporter: u(5),
                reported: u(6),
                at: t(now - 2),
                reason: ReportReason::Spam,
            },
            Report {
                reporter: u(6),
                reported: u(5),
                at: t(now - 1),
                reason: ReportReason::Underage,
            },
            filed_report(now),
            filed_report(now),
        ],
        albums: vec![(u(7), "g7".into(), vec![MessageId(70), MessageId(71)], t(40))],
        last_update_id: Some(900),
        maintenance: true,
        outbox: outbox.clone(),
        profiles: vec![(u(3), settled_profile())],
        broadcast: Some(broadcast()),
        open_reports: vec![OpenReport {
            id: ReportId(3),
            report: filed_report(now),
        }],
        last_report_id: 4,
    };
    let batch = Batch {
        records,
        last_update_id: Some(900),
        outbox_add: outbox,
        outbox_done: vec![],
        update_ids: Vec::new(),
    };
    (batch, snapshot)
}

/// A broadcast half-way through.
pub fn broadcast() -> Broadcast {
    Broadcast {
        admin: u(1),
        text: "hello everyone".into(),
        started: t(10),
        progress: Some(MessageId(44)),
        cursor: Some(u(3)),
        handed: 2,
        sent: 1,
        blocked: 1,
        failed: 0,
        exhausted: false,
        finished: false,
    }
}

/// A report filed with an engine id (ids follow time, as the engine's
/// do), open for moderators until its status says otherwise.
pub fn filed_report(now: u64) -> Report {
    Report {
        reporter: u(7),
        reported: u(8),
        at: t(now),
        reason: ReportReason::Scam,
    }
}
