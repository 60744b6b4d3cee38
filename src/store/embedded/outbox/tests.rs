//! The outbox rows: what a commit plans for them, that the index follows
//! only committed plans, and that the pending sends survive a restart in
//! their order.

use super::*;
use crate::domain::MessageId;
use crate::store::{Backend, Batch};
use crate::testing::store_fixtures::{t, u};
use std::sync::Arc;

fn send(seq: u64) -> Outbound {
    Outbound::Relay {
        from: u(1),
        to: u(2),
        message: MessageId(seq as i32),
    }
}

fn sends(seqs: &[u64]) -> Sends {
    seqs.iter().map(|&seq| (seq, send(seq))).collect()
}

/// An index holding these rows, each named by its first send.
fn index_of(rows: &[&[u64]]) -> OutboxIndex {
    OutboxIndex::of(rows.iter().map(|row| (row[0], sends(row))).collect())
}

fn writes(entries: Vec<(u64, Option<Sends>)>) -> Plan {
    Plan {
        writes: entries.into_iter().collect(),
    }
}

#[test]
fn a_commits_adds_become_one_row_under_the_first_send() {
    let index = OutboxIndex::default();
    let plan = index.plan(&sends(&[4, 5, 6]), &[]);
    assert_eq!(plan, writes(vec![(4, Some(sends(&[4, 5, 6])))]));
}

#[test]
fn a_row_partly_done_is_rewritten_with_the_rest() {
    let mut index = index_of(&[&[1, 2, 3]]);
    let plan = index.plan(&[], &[2]);
    assert_eq!(plan, writes(vec![(1, Some(sends(&[1, 3])))]));
    index.apply(plan);
    assert_eq!(index.sends(), sends(&[1, 3]));
    assert_eq!(index.plan(&[], &[2]), Plan::default(), "2 is gone for good");
}

#[test]
fn a_row_all_done_is_removed_and_others_are_untouched() {
    let mut index = index_of(&[&[1, 2], &[3, 4], &[5]]);
    let plan = index.plan(&[], &[1, 2, 4]);
    assert_eq!(plan, writes(vec![(1, None), (3, Some(sends(&[3])))]));
    index.apply(plan);
    assert_eq!(index.sends(), sends(&[3, 5]));
    assert_eq!(index.rows.keys().copied().collect::<Vec<_>>(), vec![3, 5]);
}

#[test]
fn a_done_send_in_no_row_is_ignored() {
    let index = index_of(&[&[1]]);
    assert!(index.plan(&[], &[9, 0]).is_empty());
    let plan = index.plan(&sends(&[5]), &[9]);
    assert_eq!(plan, writes(vec![(5, Some(sends(&[5])))]));
}

#[test]
fn a_send_added_and_done_in_one_commit_is_never_written() {
    let index = OutboxIndex::default();
    let plan = index.plan(&sends(&[5, 6, 7]), &[5, 7]);
    assert_eq!(plan, writes(vec![(6, Some(sends(&[6])))]));
    assert!(index.plan(&sends(&[5]), &[5]).is_empty());
}

#[test]
fn a_send_added_again_replaces_its_earlier_copy() {
    let mut index = index_of(&[&[1, 2]]);
    let other = Outbound::LeaveChat {
        chat: crate::domain::ChatId(-7),
    };
    let plan = index.plan(&[(2, other.clone())], &[]);
    assert_eq!(
        plan,
        writes(vec![
            (1, Some(sends(&[1]))),
            (2, Some(vec![(2, other.clone())]))
        ])
    );
    index.apply(plan);
    assert_eq!(index.sends(), vec![(1, send(1)), (2, other)]);
    // The replaced send is done once, from its new row.
    let plan = index.plan(&[], &[2]);
    assert_eq!(plan, writes(vec![(2, None)]));
}

#[test]
fn a_reused_number_joins_the_row_that_holds_its_key() {
    // Row 1 lost send 1 but keeps its key; a new send numbered 1 joins it.
    let mut index = index_of(&[&[1, 2]]);
    index.apply(index.plan(&[], &[1]));
    let plan = index.plan(&sends(&[1]), &[]);
    assert_eq!(plan, writes(vec![(1, Some(sends(&[2, 1])))]));
    index.apply(plan);
    assert_eq!(index.sends(), sends(&[1, 2]), "flattened in send order");
}

fn batch(adds: &[u64], done: &[u64]) -> Batch {
    Batch {
        outbox_add: sends(adds),
        outbox_done: done.to_vec(),
        ..Batch::default()
    }
}

/// Row keys as stored in the file.
fn stored_keys(store: &EmbeddedStore) -> Vec<u64> {
    let txn = store.db.read().as_ref().unwrap().begin_read().unwrap();
    let table = txn.open_table(OUTBOX_ROWS).unwrap();
    let keys = table.iter().unwrap().map(|row| row.unwrap().0.value());
    keys.collect()
}

async fn commit(store: &Arc<EmbeddedStore>, adds: &[u64], done: &[u64]) {
    store.clone().commit(batch(adds, done)).await.unwrap();
}

#[tokio::test]
async fn the_sends_left_pending_survive_a_restart_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    commit(&store, &[1, 2, 3], &[]).await;
    commit(&store, &[4, 5, 6], &[2]).await;
    commit(&store, &[7, 8], &[1, 3, 5, 9]).await;
    assert_eq!(
        store.clone().load().await.unwrap().outbox,
        sends(&[4, 6, 7, 8])
    );
    assert_eq!(
        stored_keys(&store),
        vec![4, 7],
        "one row per commit, row 1 gone"
    );
    drop(store);

    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(
        store.clone().load().await.unwrap().outbox,
        sends(&[4, 6, 7, 8])
    );
    // The index was rebuilt at open: done sends find their rows.
    commit(&store, &[], &[4, 6, 8]).await;
    assert_eq!(store.clone().load().await.unwrap().outbox, sends(&[7]));
    assert_eq!(stored_keys(&store), vec![7]);
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.clone().load().await.unwrap().outbox, sends(&[7]));
}

#[tokio::test]
async fn a_commit_that_fails_leaves_the_index_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    commit(&store, &[4, 5], &[]).await;
    // Plant an undecodable users row so the batch fails before committing.
    {
        let guard = store.db.read();
        let txn = guard.as_ref().unwrap().begin_write().unwrap();
        let mut users = txn.open_table(crate::store::schema::USERS).unwrap();
        users.insert(9, &[0xff_u8; 3][..]).unwrap();
        drop(users);
        txn.commit().unwrap();
    }
    let mut failing = batch(&[10], &[4]);
    failing.records.push(crate::engine::effect::Record::Seen {
        user: u(9),
        at: t(1),
    });
    assert!(store.clone().commit(failing).await.is_err());
    assert_eq!(store.outbox.lock().sends(), sends(&[4, 5]));
    assert_eq!(store.clone().load().await.unwrap().outbox, sends(&[4, 5]));

    // Had the index dropped send 4, this would leave it in the file.
    commit(&store, &[], &[4]).await;
    assert_eq!(store.clone().load().await.unwrap().outbox, sends(&[5]));
    assert_eq!(store.outbox.lock().sends(), sends(&[5]));
}
