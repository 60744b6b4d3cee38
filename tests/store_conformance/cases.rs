//! The cases, each generic over the backend.

use super::harness::Harness;
use randchat::domain::{MessageId, Ticket, Timestamp, UserId};
use randchat::engine::effect::Counterpart;
use randchat::engine::event::Linked;
use randchat::engine::{Ban, BanReason, Counter, Profile, Record, Report, ReportReason};
use randchat::store::{Batch, Snapshot, Stats, RECENT_REPORTS_SECS};
use randchat::testing::store_fixtures::{batch, every_record, message, seen, t, tell, u};

pub async fn an_empty_store_loads_empty<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    assert_eq!(store.clone().load().await.unwrap(), Snapshot::default());
    assert_eq!(store.clone().stats().await.unwrap(), Stats::default());
    let message = Counterpart {
        chat: u(1),
        message: MessageId(1),
    };
    assert_eq!(store.linked(vec![message]).await.unwrap(), vec![None]);
}

pub async fn every_record_round_trips<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let (batch, expected) = every_record();
    store.clone().commit(batch).await.unwrap();
    assert_eq!(store.load().await.unwrap(), expected);
}

pub async fn every_record_survives_a_restart<H: Harness>() {
    let mut h = H::new().await;
    let (batch, expected) = every_record();
    h.open().await.commit(batch).await.unwrap();
    let store = h.reopen().await;
    assert_eq!(store.clone().load().await.unwrap(), expected);

    // `None` leaves the stored update id; performed sends leave the outbox.
    let clear = Batch {
        outbox_done: expected.outbox.iter().map(|(seq, _)| *seq).collect(),
        ..Batch::default()
    };
    store.commit(clear).await.unwrap();
    let store = h.reopen().await;
    let snapshot = store.load().await.unwrap();
    assert_eq!(snapshot.last_update_id, Some(900));
    assert!(snapshot.outbox.is_empty());
    assert_eq!(snapshot.pairs, expected.pairs);
}

pub async fn a_failing_batch_applies_nothing<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let first = Batch {
        records: vec![seen(1, 1)],
        last_update_id: Some(1),
        ..Batch::default()
    };
    store.clone().commit(first).await.unwrap();
    let before = store.clone().load().await.unwrap();
    drop(store);

    let store = h.sabotage_seen_of(9).await;
    // The sabotaged record comes last, after writes to every other kind of
    // state: none of them may stay.
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
            Record::Maintenance { on: true },
            Record::Ban {
                user: u(4),
                ban: Ban {
                    until: t(0),
                    count: 1,
                    reason: BanReason::Reports,
                },
            },
            seen(9, 2),
        ],
        last_update_id: Some(2),
        outbox_add: vec![(1, tell(1))],
        outbox_done: vec![],
        update_ids: Vec::new(),
    };
    store.clone().commit(failing).await.unwrap_err();
    assert_eq!(store.clone().load().await.unwrap(), before);
    drop(store);
    let store = h.reopen().await;
    assert_eq!(store.load().await.unwrap(), before);
}

pub async fn stats_count_everything<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let (batch, _) = every_record();
    store.clone().commit(batch).await.unwrap();
    let stats = store.stats().await.unwrap();
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

pub async fn counts_folded_into_one_batch_add_up<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    store
        .clone()
        .commit(batch(vec![seen(1, 10)]))
        .await
        .unwrap();
    let relayed = |delta| Record::Count {
        counter: Counter::Relayed,
        delta,
    };
    let mut folded = batch(vec![seen(1, 30)]);
    folded.absorb(batch(vec![relayed(2), relayed(3)]));
    folded.absorb(batch(vec![seen(1, 25), seen(2, 40), seen(2, 35)]));
    store.clone().commit(folded).await.unwrap();
    store.clone().commit(batch(vec![relayed(1)])).await.unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.users, 2);
    assert_eq!(stats.counters, vec![("relayed".into(), 6)]);
}

pub async fn pairing_again_drops_stale_reverse_entries<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
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
    assert_eq!(store.stats().await.unwrap().pairs, 1);
}

pub async fn a_forgotten_last_partner_is_gone_after_a_restart<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let last = |user, partner| Record::LastPartner {
        user: u(user),
        partner: u(partner),
        ended_at: t(5),
    };
    store
        .clone()
        .commit(batch(vec![last(1, 2), last(2, 1)]))
        .await
        .unwrap();
    store
        .commit(batch(vec![Record::ForgetLastPartner { user: u(1) }]))
        .await
        .unwrap();
    let snapshot = h.reopen().await.load().await.unwrap();
    assert_eq!(snapshot.last_partners, vec![(u(2), u(1), t(5))]);
}

pub async fn bans_and_recent_reports_survive_a_restart<H: Harness>() {
    let mut h = H::new().await;
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
    let records = vec![
        report(1, now - RECENT_REPORTS_SECS - 10, ReportReason::Spam),
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
    ];
    h.open().await.commit(batch(records)).await.unwrap();
    let store = h.reopen().await;
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

pub async fn an_album_being_gathered_survives_a_restart_until_done<H: Harness>() {
    let mut h = H::new().await;
    let album = |parts: Vec<i32>| Record::Album {
        user: u(1),
        group: "g".into(),
        parts: parts.into_iter().map(MessageId).collect(),
        since: t(3),
    };
    h.open()
        .await
        .commit(batch(vec![album(vec![10]), album(vec![10, 11])]))
        .await
        .unwrap();
    let store = h.reopen().await;
    assert_eq!(
        store.clone().load().await.unwrap().albums,
        vec![(u(1), "g".into(), vec![MessageId(10), MessageId(11)], t(3))]
    );
    store
        .clone()
        .commit(batch(vec![Record::AlbumDone { user: u(1) }]))
        .await
        .unwrap();
    assert!(store.load().await.unwrap().albums.is_empty());
}

pub async fn links_are_found_both_ways_and_pruned<H: Harness>() {
    let mut h = H::new().await;
    // Real times: the Redis store also lets links expire 48 h after `at`.
    let now = Timestamp::now().0;
    let link = |o: Counterpart, c: Counterpart, at| Record::Link {
        original: o,
        copy: c,
        at: t(at),
    };
    let (old_o, old_c) = (message(1, 10), message(2, 20));
    let (new_o, new_c) = (message(2, 21), message(1, 11));
    h.open()
        .await
        .commit(batch(vec![
            link(old_o, old_c, now - 100),
            link(new_o, new_c, now - 10),
        ]))
        .await
        .unwrap();
    let store = h.reopen().await;
    let asked = vec![old_o, old_c, new_c, message(1, 99)];
    let found = store.clone().linked(asked.clone()).await.unwrap();
    assert_eq!(
        found,
        vec![
            Some(Linked {
                other: old_c,
                original: true
            }),
            Some(Linked {
                other: old_o,
                original: false
            }),
            Some(Linked {
                other: new_o,
                original: false
            }),
            None,
        ]
    );
    let prune = Record::PruneLinks {
        before: t(now - 50),
        slices: 1,
    };
    store.clone().commit(batch(vec![prune])).await.unwrap();
    let found = store.linked(asked).await.unwrap();
    assert_eq!(
        found[..2],
        [None, None],
        "links older than `before` are gone"
    );
    assert!(found[2].is_some(), "newer links stay");
}

/// How the bot prunes: a slice at a time (`Record::PruneLinks`). However a
/// store slices, a pass of `slices` prunes forgets every old link and
/// keeps every new one.
pub async fn a_pass_of_sliced_prunes_forgets_every_old_link<H: Harness>() {
    let mut h = H::new().await;
    let now = Timestamp::now().0;
    // 2,500 links, 5,000 rows both ways: more than one slice of any store.
    // Odd chats are old, so that with 4 slices of 1,250 rows every row a
    // slice starts or stops at is an old one.
    let at = |chat: i64| if chat % 2 == 1 { now - 100 } else { now - 10 };
    let links: Vec<Record> = (1..=2_500)
        .map(|chat| Record::Link {
            original: message(chat, 1),
            copy: message(chat + 100_000, 2),
            at: t(at(chat)),
        })
        .collect();
    let store = h.open().await;
    store.clone().commit(batch(links)).await.unwrap();
    let slices = 4;
    for _ in 0..slices {
        let prune = Record::PruneLinks {
            before: t(now - 50),
            slices,
        };
        store.clone().commit(batch(vec![prune])).await.unwrap();
    }
    let asked: Vec<Counterpart> = (1..=2_500)
        .flat_map(|chat| [message(chat, 1), message(chat + 100_000, 2)])
        .collect();
    drop(store);
    let found = h.reopen().await.linked(asked.clone()).await.unwrap();
    for (key, found) in asked.iter().zip(&found) {
        let chat = key.chat.0 % 100_000;
        let old = at(chat) < now - 50;
        assert_eq!(found.is_none(), old, "link of chat {chat} (old: {old})");
    }
}

pub async fn the_outbox_keeps_order_and_forgets_done_sends<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let add = |seqs: &[u64]| Batch {
        outbox_add: seqs.iter().map(|&s| (s, tell(s as i64))).collect(),
        ..Batch::default()
    };
    store.clone().commit(add(&[1, 2, 3, 10, 11])).await.unwrap();
    let done = Batch {
        outbox_done: vec![2, 10],
        ..add(&[12])
    };
    store.commit(done).await.unwrap();
    let snapshot = h.reopen().await.load().await.unwrap();
    let seqs: Vec<u64> = snapshot.outbox.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, vec![1, 3, 11, 12]);
    assert_eq!(snapshot.outbox[1].1, tell(3));
}

pub async fn profiles_and_maintenance_replace_what_was_there<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let profile = |user, age| Record::Profile {
        user: u(user),
        profile: Profile {
            age: Some(age),
            ..Profile::default()
        },
    };
    store
        .clone()
        .commit(batch(vec![
            profile(2, 30),
            profile(1, 20),
            Record::Maintenance { on: true },
        ]))
        .await
        .unwrap();
    store
        .commit(batch(vec![
            profile(1, 21),
            Record::Maintenance { on: false },
        ]))
        .await
        .unwrap();
    let snapshot = h.reopen().await.load().await.unwrap();
    let ages: Vec<_> = snapshot
        .profiles
        .iter()
        .map(|(user, p)| (*user, p.age))
        .collect();
    assert_eq!(ages, vec![(u(1), Some(21)), (u(2), Some(30))]);
    assert!(!snapshot.maintenance);
}

pub async fn known_users_are_walked_in_id_order<H: Harness>() {
    let mut h = H::new().await;
    let store = h.open().await;
    let records = [9, -2, 5, 7, 1000].map(|id| seen(id, 1)).into();
    store.clone().commit(batch(records)).await.unwrap();
    let ids = |users: Vec<UserId>| users.into_iter().map(|u| u.0).collect::<Vec<_>>();
    let first = store.clone().users_after(None, 3).await.unwrap();
    assert_eq!(ids(first), [-2, 5, 7]);
    let rest = store.clone().users_after(Some(u(7)), 3).await.unwrap();
    assert_eq!(ids(rest), [9, 1000]);
    let none = store.users_after(Some(u(1000)), 3).await.unwrap();
    assert!(none.is_empty());
}
