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
//!
//! A submitter may hand in a batch before the one it submitted last has
//! landed (the update loop does, to decide batch N+1 while N commits:
//! see [`GroupCommit::submit`]). Such a batch was decided on top of the
//! ones before it, so if one of those fails, it must fail too: every
//! batch is tagged with the submitter's epoch, a failed transaction
//! poisons the epochs it held, and the writer fails every later batch of
//! a poisoned epoch without committing it. A submitter that *sees* a
//! failure moves to a new epoch (it has rebuilt what it decides from, or
//! knowingly goes on), so what it submits after that commits again.

use super::{Backend, Batch, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<(), Arc<StoreError>>>;
type Answer = oneshot::Receiver<Result<(), Arc<StoreError>>>;

/// A batch on its way to the writer: its epoch and who waits for it.
struct Submitted {
    batch: Batch,
    epoch: u64,
    reply: Reply,
}

/// The most batches folded into one transaction.
const MAX_FOLDED: usize = 1024;

/// A handle to the writer. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    // Dropped first: the last handle closes the queue, then waits for the
    // writer thread (if any) to see that and let go of the store.
    queue: mpsc::UnboundedSender<Submitted>,
    /// The epoch new batches are tagged with (see the module docs).
    epoch: Arc<AtomicU64>,
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
                epoch: Arc::default(),
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
            epoch: Arc::default(),
            _thread: Some(Arc::new(Joined(thread))),
        }
    }

    /// Commits `batch` durably, sharing the transaction with whatever else
    /// is waiting. Returns once it is on disk.
    pub async fn commit(&self, batch: Batch) -> Result<(), Arc<StoreError>> {
        self.submit(batch).await
    }

    /// Hands `batch` to the writer now; the [`Landing`] says when it is on
    /// disk. Batches land in the order they were submitted, and one whose
    /// predecessor (since the last failure this handle's submitter saw)
    /// failed is not committed: it fails too.
    pub fn submit(&self, batch: Batch) -> Landing {
        let (reply, answer) = oneshot::channel();
        let epoch = self.epoch.load(Ordering::Acquire);
        // If the writer has stopped, the reply is dropped: the landing
        // answers "stopped".
        let _ = self.queue.send(Submitted {
            batch,
            epoch,
            reply,
        });
        Landing {
            answer,
            epoch,
            epochs: self.epoch.clone(),
        }
    }
}

/// A submitted batch's commit: completes once it is on disk, or failed.
/// A failure seen here moves its submitter to a new epoch.
pub struct Landing {
    answer: Answer,
    epoch: u64,
    epochs: Arc<AtomicU64>,
}

impl Landing {
    /// The result if the batch has landed already, without waiting. Once
    /// it returns one, the landing is spent: neither call this again nor
    /// await it.
    pub fn landed(&mut self) -> Option<Result<(), Arc<StoreError>>> {
        use tokio::sync::oneshot::error::TryRecvError;
        match self.answer.try_recv() {
            Ok(result) => Some(self.seen(result)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Closed) => Some(self.seen(Err(writer_stopped()))),
        }
    }

    /// A result as its submitter sees it: a failure moves it to a new epoch.
    fn seen(&self, result: Result<(), Arc<StoreError>>) -> Result<(), Arc<StoreError>> {
        if result.is_err() {
            self.epochs.fetch_max(self.epoch + 1, Ordering::AcqRel);
        }
        result
    }
}

impl Future for Landing {
    type Output = Result<(), Arc<StoreError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match Pin::new(&mut self.answer).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(result)) => result,
            Poll::Ready(Err(_)) => Err(writer_stopped()),
        };
        Poll::Ready(self.seen(result))
    }
}

fn writer_stopped() -> Arc<StoreError> {
    Arc::new(StoreError::Write("the writer task has stopped".into()))
}

type Inbox = mpsc::UnboundedReceiver<Submitted>;

/// The writer's state between transactions.
#[derive(Default)]
struct Writer {
    /// Batches of this epoch or older fail unseen: a transaction of that
    /// epoch failed, and they may have been decided on top of it.
    poisoned: Option<u64>,
}

/// Batches folded into one transaction, and who waits for them.
struct Folded {
    batch: Batch,
    replies: Vec<Reply>,
    /// The newest epoch among them.
    epoch: u64,
}

impl Folded {
    fn new(submitted: Submitted) -> Self {
        Folded {
            batch: submitted.batch,
            replies: vec![submitted.reply],
            epoch: submitted.epoch,
        }
    }

    fn absorb(&mut self, submitted: Submitted) {
        self.batch.absorb(submitted.batch);
        self.replies.push(submitted.reply);
        self.epoch = submitted.epoch;
    }
}

impl Writer {
    /// `first` and every batch waiting behind it (up to [`MAX_FOLDED`]),
    /// folded in order into one; `None` if every one was poisoned (each is
    /// answered so).
    fn fold(&self, first: Submitted, inbox: &mut Inbox) -> Option<Folded> {
        let mut folded: Option<Folded> = None;
        let mut next = Some(first);
        while let Some(submitted) = next {
            if let Some(submitted) = self.admit(submitted) {
                match &mut folded {
                    Some(folded) => folded.absorb(submitted),
                    None => folded = Some(Folded::new(submitted)),
                }
            }
            if folded
                .as_ref()
                .is_some_and(|f| f.replies.len() >= MAX_FOLDED)
            {
                break;
            }
            next = inbox.try_recv().ok();
        }
        folded
    }

    /// A batch to commit, unless its epoch is poisoned (then it is
    /// answered at once).
    fn admit(&self, submitted: Submitted) -> Option<Submitted> {
        if self
            .poisoned
            .is_some_and(|poisoned| submitted.epoch <= poisoned)
        {
            let _ = submitted.reply.send(Err(Arc::new(StoreError::Write(
                "not committed: an earlier commit it depends on failed".into(),
            ))));
            return None;
        }
        Some(submitted)
    }

    /// Answers a transaction's submitters; a failure poisons its epoch.
    fn answer(&mut self, replies: Vec<Reply>, epoch: u64, result: Result<(), Arc<StoreError>>) {
        if result.is_err() {
            self.poisoned = self.poisoned.max(Some(epoch));
        }
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}

async fn writer(backend: Arc<dyn Backend>, mut inbox: Inbox) {
    let mut writer = Writer::default();
    while let Some(first) = inbox.recv().await {
        let Some(Folded {
            batch,
            replies,
            epoch,
        }) = writer.fold(first, &mut inbox)
        else {
            continue;
        };
        let result = backend.clone().commit(batch).await.map_err(Arc::new);
        writer.answer(replies, epoch, result);
    }
}

/// The writer for a store that commits in place; ends when every
/// [`GroupCommit`] handle is gone.
fn writer_thread(backend: &dyn Backend, mut inbox: Inbox) {
    let mut writer = Writer::default();
    while let Some(first) = inbox.blocking_recv() {
        let Some(Folded {
            batch,
            replies,
            epoch,
        }) = writer.fold(first, &mut inbox)
        else {
            continue;
        };
        let result = backend.commit_in_place(&batch).map_err(Arc::new);
        writer.answer(replies, epoch, result);
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
        /// The users of every record committed in place, in order.
        users: Mutex<Vec<i64>>,
        /// If set, the first transaction committed in place is held until
        /// released, then fails.
        failing_first: Mutex<Option<Gate>>,
    }

    /// Says when the writer holds a transaction, and lets it go on.
    struct Gate {
        holding: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
    }

    impl Gate {
        /// Says it holds a transaction, then waits to be released.
        fn hold(self) {
            let _ = self.holding.send(());
            let _ = self.release.recv();
        }
    }

    impl Recording {
        /// Notes a committed transaction: its size, and its records' users.
        fn record(&self, batch: &Batch) {
            self.commits.lock().push(batch.records.len());
            let users = batch.records.iter().filter_map(|record| match record {
                Record::Seen { user, .. } => Some(user.0),
                _ => None,
            });
            self.users.lock().extend(users);
        }
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
                let gate = self.failing_first.lock().take();
                if let Some(gate) = gate {
                    let _ = tokio::task::spawn_blocking(move || gate.hold()).await;
                    return Err(StoreError::Write("no space left on device".into()));
                }
                tokio::task::yield_now().await;
                self.record(&batch);
                Ok(())
            })
        }
        fn commits_in_place(&self) -> bool {
            self.in_place
        }
        fn commit_in_place(&self, batch: &Batch) -> Result<(), StoreError> {
            let gate = self.failing_first.lock().take();
            if let Some(gate) = gate {
                gate.hold();
                return Err(StoreError::Write("no space left on device".into()));
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
            self.record(batch);
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_fails_the_batches_submitted_before_it_was_seen() {
        a_failure_poisons_what_was_submitted_before_it_was_seen(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_writer_poisons_the_same_way() {
        a_failure_poisons_what_was_submitted_before_it_was_seen(false).await;
    }

    /// The first transaction fails while two more batches are submitted
    /// behind it; only a batch submitted after the failure was seen commits.
    async fn a_failure_poisons_what_was_submitted_before_it_was_seen(in_place: bool) {
        let (holding, held) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel();
        let backend = Arc::new(Recording {
            in_place,
            failing_first: Mutex::new(Some(Gate {
                holding,
                release: released,
            })),
            ..Recording::default()
        });
        let commit = GroupCommit::start(backend.clone());
        let first = commit.submit(one_record(1));
        held.recv().unwrap();
        // Decided on top of the first while it commits.
        let second = commit.submit(one_record(2));
        release.send(()).unwrap();
        // Submitted once the first may have failed, but before anyone saw it.
        let third = commit.submit(one_record(3));
        assert!(first.await.is_err(), "the first transaction fails");
        assert!(second.await.is_err(), "a batch queued behind it fails too");
        let mut third = third;
        let seen_without_waiting = loop {
            if let Some(result) = third.landed() {
                break result;
            }
            tokio::task::yield_now().await;
        };
        assert!(
            seen_without_waiting.is_err(),
            "so does one sent before it was seen"
        );
        commit
            .commit(one_record(4))
            .await
            .expect("a batch submitted after the failure was seen commits");
        assert_eq!(
            *backend.users.lock(),
            vec![4],
            "only the last was committed"
        );
    }

    #[tokio::test]
    async fn batches_submitted_without_waiting_land_in_order() {
        let backend = Arc::new(Recording {
            in_place: true,
            ..Recording::default()
        });
        let commit = GroupCommit::start(backend.clone());
        let landings: Vec<Landing> = (0..50)
            .map(|user| commit.submit(one_record(user)))
            .collect();
        for landing in landings {
            landing.await.expect("every batch commits");
        }
        assert_eq!(*backend.users.lock(), (0..50).collect::<Vec<i64>>());
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
