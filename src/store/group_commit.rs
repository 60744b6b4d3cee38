//! Group commit: one writer, many batches per transaction.
//!
//! redb has a single writer and no group commit of its own, and every
//! durable commit costs an fsync. A single writer task takes every batch
//! waiting at that moment, folds them (in order) into one transaction, and
//! then answers each submitter. Under load many batches share one fsync;
//! when idle, a lone batch is committed at once. Nobody is answered before
//! the transaction holding their batch has committed.
//!
//! For a store that commits in place (the embedded store: a redb commit is
//! blocking work), the writer is a thread of its own that commits itself.
//! Handing each transaction from a writer task to the blocking pool and
//! back cost two more thread wake-ups per commit, and every wake-up on a
//! busy machine is a chance to wait for a CPU: that was the tail of the
//! commit wait. Other stores (Redis) keep an async writer task.

use super::{Backend, Batch, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<(), Arc<StoreError>>>;

/// The most batches folded into one transaction.
const MAX_FOLDED: usize = 1024;

/// A handle to the writer. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    // Dropped first: the last handle closes the queue, then waits for the
    // writer thread (if any) to see that and let go of the store.
    queue: mpsc::UnboundedSender<(Batch, Reply)>,
    _thread: Option<Arc<Joined>>,
}

/// The writer thread, joined when the last handle goes: the store it holds
/// (and redb's lock on its file) is released before the loop that owned
/// the handles is gone, as it was when the writer was a task, so a bot
/// restarted in the same process finds the file free.
struct Joined(Option<std::thread::JoinHandle<()>>);

impl Drop for Joined {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

impl GroupCommit {
    /// Starts the writer (a thread, or a task, see the module docs) over
    /// `backend`.
    pub fn start(backend: Arc<dyn Backend>) -> Self {
        let (queue, inbox) = mpsc::unbounded_channel();
        if !backend.commits_in_place() {
            tokio::spawn(writer(backend, inbox));
            return GroupCommit {
                queue,
                _thread: None,
            };
        }
        let thread = std::thread::Builder::new().name("group-commit".into());
        let thread = match thread.spawn(move || writer_thread(&*backend, inbox)) {
            Ok(thread) => Some(thread),
            Err(error) => {
                // Without a writer every commit fails ("stopped"): loud.
                tracing::error!(%error, "cannot start the group-commit thread");
                None
            }
        };
        GroupCommit {
            queue,
            _thread: Some(Arc::new(Joined(thread))),
        }
    }

    /// Commits `batch` durably, sharing the transaction with whatever else
    /// is waiting. Returns once it is on disk.
    pub async fn commit(&self, batch: Batch) -> Result<(), Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        let stopped = || Arc::new(StoreError::Write("the writer task has stopped".into()));
        self.queue.send((batch, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

type Inbox = mpsc::UnboundedReceiver<(Batch, Reply)>;

/// `first` and every batch waiting behind it (up to [`MAX_FOLDED`]), folded
/// in order into one, with their submitters' replies.
fn fold(first: (Batch, Reply), inbox: &mut Inbox) -> (Batch, Vec<Reply>) {
    let (mut batch, reply) = first;
    let mut replies = vec![reply];
    while replies.len() < MAX_FOLDED {
        match inbox.try_recv() {
            Ok((later, reply)) => {
                batch.absorb(later);
                replies.push(reply);
            }
            Err(_) => break,
        }
    }
    (batch, replies)
}

fn answer(replies: Vec<Reply>, result: Result<(), Arc<StoreError>>) {
    for reply in replies {
        let _ = reply.send(result.clone());
    }
}

async fn writer(backend: Arc<dyn Backend>, mut inbox: Inbox) {
    while let Some(first) = inbox.recv().await {
        let (batch, replies) = fold(first, &mut inbox);
        let result = backend.clone().commit(batch).await.map_err(Arc::new);
        answer(replies, result);
    }
}

/// The writer for a store that commits in place; ends when every
/// [`GroupCommit`] handle is gone.
fn writer_thread(backend: &dyn Backend, mut inbox: Inbox) {
    while let Some(first) = inbox.blocking_recv() {
        let (batch, replies) = fold(first, &mut inbox);
        let result = backend.commit_in_place(&batch).map_err(Arc::new);
        answer(replies, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Timestamp, UserId};
    use crate::engine::{Counter, Record};
    use crate::store::{BoxFuture, Snapshot, Stats};
    use parking_lot::Mutex;

    /// Records how many records each transaction it was asked for held.
    /// `in_place`: it commits in place only, slowly enough that batches
    /// pile up behind each one; otherwise it commits through the async
    /// `commit`, yielding once first.
    #[derive(Default)]
    struct Recording {
        in_place: bool,
        commits: Mutex<Vec<usize>>,
    }

    impl Backend for Recording {
        fn load(self: Arc<Self>) -> BoxFuture<'static, Result<Snapshot, StoreError>> {
            Box::pin(async { Ok(Snapshot::default()) })
        }
        fn commit(self: Arc<Self>, batch: Batch) -> BoxFuture<'static, Result<(), StoreError>> {
            Box::pin(async move {
                if self.in_place {
                    return Err(StoreError::Write("committed in place only".into()));
                }
                tokio::task::yield_now().await;
                self.commits.lock().push(batch.records.len());
                Ok(())
            })
        }
        fn commits_in_place(&self) -> bool {
            self.in_place
        }
        fn commit_in_place(&self, batch: &Batch) -> Result<(), StoreError> {
            std::thread::sleep(std::time::Duration::from_millis(2));
            self.commits.lock().push(batch.records.len());
            Ok(())
        }
        fn stats(self: Arc<Self>) -> BoxFuture<'static, Result<Stats, StoreError>> {
            Box::pin(async { Ok(Stats::default()) })
        }
        fn linked(
            self: Arc<Self>,
            messages: Vec<crate::engine::effect::Counterpart>,
        ) -> BoxFuture<'static, Result<Vec<Option<crate::engine::event::Linked>>, StoreError>>
        {
            Box::pin(async move { Ok(vec![None; messages.len()]) })
        }
    }

    #[tokio::test]
    async fn a_store_that_commits_in_place_gets_a_writer_thread_that_folds_too() {
        let backend = Arc::new(Recording {
            in_place: true,
            ..Recording::default()
        });
        let commit = GroupCommit::start(backend.clone());
        commit_200_at_once(&commit).await;
        let commits = backend.commits.lock().clone();
        assert_eq!(commits.iter().sum::<usize>(), 200, "every record once");
        assert!(
            commits.len() < 200,
            "no folding: {} transactions",
            commits.len()
        );
        drop(commit);
        assert_eq!(
            Arc::strong_count(&backend),
            1,
            "the last handle gone, the writer thread has let go of the store"
        );
    }

    /// 200 batches of one record each, submitted at once; returns when
    /// every one is answered (and fails if any commit failed).
    async fn commit_200_at_once(commit: &GroupCommit) {
        let tasks: Vec<_> = (0..200)
            .map(|user| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.commit(one_record(user)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
    }

    fn one_record(user: i64) -> Batch {
        Batch {
            records: vec![Record::Seen {
                user: UserId(user),
                at: Timestamp(1),
            }],
            ..Batch::default()
        }
    }

    #[tokio::test]
    async fn concurrent_batches_share_transactions_and_all_are_answered() {
        let backend = Arc::new(Recording::default());
        let commit = GroupCommit::start(backend.clone());
        commit_200_at_once(&commit).await;
        let commits = backend.commits.lock().clone();
        assert_eq!(
            commits.iter().sum::<usize>(),
            200,
            "every record committed once"
        );
        assert!(
            commits.len() < 200,
            "no folding happened: {} transactions",
            commits.len()
        );
    }

    #[test]
    fn absorb_keeps_order_and_the_highest_update_id() {
        let mut first = Batch {
            last_update_id: Some(7),
            outbox_done: vec![1],
            ..one_record(1)
        };
        first.absorb(Batch {
            records: vec![Record::Count {
                counter: Counter::Relayed,
                delta: 1,
            }],
            last_update_id: Some(5),
            outbox_done: vec![2],
            ..Batch::default()
        });
        assert_eq!(first.records.len(), 2);
        assert!(matches!(first.records[1], Record::Count { .. }));
        assert_eq!(first.last_update_id, Some(7));
        assert_eq!(first.outbox_done, vec![1, 2]);
    }
}
