//! `randchat export` and `randchat import`, run as an operator would: the
//! real binary on a stopped bot's data directory.

mod support;

use randchat::domain::{MessageId, Ticket, Timestamp, UserId};
use randchat::engine::effect::{Counterpart, Outbound};
use randchat::engine::{
    Ban, BanReason, Broadcast, Counter, Profile, Record, Report, ReportId, ReportReason,
    ReportStatus,
};
use randchat::i18n::Text;
use randchat::store::{Backend, Batch, EmbeddedStore};
use std::path::Path;
use std::process::Output;
use support::app::bot_command;

/// Runs `randchat <args>` with `DATA_DIR` = `work_dir/data`.
fn randchat(work_dir: &Path, args: &[&str]) -> Output {
    randchat_with(work_dir, &[], args)
}

/// The same, with extra environment (e.g. `REDIS_URL`).
fn randchat_with(work_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = bot_command("http://127.0.0.1:9", work_dir);
    command.envs(env.iter().copied());
    command.args(args).output().expect("run randchat")
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn now() -> u64 {
    Timestamp::now().0
}

/// One of every kind of record the store keeps.
fn everything() -> Batch {
    let (ann, ben, cy, di) = (UserId(11), UserId(12), UserId(13), UserId(14));
    let at = |secs_ago: u64| Timestamp(now() - secs_ago);
    let mut records = vec![
        Record::Seen {
            user: ann,
            at: at(900),
        },
        Record::Seen {
            user: ann,
            at: at(10),
        },
        Record::Seen {
            user: ben,
            at: at(500),
        },
        Record::Seen {
            user: cy,
            at: at(400),
        },
        Record::Seen {
            user: di,
            at: at(300),
        },
        Record::Pair {
            a: ann,
            b: ben,
            since: at(100),
        },
        Record::Enqueue {
            ticket: Ticket(7),
            user: cy,
            since: at(50),
        },
        Record::LastPartner {
            user: di,
            partner: cy,
            ended_at: at(200),
        },
        Record::Link {
            original: Counterpart {
                chat: ann,
                message: MessageId(5),
            },
            copy: Counterpart {
                chat: ben,
                message: MessageId(9),
            },
            at: at(60),
        },
        Record::Album {
            user: ben,
            group: "album-1".into(),
            parts: vec![MessageId(20), MessageId(21)],
            since: at(1),
        },
        Record::Ban {
            user: di,
            ban: Ban {
                until: at(0),
                count: 2,
                reason: BanReason::Admin("spam links".into()),
            },
        },
        Record::Profile {
            user: ann,
            profile: Profile {
                age: Some(30),
                same_language_only: true,
                ..Profile::default()
            },
        },
        Record::Maintenance { on: true },
    ];
    // A report older than the week the engine reloads, and a recent one.
    for (secs_ago, reason) in [
        (30 * 24 * 3600, ReportReason::Scam),
        (100, ReportReason::Spam),
    ] {
        records.push(Record::Report(Report {
            reporter: ann,
            reported: di,
            at: at(secs_ago),
            reason,
        }));
    }
    // Reports filed since moderators handle them: one still open, one
    // dismissed. Their ids and statuses must survive the move.
    for (id, status) in [(3, ReportStatus::Open), (4, ReportStatus::Dismissed)] {
        let id = ReportId(id);
        let report = Report {
            reporter: ben,
            reported: cy,
            at: at(50 + id.0),
            reason: ReportReason::Other,
        };
        records.push(Record::FiledReport { id, report });
        records.push(Record::ReportStatus { id, status });
    }
    // A broadcast half way through: it must resume after the move.
    records.push(Record::Broadcast(Broadcast {
        admin: ann,
        text: "maintenance tonight".into(),
        started: at(30),
        progress: Some(MessageId(77)),
        cursor: Some(ben),
        handed: 2,
        sent: 1,
        blocked: 0,
        failed: 0,
        exhausted: false,
        finished: false,
    }));
    for (counter, delta) in [(Counter::Matches, 4), (Counter::Relayed, 1234)] {
        records.push(Record::Count { counter, delta });
    }
    Batch {
        records,
        last_update_id: Some(424_242),
        outbox_add: vec![
            (
                3,
                Outbound::Tell {
                    user: cy,
                    text: Text::Searching,
                },
            ),
            (
                4,
                Outbound::Relay {
                    from: ann,
                    to: ben,
                    message: MessageId(6),
                },
            ),
        ],
        outbox_done: Vec::new(),
        update_ids: Vec::new(),
    }
}

async fn populate(data_dir: &Path) {
    let store = EmbeddedStore::open(data_dir).unwrap();
    store.commit(everything()).await.unwrap();
}

async fn snapshot_and_stats(
    data_dir: &Path,
) -> (randchat::store::Snapshot, randchat::store::Stats) {
    let store = EmbeddedStore::open(data_dir).unwrap();
    (
        store.clone().load().await.unwrap(),
        store.stats().await.unwrap(),
    )
}

#[tokio::test]
async fn embedded_to_embedded_changes_nothing() {
    let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    populate(&from.path().join("data")).await;
    let first = from.path().join("first.jsonl");
    assert_exit(
        &randchat(from.path(), &["export", first.to_str().unwrap()]),
        0,
    );
    let out = randchat(to.path(), &["import", first.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 21 items"),
        "{out:?}"
    );
    let second = to.path().join("second.jsonl");
    assert_exit(
        &randchat(to.path(), &["export", second.to_str().unwrap()]),
        0,
    );

    let (a, b) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    let to_stdout = randchat(to.path(), &["export", "-"]);
    assert_exit(&to_stdout, 0);
    assert_eq!(to_stdout.stdout, a, "`export -` writes the same bytes");
    assert!(stderr(&to_stdout).contains("exported 21 items"));
    let text = String::from_utf8(a).unwrap();
    assert_eq!(text.lines().next(), Some(r#"{"type":"header","format":1}"#));
    for kind in [
        "meta",
        "user",
        "counter",
        "pair",
        "waiting",
        "last_partner",
        "report",
        "ban",
        "profile",
        "link",
        "album",
        "outbox",
        "broadcast",
    ] {
        let tag = format!(r#"{{"type":"{kind}""#);
        assert!(
            text.lines().any(|l| l.starts_with(&tag)),
            "no {kind} line in\n{text}"
        );
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(r#""type":"report""#))
            .count(),
        4
    );
    assert!(
        text.contains(r#""id":4,"status":"dismissed""#),
        "a handled report keeps its id and status:\n{text}"
    );

    let (before, before_stats) = snapshot_and_stats(&from.path().join("data")).await;
    let (after, after_stats) = snapshot_and_stats(&to.path().join("data")).await;
    assert_eq!(before, after);
    assert_eq!(before_stats, after_stats);
    assert!(after.maintenance && after.last_update_id == Some(424_242));
    assert_eq!(after.outbox.len(), 2);
}

#[tokio::test]
async fn a_corrupt_line_is_named_and_nothing_is_imported() {
    let from = tempfile::tempdir().unwrap();
    populate(&from.path().join("data")).await;
    let good = from.path().join("good.jsonl");
    assert_exit(
        &randchat(from.path(), &["export", good.to_str().unwrap()]),
        0,
    );
    let lines: Vec<String> = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let bad_last_line = format!("line {}:", lines.len() + 1);

    let cases: Vec<(Vec<String>, &str)> = vec![
        // A line cut off half way, as a truncated copy would leave it.
        (
            [
                &lines[..2],
                &[lines[2][..lines[2].len() / 2].to_owned()],
                &lines[3..],
            ]
            .concat(),
            "line 3:",
        ),
        (
            [
                &lines[..4],
                &[r#"{"type":"counter","name":"bogus","value":1}"#.to_owned()],
            ]
            .concat(),
            "line 5: unknown counter",
        ),
        (lines[1..].to_vec(), "line 1: not a randchat export"),
        (
            [
                &[r#"{"type":"header","format":99}"#.to_owned()],
                &lines[1..],
            ]
            .concat(),
            "line 1: export format 99",
        ),
        (
            [&lines[..], &[r#"{"type":"pair","a":1}"#.to_owned()]].concat(),
            &bad_last_line,
        ),
    ];
    for (content, expected) in cases {
        let target = tempfile::tempdir().unwrap();
        let file = target.path().join("bad.jsonl");
        std::fs::write(&file, content.join("\n")).unwrap();
        let out = randchat(target.path(), &["import", file.to_str().unwrap()]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        let data = target.path().join("data");
        if data.join("randchat.redb").exists() {
            let (snapshot, stats) = snapshot_and_stats(&data).await;
            assert_eq!(stats, Default::default());
            assert_eq!(snapshot, Default::default());
        }
    }
}

#[tokio::test]
async fn a_non_empty_target_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    populate(&dir.path().join("data")).await;
    let file = dir.path().join("all.jsonl");
    assert_exit(
        &randchat(dir.path(), &["export", file.to_str().unwrap()]),
        0,
    );
    let again = randchat(dir.path(), &["export", file.to_str().unwrap()]);
    assert_exit(&again, 1);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_exit(
        &randchat(dir.path(), &["export", "--force", file.to_str().unwrap()]),
        0,
    );

    let refused = randchat(dir.path(), &["import", file.to_str().unwrap()]);
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(
        err.contains("is not empty") && err.contains("--force"),
        "{err}"
    );
    let (_, stats) = snapshot_and_stats(&dir.path().join("data")).await;
    assert_eq!(stats.users, 4);
    assert_exit(
        &randchat(dir.path(), &["import", "--force", file.to_str().unwrap()]),
        0,
    );
    let (_, stats) = snapshot_and_stats(&dir.path().join("data")).await;
    assert_eq!(stats.users, 4, "users are keyed, not added");
    assert_eq!(
        stats.reports, 6,
        "reports without a status are appended; filed ones keep their ids"
    );
}

#[tokio::test]
async fn embedded_to_redis_to_embedded_changes_nothing() {
    let redis = randchat::testing::redis_server::RedisServer::start();
    let url = redis.url();
    let on_redis = [("REDIS_URL", url.as_str())];
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (from, via, to) = (dirs[0].path(), dirs[1].path(), dirs[2].path());
    populate(&from.join("data")).await;
    let file = |dir: &Path, name: &str| dir.join(name).to_str().unwrap().to_owned();

    let first = file(from, "first.jsonl");
    assert_exit(&randchat(from, &["export", &first]), 0);
    let into_redis = randchat_with(via, &on_redis, &["import", &first]);
    assert_exit(&into_redis, 0);
    assert!(
        String::from_utf8_lossy(&into_redis.stdout).contains("the Redis store"),
        "{into_redis:?}"
    );
    let refused = randchat_with(via, &on_redis, &["import", &first]);
    assert_exit(&refused, 1);
    let second = file(via, "second.jsonl");
    assert_exit(&randchat_with(via, &on_redis, &["export", &second]), 0);
    assert_exit(&randchat(to, &["import", &second]), 0);
    let third = file(to, "third.jsonl");
    assert_exit(&randchat(to, &["export", &third]), 0);

    let read = |path: &str| std::fs::read_to_string(path).unwrap();
    assert_eq!(read(&first), read(&second), "Redis exported something else");
    assert_eq!(
        read(&first),
        read(&third),
        "the round trip changed the data"
    );

    let (before, before_stats) = snapshot_and_stats(&from.join("data")).await;
    let (after, after_stats) = snapshot_and_stats(&to.join("data")).await;
    assert_eq!(before, after);
    assert_eq!(before_stats, after_stats);
    let prefix = randchat::config::DEFAULT_REDIS_PREFIX;
    let on_server = randchat::store::RedisStore::open(&url, prefix)
        .await
        .unwrap();
    assert_eq!(on_server.clone().load().await.unwrap(), before);
    assert_eq!(on_server.stats().await.unwrap(), before_stats);
}
