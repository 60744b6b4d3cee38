//! The inbox: each getUpdates answer kept on disk before the next poll
//! confirms it, so the next poll need not wait for the batch's commit.
//!
//! Telegram confirms every update below a getUpdates call's offset the
//! moment the call arrives, so the call that fetches batch N+1 is what
//! acknowledges batch N. Without the inbox, that call could leave only once
//! N had gone through the engine and its commit was on disk, and the round
//! (poll, parse, engine, commit) was serial: while one core did it, the
//! other ran out of sends to do. With the inbox, the answer's bytes go into
//! a slot file with one `fdatasync` (a write of one file, no B-tree, no
//! page bookkeeping), and the next poll leaves at once, while the loop runs
//! the batch through the engine and commits it as before. Users are still
//! told about a change only after its commit.
//!
//! A crash after a batch is kept and before its commit loses nothing: at
//! start-up the loop applies the kept batches whose updates are newer than
//! the last applied one, just as if Telegram had delivered them again
//! (which, without the inbox, it would have).
//!
//! **Two slots.** Batch N+1 is written while batch N may still be on its
//! way to the store, so it must not overwrite N. Batch N+2's poll leaves
//! only after N was applied, so by then N's slot is free again: writes
//! alternate between two files, `inbox.0` and `inbox.1`.
//!
//! **Format.** A slot holds one record: an 8-byte magic, the answer's
//! length and its xxh3 hash (each a little-endian u64), then the answer
//! as Telegram sent it. A torn write fails the hash and is ignored: its
//! batch was not confirmed yet, because the next poll leaves only after
//! the write and its `fdatasync` returned. Files never shrink (a shorter
//! record leaves the tail of an older one behind it, which the length
//! excludes), so once they have grown to a batch's size a write changes no
//! file size and `fdatasync` has only data to flush.
//!
//! Only the embedded store with long polling has an inbox. A webhook
//! confirms each update by its HTTP answer, after the commit; with Redis,
//! another instance must be able to pick up where this one stopped, and a
//! file on this machine would hide the batch from it.

use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What every slot record starts with (and its format's version).
const MAGIC: &[u8; 8] = b"rcinbox1";
const HEADER: usize = 24;

/// The two slot files of a data directory.
pub struct Inbox {
    slots: [Arc<File>; 2],
    /// The slot the next kept batch goes to.
    next: usize,
}

/// Where one poll's answer goes, if it has updates.
#[derive(Clone)]
pub struct Slot(Arc<File>);

impl Inbox {
    /// Opens (creating if needed) `inbox.0` and `inbox.1` in `data_dir`,
    /// and reads what they keep: the answers of the last batches kept, the
    /// older first (empty, torn or foreign records are left out).
    pub fn open(data_dir: &Path) -> io::Result<(Inbox, Vec<Bytes>)> {
        let mut kept = Vec::new();
        let mut open = |index: usize| -> io::Result<Arc<File>> {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(slot_path(data_dir, index))?;
            let mut contents = Vec::new();
            file.read_to_end(&mut contents)?;
            if let Some(answer) = record(&contents) {
                kept.push((index, Bytes::copy_from_slice(answer)));
            }
            Ok(Arc::new(file))
        };
        let slots = [open(0)?, open(1)?];
        sync_directory(data_dir)?;
        kept.sort_by_key(|(_, answer)| first_update_id(answer));
        // The next batch goes where it overwrites the older one.
        let next = match kept.as_slice() {
            [(only, _)] => 1 - only,
            [(older, _), _] => *older,
            _ => 0,
        };
        let answers = kept.into_iter().map(|(_, answer)| answer).collect();
        Ok((Inbox { slots, next }, answers))
    }

    /// The slot for the next batch; [`Inbox::advance`] once it is kept.
    pub fn slot(&self) -> Slot {
        Slot(self.slots[self.next].clone())
    }

    /// The slot handed out last holds the newest batch: the next one goes
    /// to the other.
    pub fn advance(&mut self) {
        self.next = 1 - self.next;
    }
}

impl Slot {
    /// Writes `answer` into the slot and waits until it is on disk.
    /// Blocking.
    pub fn keep(&self, answer: &[u8]) -> io::Result<()> {
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..16].copy_from_slice(&(answer.len() as u64).to_le_bytes());
        header[16..].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(answer).to_le_bytes());
        let mut record = Vec::with_capacity(HEADER + answer.len());
        record.extend_from_slice(&header);
        record.extend_from_slice(answer);
        self.0.write_all_at(&record, 0)?;
        self.0.sync_data()
    }
}

/// `data_dir/inbox.N`.
pub fn slot_path(data_dir: &Path, index: usize) -> PathBuf {
    data_dir.join(format!("inbox.{index}"))
}

/// The answer a slot's contents hold, if they hold a whole one.
fn record(contents: &[u8]) -> Option<&[u8]> {
    let header = contents.get(..HEADER)?;
    if &header[..8] != MAGIC {
        return None;
    }
    let length = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let hash = u64::from_le_bytes(header[16..].try_into().ok()?);
    let end = HEADER.checked_add(usize::try_from(length).ok()?)?;
    let answer = contents.get(HEADER..end)?;
    (xxhash_rust::xxh3::xxh3_64(answer) == hash).then_some(answer)
}

/// The first update id of a getUpdates answer, for ordering slots; an
/// answer that can't be read sorts first.
fn first_update_id(answer: &[u8]) -> i64 {
    super::direct::read_updates(answer)
        .ok()
        .and_then(|updates| updates.first().map(|update| update.id()))
        .unwrap_or(i64::MIN)
}

/// Makes the slot files' directory entries durable (they may be new).
fn sync_directory(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A getUpdates answer holding updates with these ids.
    fn answer(ids: &[i64]) -> String {
        let updates: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"update_id":{id},"message":{{"message_id":{id},"date":1,"chat":{{"id":7,"type":"private","first_name":"A"}},"from":{{"id":7,"is_bot":false,"first_name":"A"}},"text":"hi"}}}}"#
                )
            })
            .collect();
        format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(","))
    }

    fn keep_next(inbox: &mut Inbox, answer: &str) {
        inbox.slot().keep(answer.as_bytes()).unwrap();
        inbox.advance();
    }

    #[test]
    fn a_new_inbox_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
        assert!(slot_path(dir.path(), 0).exists() && slot_path(dir.path(), 1).exists());
    }

    #[test]
    fn the_last_two_batches_come_back_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let (mut inbox, _) = Inbox::open(dir.path()).unwrap();
        for batch in [answer(&[1, 2]), answer(&[3]), answer(&[4, 5, 6])] {
            keep_next(&mut inbox, &batch);
        }
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(kept, vec![answer(&[3]), answer(&[4, 5, 6])]);
    }

    #[test]
    fn after_a_reopen_the_next_batch_overwrites_the_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let (mut inbox, _) = Inbox::open(dir.path()).unwrap();
        keep_next(&mut inbox, &answer(&[10, 11, 12, 13]));
        keep_next(&mut inbox, &answer(&[14]));
        let (mut reopened, _) = Inbox::open(dir.path()).unwrap();
        // Shorter than the record it overwrites: the old tail stays in the
        // file, and the length leaves it out.
        keep_next(&mut reopened, &answer(&[15]));
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(kept, vec![answer(&[14]), answer(&[15])]);
    }

    #[test]
    fn with_one_batch_kept_the_next_goes_to_the_other_slot() {
        let dir = tempfile::tempdir().unwrap();
        let (mut inbox, _) = Inbox::open(dir.path()).unwrap();
        keep_next(&mut inbox, &answer(&[1]));
        let (mut reopened, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(kept, vec![answer(&[1])]);
        keep_next(&mut reopened, &answer(&[2]));
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(kept, vec![answer(&[1]), answer(&[2])]);
    }

    #[test]
    fn a_torn_or_foreign_record_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let (mut inbox, _) = Inbox::open(dir.path()).unwrap();
        keep_next(&mut inbox, &answer(&[1]));
        keep_next(&mut inbox, &answer(&[2]));
        // Slot 1's last bytes never reached the disk.
        let path = slot_path(dir.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, &bytes).unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(kept, vec![answer(&[1])]);
        // And something else entirely in slot 0.
        std::fs::write(slot_path(dir.path(), 0), b"not an inbox record at all").unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
    }

    #[test]
    fn a_flipped_byte_fails_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (mut inbox, _) = Inbox::open(dir.path()).unwrap();
        keep_next(&mut inbox, &answer(&[1]));
        let path = slot_path(dir.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
    }
}
