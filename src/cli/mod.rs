//! The operator commands behind `randchat <command>`: everything but `run`.
//!
//! `main.rs` only parses arguments and picks a function here; the logic
//! lives in this module so it can be read and tested like the rest of the
//! library. Each command returns an [`Outcome`], and its [`Failure`] carries
//! the exit code, so the codes are decided next to the reasons for them:
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | done (`check-config`: configuration valid and Telegram accepted the token) |
//! | 1 | could not do it: Telegram unreachable or token rejected, no database, backup or restore failed or was refused, health check failed |
//! | 2 | bad configuration (decided in `main`, before any command runs), or a corrupt line in an `import` file |

mod check;
mod data;
mod health;
mod transfer;

pub use check::check_config;
pub use data::{backup, restore, stats};
pub use health::healthcheck;
pub use transfer::{export, import};

use crate::store::Stats;
use std::fmt::Write as _;

/// Lets a command that never talks to Telegram (`stats`, `backup`,
/// `restore`, `healthcheck`) run without `BOT_TOKEN`, so an operator can
/// type `sudo DATA_DIR=/var/lib/randchat randchat stats` without digging
/// the token out of a secrets file. The configuration loader insists on a
/// token, so when none is set this sets a well-formed placeholder that
/// nothing uses. Call before `config::load` and before any thread starts.
pub fn allow_missing_token() {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if !set("BOT_TOKEN") && !set("RANDCHAT_BOT_TOKEN") {
        std::env::set_var("BOT_TOKEN", PLACEHOLDER_TOKEN);
    }
}

/// Shaped like a token (id 0 does not exist), never sent anywhere.
const PLACEHOLDER_TOKEN: &str = "0:not-a-token-the-command-does-not-need-one";

/// Why a command failed, and the exit code that says so.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    /// One line, printed after `randchat: ` on stderr.
    pub message: String,
}

/// What every command returns.
pub type Outcome = Result<(), Failure>;

/// The usual failure: exit code 1.
pub(crate) fn failed(message: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        message: message.into(),
    }
}

/// A small runtime for commands that need async code (teloxide, the store).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the async runtime: {e}")))
}

/// `users 3, active pairs 1, waiting 0, reports 0`
pub(crate) fn summary(stats: &Stats) -> String {
    format!(
        "users {}, active pairs {}, waiting {}, reports {}",
        stats.users, stats.pairs, stats.waiting, stats.reports
    )
}

/// The `randchat stats` table.
pub(crate) fn table(stats: &Stats, source: &str) -> String {
    let mut out = String::new();
    let rows = [
        ("users", stats.users),
        ("active pairs", stats.pairs),
        ("waiting", stats.waiting),
        ("reports", stats.reports),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    if stats.counters.is_empty() {
        out.push_str("counters        (none yet)\n");
    } else {
        out.push_str("counters\n");
        for (name, value) in &stats.counters {
            let _ = writeln!(out, "  {name:<14}{value}");
        }
    }
    let _ = write!(out, "source          {source}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_table_names_every_count() {
        let stats = Stats {
            users: 3,
            pairs: 1,
            waiting: 2,
            reports: 0,
            counters: vec![("matches".into(), 4)],
        };
        let text = table(&stats, "test");
        assert_eq!(
            text,
            "users           3\nactive pairs    1\nwaiting         2\nreports         0\n\
             counters\n  matches       4\nsource          test"
        );
        assert_eq!(
            summary(&stats),
            "users 3, active pairs 1, waiting 2, reports 0"
        );
    }
}
