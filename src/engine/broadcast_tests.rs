//! Broadcasts: pacing, counting, finishing, stopping and resuming.

use super::broadcast::*;
use super::*;
use crate::domain::MessageId;
use crate::engine::{AdminCommand, Command, ModerationConfig};
use crate::i18n::{Arg, Text};
use crate::store::Snapshot;

const ADMIN: UserId = UserId(1);
const NOW: Timestamp = Timestamp(1_700_000_000);

fn engine() -> Engine {
    Engine::new()
        .with_moderation(ModerationConfig {
            admins: vec![ADMIN],
            ..ModerationConfig::default()
        })
        .with_broadcast_rate(2)
}

fn command(text: &str) -> Event {
    Event::Command {
        user: ADMIN,
        command: Command::Admin(AdminCommand::Broadcast(Some(text.into()))),
    }
}

fn users(ids: &[i64], last: bool) -> Event {
    Event::BroadcastUsers {
        users: ids.iter().copied().map(UserId).collect(),
        last,
    }
}

fn result(to: i64, result: CopyResult) -> Event {
    Event::BroadcastResult {
        to: UserId(to),
        result,
    }
}

fn copies(out: &Outcome) -> Vec<i64> {
    let copy = |s: &Outbound| match s {
        Outbound::BroadcastCopy { to, .. } => Some(to.0),
        _ => None,
    };
    out.sends.iter().filter_map(copy).collect()
}

#[test]
fn a_broadcast_walks_the_users_at_its_rate_and_reports_totals() {
    let engine = engine();
    let started = engine.handle(&command("hello all"), NOW);
    assert!(started
        .sends
        .iter()
        .any(|s| matches!(s, Outbound::BroadcastStatus { message: None, .. })));
    assert_eq!(engine.broadcast_wants(), Some((None, 2)));
    let busy = engine.handle(&command("again"), NOW);
    assert!(busy.sends.contains(&Outbound::Tell {
        user: ADMIN,
        text: Text::BroadcastBusy
    }));
    engine.handle(
        &Event::BroadcastShown {
            message: MessageId(50),
        },
        NOW,
    );
    assert_eq!(copies(&engine.handle(&users(&[3, 5], false), NOW)), [3, 5]);
    assert_eq!(engine.broadcast_wants(), None, "waits for the answers");
    engine.handle(&result(3, CopyResult::Sent), NOW);
    engine.handle(&result(5, CopyResult::Blocked), NOW);
    let tick = engine.handle(&Event::Tick, Timestamp(NOW.0 + PROGRESS_EVERY_SECS));
    assert!(tick.sends.iter().any(|s| matches!(
        s,
        Outbound::BroadcastStatus {
            message: Some(MessageId(50)),
            text: Text::BroadcastProgress,
            ..
        }
    )));
    assert_eq!(engine.broadcast_wants(), Some((Some(UserId(5)), 2)));
    engine.handle(&users(&[9], true), NOW);
    let done = engine.handle(&result(9, CopyResult::Failed), NOW);
    let totals = Outbound::BroadcastStatus {
        admin: ADMIN,
        message: Some(MessageId(50)),
        text: Text::BroadcastDone,
        args: vec![Arg::Number(1), Arg::Number(1), Arg::Number(1)],
    };
    assert!(done.sends.contains(&totals), "{:?}", done.sends);
    assert_eq!(engine.broadcast(), None);
    assert_eq!(engine.broadcast_wants(), None);
}

#[test]
fn an_unfinished_broadcast_resumes_after_a_restore() {
    let engine = engine();
    let mut recorded = None;
    for event in [command("hi"), users(&[3, 4], false)] {
        for record in engine.handle(&event, NOW).records {
            if let Record::Broadcast(b) = record {
                recorded = Some(b);
            }
        }
    }
    let snapshot = Snapshot {
        broadcast: recorded,
        ..Snapshot::default()
    };
    let restored = Engine::restore(&snapshot).with_broadcast_rate(2);
    assert_eq!(restored.broadcast_wants(), None, "two copies unanswered");
    restored.handle(&result(3, CopyResult::Sent), NOW);
    restored.handle(&result(4, CopyResult::Sent), NOW);
    assert_eq!(restored.broadcast_wants(), Some((Some(UserId(4)), 2)));
}

#[test]
fn an_admin_can_stop_a_broadcast_with_the_button() {
    let engine = engine();
    engine.handle(&command("typo"), NOW);
    engine.handle(&users(&[3], false), NOW);
    let press = |user| Event::Callback {
        user,
        query_id: "q".into(),
        data: CALLBACK_STOP.into(),
    };
    let stranger = engine.handle(&press(UserId(3)), NOW);
    assert!(engine.broadcast().is_some(), "only admins stop it");
    assert!(stranger.sends.iter().any(|s| matches!(
        s,
        Outbound::AnswerCallback {
            text: Some(Text::ButtonExpired),
            ..
        }
    )));
    let stopped = engine.handle(&press(ADMIN), NOW);
    assert!(stopped.sends.iter().any(|s| matches!(
        s,
        Outbound::BroadcastStatus {
            text: Text::BroadcastStopped,
            ..
        }
    )));
    assert!(stopped
        .records
        .iter()
        .any(|r| matches!(r, Record::Broadcast(b) if b.finished)));
    assert_eq!(engine.broadcast(), None);
    assert_eq!(engine.broadcast_wants(), None);
    engine.handle(&result(3, CopyResult::Sent), NOW); // a late answer
}

#[test]
fn a_broadcast_to_nobody_finishes_at_once() {
    let engine = engine();
    engine.handle(&command("hi"), NOW);
    let done = engine.handle(&users(&[], true), NOW);
    assert!(done.sends.iter().any(|s| matches!(
        s,
        Outbound::BroadcastStatus {
            text: Text::BroadcastDone,
            ..
        }
    )));
}
