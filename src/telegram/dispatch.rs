//! Delivery: committed sends go out in per-chat order, chats in parallel.
//!
//! The update loop must never wait for a slow chat: one user who is being
//! rate limited, or whose chat gets a 429, would otherwise stall everyone
//! (the failure mode of a dispatcher with one bounded queue per chat). So
//! the loop only hands sends over. Each chat with pending sends gets its own
//! short-lived task that drains that chat's queue in order, through the
//! throttle; a semaphore caps the HTTP requests in flight. Each finished
//! send is reported back with its outbox sequence number and any feedback
//! the engine must hear (a 403 or a failed copy).

use super::outbound::{Courier, Delivered, Feedback};
use super::throttle::Throttle;
use crate::domain::MessageId;
use crate::engine::effect::Counterpart;
use crate::engine::Outbound;
use crate::i18n::Lang;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify, Semaphore};

/// A committed send, its outbox sequence number, and the language its
/// recipient reads (looked up when it is handed over, not stored).
#[derive(Clone, Debug)]
pub struct Job {
    pub seq: u64,
    pub send: Outbound,
    pub lang: Lang,
}

/// A send that has been performed (or given up on).
#[derive(Clone, Debug)]
pub struct Done {
    pub seq: u64,
    pub feedback: Option<Feedback>,
    /// For a relay that made copies: each original and its copy, to link.
    pub links: Vec<(Counterpart, Counterpart)>,
}

/// The originals and the copies a finished relay made, paired in order.
fn links_of(send: &Outbound, copies: &[MessageId]) -> Vec<(Counterpart, Counterpart)> {
    let (from, to, originals) = match send {
        Outbound::Relay { from, to, message }
        | Outbound::RelayReply {
            from, to, message, ..
        } => (*from, *to, std::slice::from_ref(message)),
        Outbound::RelayAlbum { from, to, messages } => (*from, *to, messages.as_slice()),
        _ => return Vec::new(),
    };
    let pair = |(original, copy): (&MessageId, &MessageId)| {
        let original = Counterpart {
            chat: from,
            message: *original,
        };
        (
            original,
            Counterpart {
                chat: to,
                message: *copy,
            },
        )
    };
    originals.iter().zip(copies).map(pair).collect()
}

struct Inner {
    courier: Courier,
    throttle: Throttle,
    queues: Mutex<HashMap<i64, VecDeque<Job>>>,
    in_flight: Semaphore,
    pending: AtomicUsize,
    drained: Notify,
    results: mpsc::UnboundedSender<Done>,
}

#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// A dispatcher and the stream of finished sends.
    pub fn new(
        courier: Courier,
        throttle: Throttle,
        max_in_flight: usize,
    ) -> (Self, mpsc::UnboundedReceiver<Done>) {
        let (results, finished) = mpsc::unbounded_channel();
        let inner = Inner {
            courier,
            throttle,
            queues: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(max_in_flight.max(1)),
            pending: AtomicUsize::new(0),
            drained: Notify::new(),
            results,
        };
        (
            Dispatcher {
                inner: Arc::new(inner),
            },
            finished,
        )
    }

    /// Queues sends; returns at once.
    pub fn enqueue(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut queues = self.inner.queues.lock();
        for job in jobs {
            self.inner.pending.fetch_add(1, Ordering::SeqCst);
            let chat = job.send.destination();
            match queues.get_mut(&chat) {
                Some(queue) => queue.push_back(job),
                None => {
                    queues.insert(chat, VecDeque::from([job]));
                    tokio::spawn(drain_chat(self.inner.clone(), chat));
                }
            }
        }
    }

    /// Sends queued or in flight.
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::SeqCst)
    }

    /// Waits until every queued send has finished, or `limit` passes.
    /// Returns whether everything finished.
    pub async fn drain(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.inner.drained.notified();
                if self.pending() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

/// Delivers one chat's sends in order until its queue is empty.
async fn drain_chat(inner: Arc<Inner>, chat: i64) {
    loop {
        let job = {
            let mut queues = inner.queues.lock();
            let next = queues.get_mut(&chat).and_then(VecDeque::pop_front);
            if next.is_none() {
                queues.remove(&chat);
            }
            next
        };
        let Some(job) = job else { return };
        inner.throttle.acquire(chat).await;
        let delivered = match inner.in_flight.acquire().await {
            Ok(_permit) => inner.courier.deliver_one(&job.send, job.lang).await,
            Err(_) => Delivered::default(),
        };
        let _ = inner.results.send(Done {
            seq: job.seq,
            links: links_of(&job.send, &delivered.copies),
            feedback: delivered.feedback,
        });
        if inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            inner.drained.notify_waiters();
        }
    }
}
