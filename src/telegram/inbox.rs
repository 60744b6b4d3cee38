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
//! told about a change only after its commit. The fetcher does this only
//! while Telegram has a backlog (see `poller::fetcher`): at everyday rates
//! the `fdatasync` would only lengthen a message's way.
//!
//! A crash after a batch is kept and before its commit loses nothing: at
//! start-up the loop applies the kept batches whose updates are newer than
//! the last applied one, oldest first, just as if Telegram had delivered them again
//! (which, without the inbox, it would have).
//!
//! **Slots.** Polling runs ahead of applying (see `poller::fetcher`): while
//! batch N goes through the engine and its commit, N+1 may be kept and
//! N+2 on its way. A batch may not overwrite one that is not applied yet,
//! so each is written into a slot file of its own (`inbox.0` … `inbox.3`),
//! and a slot is used again only once its batch was applied; with all four
//! in use, polling waits.
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
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What every slot record starts with (and its format's version).
const MAGIC: &[u8; 8] = b"rcinbox1";
const HEADER: usize = 24;

/// How many batches may be kept and not yet applied at once.
pub const SLOTS: usize = 4;

/// The slot files of a data directory.
pub struct Inbox {
    slots: Vec<Arc<File>>,
}

/// Where one poll's answer goes.
#[derive(Clone)]
pub struct Slot(Arc<File>);

/// A batch found in the inbox at start-up.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    /// The slot that holds it.
    pub slot: usize,
    /// The getUpdates answer, as Telegram sent it.
    pub answer: Bytes,
}

impl Inbox {
    /// Opens (creating if needed) `inbox.0` … `inbox.3` in `data_dir`, and
    /// reads what they keep: the answers of the last batches kept, oldest
    /// first (empty, torn or foreign records are left out).
    pub fn open(data_dir: &Path) -> io::Result<(Inbox, Vec<Kept>)> {
        let mut kept = Vec::new();
        let mut slots = Vec::with_capacity(SLOTS);
        for index in 0..SLOTS {
            // Only the bot's user may read them: they hold messages.
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(slot_path(data_dir, index))?;
            kept.extend(read_slot(&mut file, index)?);
            slots.push(Arc::new(file));
        }
        sync_directory(data_dir)?;
        // Cached: the key parses the answer.
        kept.sort_by_cached_key(|kept| first_update_id(&kept.answer));
        Ok((Inbox { slots }, kept))
    }

    /// What the inbox files in `data_dir` keep, without creating them: for
    /// a start in a mode that has no inbox, to warn of what it leaves.
    pub fn peek(data_dir: &Path) -> Vec<Kept> {
        let mut kept = Vec::new();
        for index in 0..SLOTS {
            if let Ok(mut file) = File::open(slot_path(data_dir, index)) {
                kept.extend(read_slot(&mut file, index).ok().flatten());
            }
        }
        kept
    }

    /// Slot `index` (below [`SLOTS`]).
    pub fn slot(&self, index: usize) -> Slot {
        Slot(self.slots[index].clone())
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
        self.0.write_all_at(&header, 0)?;
        self.0.write_all_at(answer, HEADER as u64)?;
        self.0.sync_data()
    }

    /// Makes the slot hold nothing (its batch's commit failed and its
    /// users were answered: it must not be applied at the next start).
    /// Blocking.
    pub fn forget(&self) -> io::Result<()> {
        self.0.write_all_at(&[0u8; 8], 0)?;
        self.0.sync_data()
    }
}

/// The batch a slot file holds, if it holds a whole one.
fn read_slot(file: &mut File, slot: usize) -> io::Result<Option<Kept>> {
    let mut contents = Vec::new();
    file.read_to_end(&mut contents)?;
    let contents = Bytes::from(contents);
    Ok(record(&contents).map(|answer| Kept {
        slot,
        answer: contents.slice_ref(answer),
    }))
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

    fn keep(inbox: &Inbox, slot: usize, answer: &str) {
        inbox.slot(slot).keep(answer.as_bytes()).unwrap();
    }

    /// An inbox in a directory of its own, with a batch of these update
    /// ids kept in each of these slots.
    fn inbox_keeping(batches: &[(usize, &[i64])]) -> (tempfile::TempDir, Inbox) {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Inbox::open(dir.path()).unwrap();
        for (slot, ids) in batches {
            keep(&inbox, *slot, &answer(ids));
        }
        (dir, inbox)
    }

    fn answers(kept: &[Kept]) -> Vec<Bytes> {
        kept.iter().map(|kept| kept.answer.clone()).collect()
    }

    #[test]
    fn a_forgotten_slot_keeps_nothing_and_can_be_used_again() {
        let (dir, inbox) = inbox_keeping(&[(0, &[1]), (1, &[2])]);
        inbox.slot(0).forget().unwrap();
        let (reopened, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(answers(&kept), vec![answer(&[2])]);
        keep(&reopened, 0, &answer(&[3]));
        assert_eq!(Inbox::peek(dir.path()).len(), 2);
    }

    #[test]
    fn only_the_bots_user_may_read_the_slots() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Inbox::open(dir.path()).unwrap();
        let mode = std::fs::metadata(slot_path(dir.path(), 0))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn peeking_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Inbox::peek(dir.path()).is_empty());
        assert!(!slot_path(dir.path(), 0).exists());
    }

    #[test]
    fn a_new_inbox_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
        assert!((0..SLOTS).all(|slot| slot_path(dir.path(), slot).exists()));
    }

    #[test]
    fn kept_batches_come_back_oldest_first_whatever_their_slots() {
        let (dir, _) = inbox_keeping(&[(2, &[1, 2]), (0, &[3]), (3, &[4, 5, 6])]);
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(
            answers(&kept),
            vec![answer(&[1, 2]), answer(&[3]), answer(&[4, 5, 6])]
        );
        let slots: Vec<usize> = kept.iter().map(|kept| kept.slot).collect();
        assert_eq!(slots, vec![2, 0, 3]);
    }

    #[test]
    fn a_shorter_batch_overwrites_a_longer_one_whole() {
        let (dir, _) = inbox_keeping(&[(1, &[10, 11, 12, 13])]);
        let (reopened, _) = Inbox::open(dir.path()).unwrap();
        // The old record's tail stays in the file; the length leaves it out.
        keep(&reopened, 1, &answer(&[15]));
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(answers(&kept), vec![answer(&[15])]);
    }

    #[test]
    fn a_torn_or_foreign_record_is_left_out() {
        let (dir, _) = inbox_keeping(&[(0, &[1]), (1, &[2])]);
        // Slot 1's last bytes never reached the disk.
        let path = slot_path(dir.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, &bytes).unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert_eq!(answers(&kept), vec![answer(&[1])]);
        // And something else entirely in slot 0.
        std::fs::write(slot_path(dir.path(), 0), b"not an inbox record at all").unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
    }

    #[test]
    fn a_flipped_byte_fails_the_hash() {
        let (dir, _) = inbox_keeping(&[(0, &[1])]);
        let path = slot_path(dir.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (_, kept) = Inbox::open(dir.path()).unwrap();
        assert!(kept.is_empty());
    }
}
