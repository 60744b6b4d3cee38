//! Events from outside Telegram (the admin dashboard), submitted into the
//! update loop and answered once their outcome is durable.
//!
//! Why a channel into the loop rather than a shared engine: the update loop
//! ([`crate::telegram::poller`]) is the one place that runs the engine,
//! commits what it decided and only then sends anything. A dashboard action
//! that took another road would need its own commit, its own ordering with
//! the updates around it and its own failure handling. Sent through here,
//! it is one more event in the loop: the engine handles it, the group
//! commit makes its records durable, its sends go to the outbox and the
//! dispatcher, and only then does [`Submitter::apply`] return the outcome.
//! A failed commit returns [`SubmitError::NotCommitted`] and changes
//! nothing, exactly as for a Telegram update.
//!
//! Reads go the same way ([`Submitter::view`]), so the page shows the
//! engine's own state between two events, never half of one.

use crate::domain::UserId;
use crate::engine::{Ban, Event, OpenReport, Outcome};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How many requests may wait for the loop.
const QUEUE: usize = 64;
/// How long a caller waits for the loop to answer.
const PATIENCE: Duration = Duration::from_secs(15);
/// How many open reports a view carries at most.
pub const VIEW_REPORTS: usize = 50;

/// The engine's state as the dashboard shows it.
#[derive(Clone, Debug, Default)]
pub struct DeskView {
    pub searching: usize,
    pub chats: usize,
    /// The newest open reports (at most [`VIEW_REPORTS`]), newest first.
    pub open_reports: Vec<OpenReport>,
    /// How many reports are open in all.
    pub open_report_count: usize,
    /// Bans in force, soonest to end first.
    pub bans: Vec<(UserId, Ban)>,
}

/// One request to the loop.
pub enum Request {
    /// Handle `event`, commit its outcome, dispatch its sends.
    Apply {
        event: Event,
        reply: oneshot::Sender<Result<Outcome, SubmitError>>,
    },
    /// Read the engine's state.
    View { reply: oneshot::Sender<DeskView> },
}

/// Why a submission did not take effect (or may not have).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the bot is not running its update loop (starting or stopping); try again")]
    NotRunning,
    #[error("the change could not be saved (the disk may be full, or the store unreachable); reload to check")]
    NotCommitted,
    #[error("the bot did not answer in time; reload to see whether the change was made")]
    TimedOut,
}

/// The sending side, held by the HTTP server. Cheap to clone.
#[derive(Clone)]
pub struct Submitter(mpsc::Sender<Request>);

/// The receiving side, handed to the update loop.
pub struct Requests(pub(crate) mpsc::Receiver<Request>);

/// A connected pair.
pub fn channel() -> (Submitter, Requests) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Submitter(tx), Requests(rx))
}

impl Submitter {
    /// Runs `event` through the loop; `Ok` once its records are committed.
    pub async fn apply(&self, event: Event) -> Result<Outcome, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Request::Apply { event, reply }, answer).await?
    }

    /// The engine's state, read between two events.
    pub async fn view(&self) -> Result<DeskView, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Request::View { reply }, answer).await
    }

    async fn ask<T>(
        &self,
        request: Request,
        answer: oneshot::Receiver<T>,
    ) -> Result<T, SubmitError> {
        let exchange = async {
            self.0
                .send(request)
                .await
                .map_err(|_| SubmitError::NotRunning)?;
            answer.await.map_err(|_| SubmitError::NotRunning)
        };
        tokio::time::timeout(PATIENCE, exchange)
            .await
            .map_err(|_| SubmitError::TimedOut)?
    }
}

impl Requests {
    /// The next request; never resolves once every submitter is gone.
    pub async fn next(&mut self) -> Request {
        match self.0.recv().await {
            Some(request) => request,
            None => std::future::pending().await,
        }
    }
}
