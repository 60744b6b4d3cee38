//! Tests of what the store keeps: every record's effect, atomic batches,
//! restarts and stats. Failures (bad files, locks, full disks) are in
//! `failure_tests`.

use super::*;
use crate::domain::{MessageId, Ticket};
use crate::engine::effect::{Counter, Report};
use crate::engine::{
    AgeRange, Ban, BanReason, Gender, OpenReport, Profile, ReportId, ReportReason, ReportStatus,
};
use crate::i18n::Lang;
use crate::i18n::Text;

fn u(id: i64) -> UserId {
    UserId(id)
}

fn t(secs: u64) -> Timestamp {
    Timestamp(secs)
}

fn batch(records: Vec<Record>) -> Batch {
    Batch {
        records,
        ..Batch::default()
    }
}

pub(super) fn user_row(store: &EmbeddedStore, user: i64) -> Option<UserRow> {
    let txn = store.db.read().as_ref().unwrap().begin_read().unwrap();
    let users = txn.open_table(USERS).unwrap();
    let raw = users.get(user).unwrap()?;
    Some(postcard::from_bytes(raw.value()).unwrap())
}

/// One batch using every record variant, and what `load` must give back.
pub(super) fn every_record() -> (Batch, Snapshot) {
    let outbox: Vec<(u64, Outbound)> = vec![
        Outbound::Tell {
            user: u(1),
            text: Text::PartnerFound,
        },
        Outbound::Relay {
            from: u(1),
            to: u(2),
            message: MessageId(42),
        },
    ]
    .into_iter()
    .enumerate()
    .map(|(i, send)| (i as u64 + 1, send))
    .collect();
    let batch = Batch {
        records: vec![
            Record::Seen {
                user: u(1),
                at: t(10),
            },
            Record::Seen {
                user: u(1),
                at: t(5),
            },
            Record::Seen {
                user: u(2),
                at: t(11),
            },
            Record::Enqueue {
                ticket: Ticket(1),
                user: u(1),
                since: t(10),
            },
            Record::Enqueue {
                ticket: Ticket(2),
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
                user: u(5),
                partner: u(6),
                ended_at: t(30),
            },
            Record::LastPartner {
                user: u(6),
                partner: u(5),
                ended_at: t(30),
            },
            Record::Report(Report {
                reporter: u(5),
                reported: u(6),
                at: t(31),
                reason: ReportReason::Spam,
            }),
            Record::Report(Report {
                reporter: u(6),
                reported: u(5),
                at: t(32),
                reason: ReportReason::Underage,
            }),
            Record::FiledReport {
                id: ReportId(3),
                report: filed_report(),
            },
            Record::FiledReport {
                id: ReportId(4),
                report: filed_report(),
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
        ],
        last_update_id: Some(900),
        outbox_add: outbox.clone(),
        outbox_done: vec![],
        update_ids: Vec::new(),
    };
    let snapshot = Snapshot {
        pairs: vec![(u(1), u(2), t(20))],
        waiting: vec![(Ticket(2), u(3), t(12)), (Ticket(3), u(4), t(13))],
        last_partners: vec![(u(5), u(6), t(30)), (u(6), u(5), t(30))],
        last_update_id: Some(900),
        outbox,
        profiles: vec![(u(3), settled_profile())],
        open_reports: vec![OpenReport {
            id: ReportId(3),
            report: filed_report(),
        }],
        last_report_id: 4,
        ..Snapshot::default()
    };
    (batch, snapshot)
}

/// A report filed with an id (open until a status says otherwise).
fn filed_report() -> Report {
    Report {
        reporter: u(7),
        reported: u(8),
        at: t(33),
        reason: ReportReason::Scam,
    }
}

fn randchat_recent() -> crate::engine::profile::RecentPartner {
    crate::engine::profile::RecentPartner {
        partner: u(8),
        ended_at: t(40),
        rated: true,
    }
}

/// A profile with every field away from its default.
fn settled_profile() -> Profile {
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
        recent_partners: vec![randchat_recent()],
        votes_up: 4,
        votes_down: 1,
    }
}

#[tokio::test]
async fn a_database_from_before_profiles_gains_the_table_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    {
        let guard = store.db.read();
        let txn = guard.as_ref().unwrap().begin_write().unwrap();
        txn.delete_table(PROFILES).unwrap();
        txn.commit().unwrap();
    }
    // Read before any write: no table, no settings, no error.
    assert_eq!(store.clone().load().await.unwrap(), Snapshot::default());
    let path = store.path().to_path_buf();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.path(), path);
    let record = Record::Profile {
        user: u(9),
        profile: settled_profile(),
    };
    store.clone().commit(batch(vec![record])).await.unwrap();
    let loaded = store.clone().load().await.unwrap();
    assert_eq!(loaded.profiles, vec![(u(9), settled_profile())]);
}

#[tokio::test]
async fn every_record_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.clone().load().await.unwrap(), Snapshot::default());

    let (batch, expected) = every_record();
    store.clone().commit(batch).await.unwrap();
    assert_eq!(store.clone().load().await.unwrap(), expected);

    // Seen keeps the first sighting and the latest one, whatever the order.
    let row = user_row(&store, 1).unwrap();
    assert_eq!((row.first_seen, row.last_seen), (10, 10));
    store.clone().commit(batch_of_seen(1, 15)).await.unwrap();
    let row = user_row(&store, 1).unwrap();
    assert_eq!((row.first_seen, row.last_seen), (10, 15));

    let txn = store.db.read().as_ref().unwrap().begin_read().unwrap();
    let reports = txn.open_table(REPORTS).unwrap();
    let ids: Vec<u64> = reports
        .iter()
        .unwrap()
        .map(|r| r.unwrap().0.value())
        .collect();
    assert_eq!(
        ids,
        vec![1, 2, 3, 4],
        "sequential ids from 1, then the engine's"
    );
    let second: Report = postcard::from_bytes(reports.get(2).unwrap().unwrap().value()).unwrap();
    assert_eq!(second.reporter, u(6));
}

#[tokio::test]
async fn seen_and_counts_folded_in_one_transaction_match_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    store.clone().commit(batch_of_seen(1, 10)).await.unwrap();
    let relayed = |delta| Record::Count {
        counter: Counter::Relayed,
        delta,
    };
    let mut folded = batch_of_seen(1, 30);
    folded.absorb(batch(vec![relayed(2), relayed(3)]));
    folded.absorb(batch_of_seen(1, 25));
    folded.absorb(batch_of_seen(2, 40));
    folded.absorb(batch_of_seen(2, 35));
    store.clone().commit(folded).await.unwrap();
    let row = user_row(&store, 1).unwrap();
    assert_eq!((row.first_seen, row.last_seen), (10, 30));
    let row = user_row(&store, 2).unwrap();
    assert_eq!((row.first_seen, row.last_seen), (40, 40));
    let stats = store.clone().stats().await.unwrap();
    assert_eq!(stats.counters, vec![("relayed".into(), 5)]);
}

pub(super) fn batch_of_seen(user: i64, at: u64) -> Batch {
    batch(vec![Record::Seen {
        user: u(user),
        at: t(at),
    }])
}

#[tokio::test]
async fn stats_count_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let (batch, _) = every_record();
    store.clone().commit(batch).await.unwrap();
    let stats = store.clone().stats().await.unwrap();
    assert_eq!(
        stats,
        Stats {
            users: 2,
            pairs: 1,
            waiting: 2,
            reports: 4,
            counters: vec![("matches".into(), 3), ("reports".into(), 2)],
        }
    );
}

#[tokio::test]
async fn pairing_again_drops_stale_reverse_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let records = vec![
        Record::Pair {
            a: u(1),
            b: u(2),
            since: t(1),
        },
        // 1 is re-paired without an Unpair: 2 must not keep pointing at 1.
        Record::Pair {
            a: u(1),
            b: u(3),
            since: t(2),
        },
        // Unpair only removes entries that point at each other.
        Record::Unpair { a: u(2), b: u(3) },
    ];
    store.clone().commit(batch(records)).await.unwrap();
    let snapshot = store.clone().load().await.unwrap();
    assert_eq!(snapshot.pairs, vec![(u(1), u(3), t(2))]);
    assert_eq!(store.clone().stats().await.unwrap().pairs, 1);
}

#[tokio::test]
async fn reopen_resumes_state() {
    let dir = tempfile::tempdir().unwrap();
    let (batch, expected) = every_record();
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.clone().commit(batch).await.unwrap();
    } // dropped: the file is closed, as at process exit

    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.clone().load().await.unwrap(), expected);

    // `None` leaves the stored values; performed sends leave the outbox.
    let clear = Batch {
        outbox_done: expected.outbox.iter().map(|(seq, _)| *seq).collect(),
        ..Batch::default()
    };
    store.clone().commit(clear).await.unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let snapshot = store.clone().load().await.unwrap();
    assert_eq!(snapshot.last_update_id, Some(900));
    assert!(snapshot.outbox.is_empty());
    assert_eq!(snapshot.pairs, expected.pairs);
}

#[tokio::test]
async fn a_failing_batch_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let first = Batch {
        records: vec![Record::Seen {
            user: u(1),
            at: t(1),
        }],
        last_update_id: Some(1),
        ..Batch::default()
    };
    store.clone().commit(first).await.unwrap();
    let before = store.clone().load().await.unwrap();

    // Plant an undecodable users row so the last record of the batch fails.
    let txn = store.db.read().as_ref().unwrap().begin_write().unwrap();
    txn.open_table(USERS)
        .unwrap()
        .insert(9, &[0xff_u8; 3][..])
        .unwrap();
    txn.commit().unwrap();
    let failing = Batch {
        records: vec![
            Record::Pair {
                a: u(1),
                b: u(2),
                since: t(2),
            },
            Record::Enqueue {
                ticket: Ticket(7),
                user: u(3),
                since: t(2),
            },
            Record::Seen {
                user: u(9),
                at: t(2),
            },
        ],
        last_update_id: Some(2),
        outbox_add: vec![(
            1,
            Outbound::Tell {
                user: u(1),
                text: Text::PartnerFound,
            },
        )],
        outbox_done: vec![],
        update_ids: Vec::new(),
    };
    let err = store.clone().commit(failing).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(store.clone().load().await.unwrap(), before);

    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.clone().load().await.unwrap(), before);
}

#[tokio::test]
async fn a_forgotten_last_partner_is_gone_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    store
        .clone()
        .commit(batch(vec![
            Record::LastPartner {
                user: u(1),
                partner: u(2),
                ended_at: t(5),
            },
            Record::LastPartner {
                user: u(2),
                partner: u(1),
                ended_at: t(5),
            },
        ]))
        .await
        .unwrap();
    store
        .clone()
        .commit(batch(vec![Record::ForgetLastPartner { user: u(1) }]))
        .await
        .unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let snapshot = store.clone().load().await.unwrap();
    assert_eq!(snapshot.last_partners, vec![(u(2), u(1), t(5))]);
}

#[tokio::test]
async fn bans_and_recent_reports_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now().0;
    let report = |reporter, at, reason| {
        Record::Report(Report {
            reporter: u(reporter),
            reported: u(9),
            at: t(at),
            reason,
        })
    };
    let ban = |until, count, reason| Ban {
        until: t(until),
        count,
        reason,
    };
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .clone()
            .commit(batch(vec![
                report(
                    1,
                    now - crate::store::RECENT_REPORTS_SECS - 10,
                    ReportReason::Spam,
                ),
                report(2, now - 60, ReportReason::Scam),
                report(3, now, ReportReason::Nudity),
                Record::Ban {
                    user: u(9),
                    ban: ban(now + 3600, 2, BanReason::Reports),
                },
                Record::Ban {
                    user: u(8),
                    ban: ban(0, 1, BanReason::Admin("spam links".into())),
                },
                Record::Ban {
                    user: u(7),
                    ban: ban(now, 1, BanReason::Reports),
                },
                Record::Unban { user: u(7) },
            ]))
            .await
            .unwrap();
    }
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let snapshot = store.clone().load().await.unwrap();
    assert_eq!(
        snapshot.bans,
        vec![
            (u(8), ban(0, 1, BanReason::Admin("spam links".into()))),
            (u(9), ban(now + 3600, 2, BanReason::Reports)),
        ]
    );
    let reasons: Vec<_> = snapshot
        .recent_reports
        .iter()
        .map(|r| (r.reporter, r.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![(u(2), ReportReason::Scam), (u(3), ReportReason::Nudity)],
        "oldest first, only within the horizon"
    );
    assert_eq!(store.stats().await.unwrap().reports, 3);
}

#[tokio::test]
async fn an_album_being_gathered_survives_a_restart_until_done() {
    let dir = tempfile::tempdir().unwrap();
    let album = |parts: Vec<i32>| Record::Album {
        user: u(1),
        group: "g".into(),
        parts: parts.into_iter().map(MessageId).collect(),
        since: t(3),
    };
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .clone()
            .commit(batch(vec![album(vec![10]), album(vec![10, 11])]))
            .await
            .unwrap();
    }
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let snapshot = store.clone().load().await.unwrap();
    assert_eq!(
        snapshot.albums,
        vec![(
            u(1),
            "g".to_owned(),
            vec![MessageId(10), MessageId(11)],
            t(3)
        )]
    );
    store
        .clone()
        .commit(batch(vec![Record::AlbumDone { user: u(1) }]))
        .await
        .unwrap();
    assert!(store.clone().load().await.unwrap().albums.is_empty());
}
