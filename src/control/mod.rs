//! The control socket: how `randchat stats` and `randchat backup` reach a
//! bot that is already running.
//!
//! Why a socket: redb takes an exclusive lock on the database file, so while
//! the bot runs no other process can open it, not even to read. Rather than
//! loosen that lock (it is what stops two bots from polling one account), the
//! running bot answers for its database: it listens on `DATA_DIR/randchat.sock`
//! (mode 0600, and only its own user or root is served), and the CLI asks it.
//! When no bot answers, the CLI opens the database itself.
//!
//! The protocol is one JSON request line, one JSON reply line; a backup reply
//! is followed by exactly `bytes` bytes of a redb file. A Unix socket in the
//! data directory is reachable wherever the database is (a `docker exec`, a
//! systemd `StateDirectory`) and from nowhere else, and needs no port.

pub mod client;
pub mod server;

use crate::store::Stats;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The socket's file name inside the data directory.
pub const SOCKET_NAME: &str = "randchat.sock";

/// Where the bot using `data_dir` listens.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// What the CLI asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Who are you? (pid and version)
    Ping,
    /// Counts from the store.
    Stats,
    /// A consistent copy of the database, streamed after the reply line.
    Backup,
}

/// The bot's answer. Fields not relevant to the request are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// For a backup: the length of the redb file that follows the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Reply {
    fn failed(error: impl Into<String>) -> Self {
        Reply {
            ok: false,
            error: Some(error.into()),
            ..Reply::default()
        }
    }
}
