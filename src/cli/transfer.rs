//! `randchat export` and `randchat import`: all data as JSON lines, to move
//! it between backends (or between machines).
//!
//! The format (see [`crate::store::export`] and `docs/export-import.md`):
//! one JSON object per line, the first `{"type":"header","format":1}`, then
//! one line per item, each tagged with its `type`.
//!
//! Both need the bot stopped: export so it reads one settled state (and
//! because the embedded store is locked by a running bot), import because
//! a bot would not see data written under it.
//!
//! Import reads the file twice. The first pass parses and checks every line
//! and writes nothing, so a corrupt line (named by its number, exit code 2)
//! leaves the target untouched. The second pass commits the items through
//! [`Backend::commit`] in chunks of [`CHUNK`]. A failure in the second pass
//! (a full disk) can leave part of the data behind; the target then counts
//! as not empty, and the fix is to empty it and import again.

use super::data::{cannot, open_stopped, running_bot, sync_dir, Temp};
use super::{failed, runtime, Failure, Outcome};
use crate::config::Config;
use crate::config::StoreChoice;
use crate::store::export::{Item, FORMAT};
use crate::store::{Backend, Batch, OpenStore, Snapshot, Stats};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Items per import commit.
pub const CHUNK: usize = 5_000;

/// Writes every item of the store under `DATA_DIR` to `dest` (`-`: stdout).
pub fn export(config: &Config, dest: &Path, force: bool) -> Outcome {
    refuse_while_running(&config.data_dir, "export")?;
    let runtime = runtime()?;
    let source = open_backend(config, Purpose::Export, &runtime)?;
    let to_stdout = dest == Path::new("-");
    if !to_stdout && dest.exists() && !force {
        return Err(failed(format!(
            "{} already exists; choose another name or pass --force to replace it",
            dest.display()
        )));
    }
    let partial = (!to_stdout).then(|| Temp(partial_name(dest)));
    let out: Box<dyn Write> = match &partial {
        None => Box::new(std::io::stdout().lock()),
        Some(partial) => {
            Box::new(File::create_new(&partial.0).map_err(|e| cannot("create", &partial.0, e))?)
        }
    };
    let counts = runtime.block_on(write_items(source, BufWriter::new(out)))?;
    if let Some(partial) = &partial {
        File::open(&partial.0)
            .and_then(|f| f.sync_all())
            .map_err(|e| cannot("sync", &partial.0, e))?;
        std::fs::rename(&partial.0, dest).map_err(|e| cannot("write", dest, e))?;
        sync_dir(dest.parent().unwrap_or(Path::new(".")));
    }
    let line = format!("exported {} to {}", describe(&counts), dest.display());
    match to_stdout {
        true => eprintln!("{line}"),
        false => println!("{line}"),
    }
    Ok(())
}

async fn write_items(
    source: Arc<dyn Backend>,
    mut out: BufWriter<Box<dyn Write>>,
) -> Result<BTreeMap<&'static str, u64>, Failure> {
    let (sink, mut items) = tokio::sync::mpsc::channel(1024);
    let producer = tokio::spawn(source.export(sink));
    let bar = progress(None, "exporting");
    let mut counts = BTreeMap::new();
    let header = Item::Header { format: FORMAT };
    let written = |out: &mut BufWriter<Box<dyn Write>>, item: &Item| {
        serde_json::to_writer(&mut *out, item)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| failed(format!("export failed while writing: {e}")))
    };
    written(&mut out, &header)?;
    while let Some(item) = items.recv().await {
        written(&mut out, &item)?;
        *counts.entry(item.kind()).or_insert(0) += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    producer
        .await
        .map_err(|e| failed(format!("export failed: {e}")))?
        .map_err(|e| failed(format!("export failed: {e}")))?;
    out.flush()
        .map_err(|e| failed(format!("export failed while writing: {e}")))?;
    Ok(counts)
}

/// Reads `source` into the store under `DATA_DIR`, which must be empty
/// unless `force`.
pub fn import(config: &Config, source: &Path, force: bool) -> Outcome {
    refuse_while_running(&config.data_dir, "import")?;
    let size = std::fs::metadata(source)
        .map_err(|e| cannot("read", source, e))?
        .len();
    let counts = check_file(source)?;
    let runtime = runtime()?;
    let target = open_backend(config, Purpose::Import, &runtime)?;
    if !force {
        runtime.block_on(refuse_non_empty(target.clone(), &describe_store(config)))?;
    }
    runtime.block_on(commit_items(target, source, size))?;
    println!(
        "imported {} from {} into {}",
        describe(&counts),
        source.display(),
        describe_store(config)
    );
    Ok(())
}

/// A corrupt input line: exit code 2, like bad configuration.
fn bad_line(source: &Path, line: usize, why: impl std::fmt::Display) -> Failure {
    Failure {
        code: 2,
        message: format!(
            "{} line {line}: {why}; nothing was imported",
            source.display()
        ),
    }
}

/// The first pass: every line parses and could be written. Returns the
/// counts by kind.
fn check_file(source: &Path) -> Result<BTreeMap<&'static str, u64>, Failure> {
    let mut counts = BTreeMap::new();
    let mut header_seen = false;
    for (index, line) in lines(source)?.enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| bad_line(source, number, format!("cannot read it ({e})")))?;
        if line.trim().is_empty() {
            continue;
        }
        let item: Item = serde_json::from_str(&line).map_err(|e| bad_line(source, number, e))?;
        match (&item, header_seen) {
            (Item::Header { format }, false) if *format == FORMAT => header_seen = true,
            (Item::Header { format }, false) => {
                let why = format!("export format {format}; this randchat reads format {FORMAT}");
                return Err(bad_line(source, number, why));
            }
            (_, false) => {
                let why =
                    r#"not a randchat export: the first line must be {"type":"header","format":1}"#;
                return Err(bad_line(source, number, why));
            }
            (_, true) => {
                let kind = item.kind();
                item.write_into(&mut Batch::default())
                    .map_err(|e| bad_line(source, number, e))?;
                *counts.entry(kind).or_insert(0) += 1;
            }
        }
    }
    if !header_seen {
        return Err(bad_line(source, 1, "the file is empty"));
    }
    Ok(counts)
}

fn lines(source: &Path) -> Result<std::io::Lines<BufReader<File>>, Failure> {
    let file = File::open(source).map_err(|e| cannot("open", source, e))?;
    Ok(BufReader::new(file).lines())
}

async fn refuse_non_empty(target: Arc<dyn Backend>, where_to: &str) -> Outcome {
    let stats = target
        .clone()
        .stats()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let snapshot = target.load().await.map_err(|e| failed(e.to_string()))?;
    if stats == Stats::default() && snapshot == Snapshot::default() {
        return Ok(());
    }
    Err(failed(format!(
        "the store ({}) is not empty ({}); import into an empty one, \
         or pass --force to add the file's data on top (counters add up, reports are appended)",
        where_to,
        super::summary(&stats)
    )))
}

/// The second pass: commit the items in chunks.
async fn commit_items(target: Arc<dyn Backend>, source: &Path, size: u64) -> Outcome {
    let bar = progress(Some(size), "importing");
    let mut batch = Batch::default();
    let mut in_batch = 0;
    for line in lines(source)?.skip(1) {
        let line = line.map_err(|e| cannot("read", source, e))?;
        bar.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        let item: Item = serde_json::from_str(&line)
            .map_err(|e| failed(format!("{} changed while importing: {e}", source.display())))?;
        item.write_into(&mut batch)
            .map_err(|e| failed(e.to_string()))?;
        in_batch += 1;
        if in_batch == CHUNK {
            commit(&target, std::mem::take(&mut batch)).await?;
            in_batch = 0;
        }
    }
    commit(&target, batch).await?;
    bar.finish_and_clear();
    Ok(())
}

async fn commit(target: &Arc<dyn Backend>, batch: Batch) -> Outcome {
    target.clone().commit(batch).await.map_err(|e| {
        failed(format!(
            "import failed part way ({e}); the target now holds part of the data: \
             empty it and import again"
        ))
    })
}

#[derive(Clone, Copy)]
enum Purpose {
    /// Read an existing store; never create one.
    Export,
    /// Write into a store, created if needed.
    Import,
}

/// The backend the configuration selects (`STORE`, `REDIS_URL`).
/// Everything past this point goes through [`Backend`] alone.
fn open_backend(
    config: &Config,
    purpose: Purpose,
    runtime: &tokio::runtime::Runtime,
) -> Result<Arc<dyn Backend>, Failure> {
    if let (StoreChoice::Embedded, Purpose::Export) = (&config.store, purpose) {
        return Ok(open_stopped(&config.data_dir)?);
    }
    let opened = runtime.block_on(OpenStore::open(&config.store, &config.data_dir));
    Ok(opened.map_err(|e| failed(e.to_string()))?.backend())
}

fn refuse_while_running(data_dir: &Path, what: &str) -> Outcome {
    match running_bot(data_dir)? {
        None => Ok(()),
        Some(bot) => Err(failed(format!(
            "refusing to {what} while the bot is running (pid {}); stop it first, \
             or run `randchat backup FILE` and {what} a copy restored elsewhere",
            bot.pid
        ))),
    }
}

/// A progress bar on stderr, hidden unless stderr is a terminal; a spinner
/// with a count when the total is unknown.
fn progress(total: Option<u64>, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match total {
        Some(bytes) => ProgressBar::new(bytes).with_style(
            ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} items")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
    .with_message(what)
}

/// `12 items (user 3, pair 1, …)`
fn describe(counts: &BTreeMap<&'static str, u64>) -> String {
    let total: u64 = counts.values().sum();
    let each: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    match each.is_empty() {
        true => "0 items".to_owned(),
        false => format!("{total} items ({})", each.join(", ")),
    }
}

/// Where the data goes: the data directory, or the Redis server.
fn describe_store(config: &Config) -> String {
    match &config.store {
        StoreChoice::Embedded => config.data_dir.display().to_string(),
        StoreChoice::Redis { prefix, .. } => format!("the Redis store (prefix {prefix})"),
    }
}

/// `dir/.name.partial-<pid>` beside `dest`.
fn partial_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let dir = dest.parent().unwrap_or(Path::new(""));
    dir.join(format!(".{name}.partial-{}", std::process::id()))
}
