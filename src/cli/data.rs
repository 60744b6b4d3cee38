//! `randchat stats`, `randchat backup` and `randchat restore`: the data
//! directory, seen from outside the bot.
//!
//! Each first asks the control socket whether a bot is serving `DATA_DIR`
//! (see [`crate::control`]). If one is, `stats` and `backup` go through it,
//! because the bot holds redb's exclusive lock; `restore` refuses, because
//! swapping the database under a live bot would lose whatever it commits
//! next and confuse its in-memory state. If none is, the command opens the
//! database itself, briefly holding the same lock.
//!
//! Files are only ever replaced by rename: a backup is written to a hidden
//! `.partial` file next to its destination, checked, synced and renamed; a
//! restore copies the backup into the data directory, checks the copy, moves
//! the current database aside (it is kept, not deleted) and renames the copy
//! into place. A crash at any point leaves either the old file or the new
//! one, never half of one.

use super::{failed, runtime, summary, table, Failure, Outcome};
use crate::config::Config;
use crate::config::StoreChoice;
use crate::control::client::{self, RunningBot};
use crate::store::embedded::{backup::verify_file, FILE_NAME};
use crate::store::{Backend, EmbeddedStore, OpenStore, StoreError, REDIS_BACKUP_HINT};
use crate::telegram::inbox;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Prints the store's counts, as a table or as JSON. With the Redis store
/// they are read from the server directly, bot running or not.
pub fn stats(config: &Config, json: bool) -> Outcome {
    let (stats, source) = match (&config.store, running_bot(&config.data_dir)?) {
        (StoreChoice::Redis { .. }, _) => redis_stats(config)?,
        (StoreChoice::Embedded, Some(bot)) => (bot.stats().map_err(failed)?, from_bot(&bot)),
        (StoreChoice::Embedded, None) => {
            let store = open_stopped(&config.data_dir)?;
            let source = format!("{} (no bot running)", store.path().display());
            let stats = runtime()?
                .block_on(store.stats())
                .map_err(|e| failed(e.to_string()))?;
            (stats, source)
        }
    };
    if json {
        let text = serde_json::to_string_pretty(&stats).map_err(|e| failed(e.to_string()))?;
        println!("{text}");
    } else {
        println!("{}", table(&stats, &source));
    }
    Ok(())
}

/// Counts read straight from the Redis server.
fn redis_stats(config: &Config) -> Result<(crate::store::Stats, String), Failure> {
    runtime()?.block_on(async {
        let store = OpenStore::open(&config.store, &config.data_dir)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let stats = store
            .backend()
            .stats()
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok((stats, store.describe()))
    })
}

/// Refuses `backup` and `restore` on the Redis store, saying what to do.
fn embedded_only(config: &Config) -> Outcome {
    match config.store {
        StoreChoice::Redis { .. } => Err(failed(REDIS_BACKUP_HINT)),
        StoreChoice::Embedded => Ok(()),
    }
}

/// Writes a consistent snapshot of the database to `dest`.
pub fn backup(config: &Config, dest: &Path, force: bool) -> Outcome {
    embedded_only(config)?;
    if dest.exists() && !force {
        return Err(failed(format!(
            "{} already exists; choose another name or pass --force to replace it",
            dest.display()
        )));
    }
    let name = dest
        .file_name()
        .ok_or_else(|| failed(format!("{} is not a file name", dest.display())))?;
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let partial = Temp(dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    )));
    let source = match running_bot(&config.data_dir)? {
        Some(bot) => {
            let mut file =
                File::create_new(&partial.0).map_err(|e| cannot("create", &partial.0, e))?;
            bot.backup(&mut file).map_err(failed)?;
            file.sync_all().map_err(|e| cannot("sync", &partial.0, e))?;
            from_bot(&bot)
        }
        None => {
            let store = open_stopped(&config.data_dir)?;
            store
                .write_snapshot(&partial.0)
                .map_err(|e| failed(format!("backup failed: {e}")))?;
            format!("{} (no bot running)", store.path().display())
        }
    };
    // Checked here too, whatever the bot said: this is the file we keep.
    let stats = verify_file(&partial.0)
        .map_err(|e| failed(format!("the backup did not check out: {e}")))?;
    let bytes = partial.0.metadata().map(|m| m.len()).unwrap_or(0);
    std::fs::rename(&partial.0, dest).map_err(|e| cannot("write", dest, e))?;
    sync_dir(&dir);
    println!(
        "backup written to {} ({bytes} bytes) from {source}: {}",
        dest.display(),
        summary(&stats)
    );
    Ok(())
}

/// Replaces the database with the backup `file`, keeping the old one.
pub fn restore(config: &Config, file: &Path) -> Outcome {
    embedded_only(config)?;
    let data_dir = &config.data_dir;
    if let Some(bot) = running_bot(data_dir)? {
        return Err(failed(format!(
            "refusing to restore while the bot is running (pid {}, control socket {}); stop it first \
             (systemctl stop randchat, pm2 stop randchat, docker compose stop bot), then run restore again",
            bot.pid,
            bot.socket().display()
        )));
    }
    if !file.is_file() {
        return Err(failed(format!("{} is not a file", file.display())));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| cannot("create", data_dir, e))?;
    let copy = Temp(data_dir.join(format!(".restore-{}.redb.tmp", std::process::id())));
    std::fs::copy(file, &copy.0).map_err(|e| cannot("copy", file, e))?;
    let stats = verify_file(&copy.0).map_err(|e| {
        failed(format!(
            "{} is not a usable randchat backup: {}",
            file.display(),
            why_unusable(&e)
        ))
    })?;
    adopt(&copy.0, data_dir);
    File::open(&copy.0)
        .and_then(|f| f.sync_all())
        .map_err(|e| cannot("sync", &copy.0, e))?;

    let live = data_dir.join(FILE_NAME);
    // Hold the live database's lock while swapping, so a bot starting right
    // now fails to open it instead of reading a file that is being replaced.
    let _held = match live.exists() {
        false => None,
        true => match EmbeddedStore::open(data_dir) {
            Ok(store) => Some(store),
            Err(StoreError::Locked { .. }) => {
                return Err(failed(format!(
                    "refusing to restore: {} is in use by a running randchat; stop it first",
                    live.display()
                )))
            }
            // Damaged or unreadable: quite likely why we are restoring.
            Err(_) => None,
        },
    };
    let suffix = format!("before-restore-{}", unix_now());
    let kept = move_aside(&live, &suffix)?;
    // The inbox's batches belong to the database moved aside: applied to
    // the restored one, they would reach whoever its pairs say.
    for index in 0..inbox::SLOTS {
        move_aside(&inbox::slot_path(data_dir, index), &suffix)?;
    }
    std::fs::rename(&copy.0, &live).map_err(|e| cannot("write", &live, e))?;
    sync_dir(data_dir);
    println!(
        "restored {} into {}: {}",
        file.display(),
        live.display(),
        summary(&stats)
    );
    if let Some(aside) = kept {
        println!(
            "the previous database was kept as {}; delete it once the bot runs well",
            aside.display()
        );
    }
    Ok(())
}

pub(super) fn running_bot(data_dir: &Path) -> Result<Option<RunningBot>, Failure> {
    client::find(data_dir).map_err(failed)
}

fn from_bot(bot: &RunningBot) -> String {
    format!(
        "the running bot (pid {}, version {}, via {})",
        bot.pid,
        bot.version,
        bot.socket().display()
    )
}

/// Opens the database of a stopped bot, without creating one.
pub(super) fn open_stopped(data_dir: &Path) -> Result<Arc<EmbeddedStore>, Failure> {
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        return Err(failed(format!(
            "no database at {} (has the bot ever run with this DATA_DIR?)",
            path.display()
        )));
    }
    EmbeddedStore::open(data_dir).map_err(|e| match e {
        StoreError::Locked { .. } => failed(format!(
            "{} is in use by a running randchat, but it did not answer on {}; \
             is it an older version, was the socket deleted, or is the path too long \
             for a Unix socket (over 107 bytes)? The bot's start-up log says which",
            path.display(),
            crate::control::socket_path(data_dir).display()
        )),
        e => failed(e.to_string()),
    })
}

/// Gives the restored file to whoever owns the data directory, mode 0600.
/// Run as root against a bot with its own user (systemd's `DynamicUser`, the
/// container's uid 10001), the copy would otherwise be root's, and the bot
/// could not open it. Best effort: as that user already, chown is a no-op.
fn adopt(file: &Path, data_dir: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if let Ok(dir) = std::fs::metadata(data_dir) {
        let _ = std::os::unix::fs::chown(file, Some(dir.uid()), Some(dir.gid()));
    }
    let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
}

/// What is wrong with a backup, without the temporary copy's name or the
/// advice meant for a live database.
fn why_unusable(error: &StoreError) -> String {
    match error {
        StoreError::Corrupt { detail, .. } | StoreError::Open { detail, .. } => detail.clone(),
        StoreError::TooNew {
            found, supported, ..
        } => format!(
            "it has schema version {found}, but this randchat understands up to {supported}; \
             restore it with a newer randchat"
        ),
        other => other.to_string(),
    }
}

/// Renames `path`, if it exists, to `path.<suffix>` beside it.
fn move_aside(path: &Path, suffix: &str) -> Result<Option<PathBuf>, Failure> {
    if !path.exists() {
        return Ok(None);
    }
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".{suffix}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|e| cannot("move aside", path, e))?;
    Ok(Some(aside))
}

pub(super) fn cannot(what: &str, path: &Path, e: std::io::Error) -> Failure {
    failed(format!("cannot {what} {}: {e}", path.display()))
}

/// Makes a rename durable. Best effort: not every file system allows it.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

fn unix_now() -> u64 {
    crate::domain::Timestamp::now().0
}

/// A file removed when dropped unless it was renamed away first.
pub(super) struct Temp(pub(super) PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
