//! The embedded store's own tests: what lands in which redb table, an
//! old file gaining a table, and a batch failing half way on a corrupt
//! row. What every store must do (every record, restarts, stats, bans,
//! albums…) is the conformance suite's (`tests/store_conformance`), run
//! against both stores. Failures (bad files, locks, full disks) are in
//! `failure_tests`.

use super::*;
use crate::domain::Ticket;
use crate::engine::effect::{Counter, Outbound, Record, Report};
use crate::i18n::Text;
use crate::store::schema::{UserRow, PROFILES};
pub(super) use crate::testing::store_fixtures::every_record;
use crate::testing::store_fixtures::{batch, message, settled_profile, t, u};

pub(super) fn user_row(store: &EmbeddedStore, user: i64) -> Option<UserRow> {
    let txn = store.db.read().as_ref().unwrap().begin_read().unwrap();
    let users = txn.open_table(USERS).unwrap();
    let raw = users.get(user).unwrap()?;
    Some(postcard::from_bytes(raw.value()).unwrap())
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

/// A sliced prune looks at one slice of the links in key order, the next
/// one goes on from there, and a pass keeps its slice size however many
/// links it forgets; the pass after starts from the first key again.
#[tokio::test]
async fn sliced_prunes_go_through_the_links_a_slice_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let link = |chat: i64, at| Record::Link {
        original: message(chat, 1),
        copy: message(chat + 10_000, 1),
        at: t(at),
    };
    // 3,000 links are 6,000 rows: originals (chats 0..3,000) sort before
    // copies (10,000..13,000). Even chats are old.
    let at = |chat: i64| if chat % 2 == 0 { 100 } else { 500 };
    let links = (0..3_000).map(|chat| link(chat, at(chat))).collect();
    store.clone().commit(batch(links)).await.unwrap();
    let prune = || {
        batch(vec![Record::PruneLinks {
            before: t(200),
            slices: 3,
        }])
    };
    let present = |store: Arc<EmbeddedStore>, keys: Vec<Counterpart>| async move {
        let found = store.linked(keys).await.unwrap();
        found.iter().map(Option::is_some).collect::<Vec<_>>()
    };

    // The first slice: 2,000 rows, the originals of chats 0..2,000.
    store.clone().commit(prune()).await.unwrap();
    let keys = vec![
        message(0, 1),      // old, in the slice
        message(1_998, 1),  // old, in the slice
        message(1_999, 1),  // new, in the slice
        message(2_000, 1),  // old, past the slice
        message(10_000, 1), // chat 0's copy: old, past the slice
    ];
    assert_eq!(
        present(store.clone(), keys).await,
        [false, false, true, true, true]
    );

    // Two more prunes of 2,000 rows each reach the end, though the first
    // forgot 1,000 rows: every old row is gone, every new one stays.
    store.clone().commit(prune()).await.unwrap();
    store.clone().commit(prune()).await.unwrap();
    let keys: Vec<_> = (0..3_000)
        .flat_map(|chat| [message(chat, 1), message(chat + 10_000, 1)])
        .collect();
    let expected: Vec<bool> = (0..3_000).flat_map(|chat| [at(chat) == 500; 2]).collect();
    assert_eq!(present(store.clone(), keys).await, expected);

    // The pass is over: the next prune starts from the first key.
    store
        .clone()
        .commit(batch(vec![link(-7, 100)]))
        .await
        .unwrap();
    store.clone().commit(prune()).await.unwrap();
    assert_eq!(present(store, vec![message(-7, 1)]).await, [false]);
}

/// Links are inserted in key order (see `commit.rs`), but a prune in the
/// same batch still sees exactly the links recorded before it.
#[tokio::test]
async fn links_out_of_key_order_all_land_and_a_prune_keeps_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let link = |chat, id, at| Record::Link {
        original: message(chat, id),
        copy: message(chat + 1, id + 1000),
        at: t(at),
    };
    // Descending chats, so key order is the reverse of record order.
    let mut records: Vec<Record> = (0..50).rev().map(|chat| link(chat * 10, 1, 500)).collect();
    records.push(link(1_000, 1, 100)); // old, before the prune: goes
    records.push(Record::PruneLinks {
        before: t(200),
        slices: 1,
    });
    records.push(link(-5, 1, 100)); // old too, but after the prune: stays
    store.clone().commit(batch(records)).await.unwrap();

    let mut asked: Vec<Counterpart> = (0..50).map(|chat| message(chat * 10, 1)).collect();
    asked.extend([message(1_000, 1), message(-5, 1), message(-4, 1001)]);
    let found = store.linked(asked).await.unwrap();
    for (chat, link) in (0..50).zip(&found) {
        let expected = Linked {
            other: message(chat * 10 + 1, 1001),
            original: true,
        };
        assert_eq!(link, &Some(expected), "chat {chat}");
    }
    assert_eq!(
        found[50], None,
        "recorded before the prune, and old: pruned"
    );
    assert!(found[51].is_some(), "recorded after the prune: kept");
    assert_eq!(
        found[52],
        Some(Linked {
            other: message(-5, 1),
            original: false
        }),
        "the copy's side is found too"
    );
}

#[tokio::test]
async fn of_two_links_from_one_message_in_a_batch_the_later_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let copied_as = |id| Record::Link {
        original: message(1, 7),
        copy: message(2, id),
        at: t(10),
    };
    // Filler keys on both sides, so the two rows are not simply adjacent.
    let mut records: Vec<Record> = (3..40)
        .map(|chat| Record::Link {
            original: message(chat, 1),
            copy: message(-chat, 1),
            at: t(10),
        })
        .collect();
    records.insert(5, copied_as(100));
    records.push(copied_as(101));
    store.clone().commit(batch(records)).await.unwrap();
    let found = store.linked(vec![message(1, 7)]).await.unwrap();
    assert_eq!(
        found,
        vec![Some(Linked {
            other: message(2, 101),
            original: true
        })]
    );
}
