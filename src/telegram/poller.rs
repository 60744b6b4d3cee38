//! The update loop, owned end to end.
//!
//! teloxide's stock polling confirms a batch to Telegram before its handlers
//! finish, so a crash loses those updates. Here one task does, in order:
//!
//! 1. getUpdates from the offset after the last applied update;
//! 2. turn each new update into an event, screen messages for the
//!    anti-spam rules ([`super::screen`]), and run the events through the
//!    engine (an update id already applied is skipped);
//! 3. commit the batch's records, its last update id and its sends (into
//!    the outbox) in one transaction, through the group commit;
//! 4. hand the sends to the dispatcher, which delivers them in the
//!    background, per chat in order;
//! 5. ask for the next batch, which confirms this one to Telegram (with an
//!    inbox, this runs ahead: see below).
//!
//! Once a second the loop also ticks the engine (timeouts, ban ends,
//! broadcast progress) and hands a running broadcast its next users from
//! the store.
//!
//! Each user's last-seen time goes to the store at most once a minute
//! (`seen`), not with every update.
//! Dashboard actions ([`crate::submit`]) come into the same task as events
//! and go the same way: engine, commit, dispatch, and only then an answer.
//!
//! Finished sends come back to the same task (`finished`): their outbox entries are
//! removed by the next commit the loop makes anyway (or by one of their own
//! ~10 ms later), and their links are written once a second, answering
//! lookups from memory meanwhile (see `deferred`); failures
//! (403, a refused copy) become engine events at once. A crash at any
//! point loses nothing committed: unsent sends are replayed from the outbox
//! at start-up.
//!
//! With the embedded store and long polling, steps 1 and 5 run in a task
//! of their own (`fetcher`). While Telegram has a backlog (the last answer
//! was full) they run ahead of the others: each answer is kept in the
//! inbox ([`super::inbox`], one `fdatasync`) before the next poll confirms
//! it, so batch N+1 is polled, parsed and kept while batch N goes through
//! the engine and its commit, and the loop does not wait for a kept
//! batch's commit before it runs the next through the engine (`ahead`);
//! each batch's sends still leave only once its commit has landed.
//! Otherwise a batch is applied before the next poll, as below. Batches
//! kept and not applied before a stop are applied at start-up, before the
//! first poll. Without an inbox
//! (Redis, where another instance must be able to take over; a webhook,
//! which confirms each update by its HTTP answer), the call that fetches
//! N+1 is what acknowledges N, so it leaves only once N is committed.
//! Either way sends go out while later batches are polled and committed,
//! and finished sends' bookkeeping rides in the batch commits instead of
//! needing its own.
//!
//! If a commit fails (disk full, read-only disk, Redis down), the engine is
//! rebuilt from what is durable, users whose action changed state are told
//! the bot is temporarily unavailable, and pure relays still go out. If the
//! store can't even be read (Redis unreachable), the engine is marked stale:
//! every update is answered "temporarily unavailable" and nothing reaches
//! the engine until a reload from the store succeeds.
//!
//! Before step 2, and wherever else the engine decides, the loop takes its
//! turn on the store (`replica_sync`): with several instances on one Redis
//! prefix this brings the engine up to date with the others' commits and
//! tells which updates another instance already applied; with one process
//! it costs nothing. What happens after a failed commit is in `failures`.
//!
//! Step 1 and the acknowledgement in step 5 are the [`UpdateSource`]'s: the
//! same loop serves a webhook, where each update's HTTP 200 waits for its
//! commit, and a failed commit (or a stale engine) is answered 5xx for
//! Telegram to retry instead of "temporarily unavailable".

use super::deferred::Deferred;
use super::direct::Direct;
use super::dispatch::{Dispatcher, Done, Job};
use super::inbox::{Inbox, Kept};
use super::incoming::Incoming;
use super::outbound::Courier;
use super::screen::Screener;
use super::seen::SeenThisMinute;
use super::source::{Applied, Arrival, NextArrival, UpdateSource};
use super::throttle::{Throttle, ThrottleConfig};
use crate::domain::{Timestamp, UserId};
use crate::engine::{AntispamConfig, Engine, EngineConfig, ModerationConfig, Outbound, Presence};
use crate::metrics::Metrics;
use crate::moderation_ai::{Moderator, ModeratorSettings, OpenAiModerator};
use crate::store::group_commit::GroupCommit;
use crate::store::Backend;
use crate::submit::Requests;
use crate::telemetry::Pseudonymizer;
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use teloxide::prelude::Requester;
use teloxide::{Bot, RequestError};
use tokio::sync::mpsc;

/// How often timeouts are checked; also how late an idle chat or a long
/// search may end.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(1);
/// The most Bot API calls the dispatcher has in flight at once.
pub const MAX_IN_FLIGHT: usize = 256;
/// How long a reply, edit or reaction waits for the copy it points at to
/// finish sending, when its link is not there yet.
const LINK_GRACE: Duration = Duration::from_millis(300);

/// What the loop needs besides the bot and the store.
#[derive(Clone, Debug)]
pub struct LoopSettings {
    pub poll_timeout: Duration,
    pub throttle: ThrottleConfig,
    pub engine: EngineConfig,
    /// Send copies with protect_content (PROTECT_CONTENT), for users who
    /// didn't choose in /settings.
    pub protect_content: bool,
    pub moderation: ModerationConfig,
    pub metrics: Arc<Metrics>,
    /// The anti-spam rules (see [`crate::engine::antispam`]).
    pub antispam: AntispamConfig,
    /// The AI moderator's endpoint; `None`: no text leaves the machine.
    pub moderator: Option<ModeratorSettings>,
    /// Broadcast copies per second, at most.
    pub broadcast_rate: u32,
    pub matching: crate::engine::MatchConfig,
    /// The data directory, for the inbox ([`super::inbox`]); it is used
    /// only with the embedded store and long polling.
    pub inbox_dir: Option<std::path::PathBuf>,
}

pub struct Poller {
    /// getUpdates without teloxide's request machinery.
    direct: Direct,
    engine: Engine,
    store: Arc<dyn Backend>,
    commits: GroupCommit,
    dispatcher: Dispatcher,
    finished: mpsc::UnboundedReceiver<Done>,
    bot_username: String,
    last_applied: Option<i64>,
    /// Where polled batches are kept until applied (embedded store, long
    /// polling); taken by the [`Fetcher`] when the loop runs.
    inbox: Option<Inbox>,
    /// Answers the inbox kept before a stop: applied before the first poll.
    kept_before: Vec<Kept>,
    next_seq: u64,
    /// Outbox numbers below this were replayed at start-up: sends that may
    /// already have reached their users once. Their removals are committed
    /// at once, not deferred, so a crash soon after a start doesn't repeat
    /// them yet again.
    replayed_below: u64,
    /// Finished sends' outbox removals and links, waiting for a commit.
    deferred: Deferred,
    /// When message links older than their TTL are next removed.
    next_link_prune: Timestamp,
    metrics: Arc<Metrics>,
    source: UpdateSource,
    screener: Screener,
    /// Passes each user's last-seen time to the store once a minute.
    seen: SeenThisMinute,
    /// Set when a commit failed and the store could not be read back: the
    /// engine may be ahead of what is durable, so it is not used until
    /// [`Poller::reload`] succeeds.
    stale: bool,
    /// Outbox numbers of sends whose commit failed. With Redis a commit
    /// whose reply was lost may have landed all the same; the next reload
    /// sends those that it finds in the outbox.
    unsure: Vec<u64>,
    /// Events from the dashboard ([`crate::submit`]), if it is wired.
    requests: Option<Requests>,
    /// Batches from the fetcher whose commits are on their way (`ahead`).
    ahead: ahead::Queue,
}

mod ahead;
mod commit;
mod failures;
mod fetcher;
mod finished;
mod replica_sync;
mod requests;
mod startup;
mod upkeep;

use commit::{Committing, Decided, Decision};
use fetcher::{next_fetched, open_inbox};
pub(in crate::telegram) use startup::call_with_patience;
use startup::{pause_after, random_seed, register_commands};

impl Poller {
    /// Connects to the Bot API, registers the command menu, restores the
    /// engine from the store and queues any sends a stop interrupted.
    pub async fn start(
        bot: Bot,
        store: Arc<dyn Backend>,
        names: Pseudonymizer,
        settings: LoopSettings,
    ) -> anyhow::Result<Self> {
        let source = UpdateSource::LongPolling {
            timeout: settings.poll_timeout,
        };
        Self::start_with_source(bot, store, names, settings, source).await
    }

    /// [`Poller::start`], with updates from `source` (long polling or a
    /// webhook).
    pub async fn start_with_source(
        bot: Bot,
        store: Arc<dyn Backend>,
        names: Pseudonymizer,
        settings: LoopSettings,
        source: UpdateSource,
    ) -> anyhow::Result<Self> {
        let me = call_with_patience(|| bot.get_me())
            .await
            .context("getMe failed")?;
        let bot_username = me.username.clone().unwrap_or_default();
        source.register(&bot).await?;
        register_commands(&bot).await?;

        let snapshot = store.clone().load().await?;
        let engine = Engine::restore_with(&snapshot, settings.engine)
            .with_moderation(settings.moderation)
            .with_antispam(settings.antispam.clone())
            .with_captcha_seed(random_seed())
            .with_broadcast_rate(settings.broadcast_rate)
            .with_matching(settings.matching)
            .with_protect_content(settings.protect_content);
        let moderator = match settings.moderator.clone() {
            Some(moderator) => {
                let client = OpenAiModerator::new(moderator).context("moderation client")?;
                tracing::info!("AI moderation on: message texts go to MODERATION_URL");
                Some(Arc::new(client) as Arc<dyn Moderator>)
            }
            None => None,
        };
        let screener = Screener::new(
            settings.antispam.words.clone(),
            moderator,
            settings.metrics.clone(),
        );
        if let Err(problem) = engine.check_invariants() {
            tracing::error!(%problem, "restored state is inconsistent");
        }
        let (searching, chatting) = engine.counts();
        tracing::info!(
            searching,
            chatting,
            unsent = snapshot.outbox.len(),
            "state restored"
        );

        let courier = Courier::new(bot.clone(), names, settings.poll_timeout)
            .with_metrics(settings.metrics.clone());
        let throttle = Throttle::new(settings.throttle);
        let (dispatcher, finished) = Dispatcher::new(courier, throttle, MAX_IN_FLIGHT);
        let next_seq = snapshot.outbox.last().map_or(1, |(seq, _)| seq + 1);
        dispatcher.enqueue(
            snapshot
                .outbox
                .into_iter()
                .map(|(seq, send)| job(&engine, seq, send)),
        );
        // The embedded store is the only one that commits in place, and
        // the only one no other instance reads links from.
        let (inbox, kept_before) = open_inbox(
            settings.inbox_dir.as_deref(),
            &*store,
            &source,
            snapshot.last_update_id,
        )?;
        let deferred = if store.commits_in_place() {
            Deferred::default()
        } else {
            Deferred::sharing_links()
        };
        Ok(Poller {
            commits: GroupCommit::start(store.clone()),
            direct: Direct::new(&bot, settings.poll_timeout),
            engine,
            store,
            dispatcher,
            finished,
            bot_username,
            last_applied: snapshot.last_update_id,
            inbox,
            kept_before,
            next_seq,
            replayed_below: next_seq,
            deferred,
            next_link_prune: Timestamp(0),
            metrics: settings.metrics,
            source,
            screener,
            seen: SeenThisMinute::default(),
            stale: false,
            unsure: Vec::new(),
            requests: None,
            ahead: ahead::Queue::new(),
        })
    }

    /// Takes dashboard events from `requests` too (see [`crate::submit`]).
    pub fn accept(mut self, requests: Requests) -> Self {
        self.requests = Some(requests);
        self
    }

    /// Runs until `shutdown` completes, then finishes the sends in flight
    /// (for a few seconds at most) and commits what they changed.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        tracing::info!(bot = %self.bot_username, "{}", self.source.describe());
        self.apply_kept_before().await?;
        // With an inbox a task of its own polls ahead; without, the loop
        // polls once a batch is applied.
        let mut fetcher = self.fetcher();
        let mut poll = fetcher.is_none().then(|| self.poll());
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING_EVERY);
        // After a long stall, one tick rather than a burst ahead of batches.
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                // Batches can be ready one after another, so what comes
                // rarely goes first, and finished sends (a steady stream)
                // after the batches and between them.
                _ = housekeeping.tick() => self.housekeeping().await?,
                _ = sleep_until(self.deferred.due()) => self.flush_deferred().await,
                request = next_request(&mut self.requests) => self.serve(request).await?,
                (ahead, landed) = ahead::next_landed(&mut self.ahead) => {
                    self.on_landed(ahead, landed).await;
                }
                fetched = next_fetched(&mut fetcher) => {
                    self.apply_ahead(fetched?).await?;
                    if let Ok(done) = self.finished.try_recv() {
                        self.on_done(done).await?;
                    }
                }
                result = next_polled(&mut poll) => {
                    match result {
                        Ok(arrival) => {
                            let applied = self.apply(&arrival.updates).await?;
                            arrival.acknowledge(applied);
                        }
                        Err(error) => pause_after(error).await?,
                    }
                    poll = Some(self.poll());
                }
                Some(done) = self.finished.recv() => self.on_done(done).await?,
            }
        }
        drop(poll);
        self.land_all().await;
        self.apply_handed_over(fetcher).await?;
        self.finish().await
    }

    fn poll(&self) -> NextArrival {
        let offset = self.last_applied.map_or(0, |id| id + 1);
        self.source.next(&self.direct, offset)
    }

    /// Applies one batch of updates: engine, commit, dispatch. Says whether
    /// its effects are durable (updates already applied count as durable).
    async fn apply(&mut self, updates: &[Incoming]) -> anyhow::Result<Applied> {
        let decision = match self.decide(updates).await? {
            Decided::Settled(applied) => return Ok(applied),
            Decided::ToCommit(decision) => decision,
        };
        let outcome = decision.merged();
        let settled = self
            .settle(outcome, decision.last, decision.ids.clone())
            .await;
        self.end_turn().await;
        if let Err(tried) = settled {
            if self.source.redelivers_failures() {
                let (previous, last, ids) = (decision.previous, decision.last, decision.ids);
                return Ok(self.unless_durable(previous, last, ids).await);
            }
            self.degrade(decision.outcomes, &tried).await;
            return Ok(Applied::NotDurable);
        }
        Ok(Applied::Durable)
    }

    /// Runs a batch's new updates through the engine: what it decided,
    /// still to be committed, or how the batch ended without a commit.
    async fn decide(&mut self, updates: &[Incoming]) -> anyhow::Result<Decided> {
        let now = Timestamp::now();
        // While the store is unreadable nothing is decided, and no text
        // goes to the moderator.
        if self.reload().await.is_none() {
            return Ok(Decided::Settled(self.unavailable(updates, now)));
        }
        let mut fresh = self.fresh(updates, now);
        // Screened and linked before this instance takes its turn, so that
        // other instances never wait for the moderator or a link.
        let engine = &self.engine;
        let chatting = |user| matches!(engine.presence_of(user), Presence::Chatting(_));
        let written = std::mem::take(&mut fresh.events);
        let mut events = self.screener.screen(written, chatting).await;
        self.resolve_links(&mut events).await?;
        let Ok(applied) = self.sync(&fresh.ids).await else {
            return Ok(Decided::Settled(self.unavailable(updates, now)));
        };
        let events = fresh.without(events, applied.as_deref());
        let outcomes: Vec<_> = events
            .iter()
            .map(|event| (event.user(), self.engine.handle(event, now)))
            .collect();
        if fresh.ids.is_empty() {
            self.end_turn().await;
            return Ok(Decided::Settled(Applied::Durable));
        }
        let previous = std::mem::replace(&mut self.last_applied, fresh.last);
        Ok(Decided::ToCommit(Decision {
            previous,
            last: fresh.last,
            ids: fresh.ids,
            outcomes,
        }))
    }
}

/// The next batch polled by the loop; never, while the fetcher polls.
async fn next_polled(poll: &mut Option<NextArrival>) -> Result<Arrival, RequestError> {
    match poll {
        Some(poll) => poll.await,
        None => std::future::pending().await,
    }
}

/// A send ready for the dispatcher, with its recipient's language as the
/// engine knows it now.
fn job(engine: &Engine, seq: u64, send: Outbound) -> Job {
    let lang = engine.language_of(UserId(send.destination()));
    Job { seq, send, lang }
}

/// The next dashboard request, or never if the dashboard is not wired.
async fn next_request(requests: &mut Option<Requests>) -> crate::submit::Request {
    match requests {
        Some(requests) => requests.next().await,
        None => std::future::pending().await,
    }
}

/// Completes at `deadline`; never, if there is none.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// An error's text with the token scrubbed from any URL it quotes.
pub fn redact(error: &RequestError) -> String {
    crate::telemetry::scrub_token(&error.to_string())
}
