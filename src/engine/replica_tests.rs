//! Two engines taking turns, each applying the other's records before its
//! turn, decide exactly what one engine handling every event would: the
//! same sends, the same records, and in the end the same state.

use crate::domain::{Ticket, Timestamp, UserId};
use crate::engine::matching_tests::at;
use crate::engine::*;
use proptest::prelude::*;

const USERS: i64 = 10;
const ADMIN: i64 = 99;

#[derive(Clone, Debug)]
enum Step {
    Chat(i64),
    Next(i64),
    Stop(i64),
    Text(i64),
    Wishes(i64, u8),
    Ban(i64, Option<u64>),
    Unban(i64),
    Maintenance(bool),
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..USERS).prop_map(Step::Chat),
        3 => (0..USERS).prop_map(Step::Next),
        3 => (0..USERS).prop_map(Step::Stop),
        3 => (0..USERS).prop_map(Step::Text),
        2 => (0..USERS, any::<u8>()).prop_map(|(u, s)| Step::Wishes(u, s)),
        // Bans that outlast the test: a ban's end is announced only by the
        // instance that imposed it, so one engine would announce it where a
        // replica does not.
        1 => (0..USERS, prop_oneof![Just(None), Just(Some(3600))])
            .prop_map(|(u, secs)| Step::Ban(u, secs)),
        1 => (0..USERS).prop_map(Step::Unban),
        1 => any::<bool>().prop_map(Step::Maintenance),
        3 => Just(Step::Tick),
    ]
}

/// Searches end after 20 s (the steps are a second apart), so ticks
/// replay search deadlines; chats never idle out here (a replica learns of
/// another instance's relays only through last-seen records).
fn engine() -> Engine {
    let config = EngineConfig {
        search_timeout: Some(std::time::Duration::from_secs(20)),
        chat_idle_timeout: None,
        ..EngineConfig::default()
    };
    Engine::with_config(config).with_moderation(ModerationConfig {
        admins: vec![UserId(ADMIN)],
        ..ModerationConfig::default()
    })
}

fn command(user: i64, command: Command) -> Event {
    Event::Command {
        user: UserId(user),
        command,
    }
}

fn admin(order: AdminCommand) -> Event {
    command(ADMIN, Command::Admin(order))
}

/// What one step does to `engine`.
fn run(engine: &Engine, step: &Step, now: Timestamp) -> Outcome {
    match *step {
        Step::Chat(u) => engine.handle(&command(u, Command::Chat), now),
        Step::Next(u) => engine.handle(&command(u, Command::Next), now),
        Step::Stop(u) => engine.handle(&command(u, Command::Stop), now),
        Step::Text(u) => engine.handle(
            &Event::Message {
                user: UserId(u),
                message: crate::domain::MessageId(7),
                relayable: true,
                media: None,
            },
            now,
        ),
        Step::Wishes(u, seed) => {
            // As /settings changes them: a waiter moves buckets and looks
            // again.
            let mut out = Outcome::default();
            engine.update_profile(UserId(u), &mut out, |p| {
                p.gender = [None, Some(Gender::Male), Some(Gender::Female)][seed as usize % 3];
                p.wants_gender =
                    [None, Some(Gender::Male), Some(Gender::Female)][(seed as usize / 3) % 3];
            });
            if let Some((ticket, class)) = engine.rebucket(UserId(u)) {
                engine.rematch(UserId(u), ticket, &class, now, &mut out);
            }
            out
        }
        Step::Ban(u, secs) => engine.handle(
            &admin(AdminCommand::Ban(Some(BanOrder {
                target: UserId(u),
                secs,
                reason: "test".into(),
            }))),
            now,
        ),
        Step::Unban(u) => engine.handle(&admin(AdminCommand::Unban(Some(UserId(u)))), now),
        Step::Maintenance(on) => engine.handle(&admin(AdminCommand::Maintenance(Some(on))), now),
        Step::Tick => engine.handle(&Event::Tick, now),
    }
}

/// Everything a user or an operator could observe of the state.
#[derive(Debug, PartialEq)]
struct Observed {
    presence: Vec<Presence>,
    queue: Vec<(Ticket, UserId)>,
    reportable: Vec<Option<UserId>>,
    profiles: Vec<Profile>,
    bans: Vec<(UserId, Ban)>,
    maintenance: bool,
    counts: (usize, usize),
}

fn observe(engine: &Engine, now: Timestamp) -> Observed {
    let users = || (0..USERS).map(UserId);
    Observed {
        presence: users().map(|u| engine.presence_of(u)).collect(),
        queue: {
            let mut queue = engine.buckets.entries();
            queue.sort();
            queue
        },
        reportable: users().map(|u| engine.reportable_partner(u, now)).collect(),
        profiles: users().map(|u| engine.profile(u)).collect(),
        bans: engine.bans_list(now),
        maintenance: engine.maintenance.load(std::sync::atomic::Ordering::SeqCst),
        counts: engine.counts(),
    }
}

/// State records only, as the store's change log carries them.
fn replicated(records: &[Record]) -> Vec<Record> {
    records
        .iter()
        .filter(|r| !matches!(r, Record::Count { .. } | Record::Link { .. }))
        .cloned()
        .collect()
}

proptest! {
    #[test]
    fn engines_taking_turns_decide_as_one_engine_would(
        steps in proptest::collection::vec((step(), any::<bool>()), 1..120),
    ) {
        let reference = engine();
        let replicas = [engine(), engine()];
        // The change log, and how much of it each replica has applied.
        let mut log: Vec<Vec<Record>> = Vec::new();
        let mut applied = [0usize; 2];
        for (i, (step, on_second)) in steps.iter().enumerate() {
            let now = at(i as u64);
            let turn = usize::from(*on_second);
            for entry in &log[applied[turn]..] {
                replicas[turn].apply_replicated(entry);
            }
            let decided = run(&replicas[turn], step, now);
            let expected = run(&reference, step, now);
            prop_assert_eq!(&decided.sends, &expected.sends, "step {} {:?}", i, step);
            prop_assert_eq!(&decided.records, &expected.records, "step {} {:?}", i, step);
            log.push(replicated(&decided.records));
            applied[turn] = log.len();
            replicas[turn].check_invariants().map_err(TestCaseError::fail)?;
        }
        let end = at(steps.len() as u64);
        for (turn, replica) in replicas.iter().enumerate() {
            for entry in &log[applied[turn]..] {
                replica.apply_replicated(entry);
            }
            replica.check_invariants().map_err(TestCaseError::fail)?;
            prop_assert_eq!(observe(replica, end), observe(&reference, end));
        }
    }
}

#[test]
fn a_replica_of_reports_and_album_parts_matches_the_origin() {
    let (origin, replica) = (engine(), engine());
    let now = at(0);
    let mut records = Vec::new();
    for user in [1, 2] {
        records.extend(run(&origin, &Step::Chat(user), now).records);
    }
    let report = Event::Callback {
        user: UserId(1),
        query_id: "q".into(),
        data: ReportReason::Spam.callback_data(),
    };
    records.extend(origin.handle(&report, now).records);
    let part = Event::AlbumPart {
        user: UserId(2),
        message: crate::domain::MessageId(5),
        group: "g".into(),
        media: None,
    };
    records.extend(origin.handle(&part, now).records);
    replica.apply_replicated(&replicated(&records));
    assert_eq!(origin.open_reports(10), replica.open_reports(10));
    assert_eq!(origin.open_reports(10).len(), 1, "{records:?}");
    assert_eq!(
        origin.albums.get(&UserId(2)).map(|a| a.parts.clone()),
        replica.albums.get(&UserId(2)).map(|a| a.parts.clone())
    );
    // The next report is numbered after the replicated one.
    let next = Event::Callback {
        user: UserId(2),
        query_id: "q".into(),
        data: ReportReason::Spam.callback_data(),
    };
    let filed = |out: Outcome| {
        out.records.into_iter().find_map(|r| match r {
            Record::FiledReport { id, .. } => Some(id),
            _ => None,
        })
    };
    assert_eq!(
        filed(replica.handle(&next, now)),
        filed(origin.handle(&next, now))
    );
}
