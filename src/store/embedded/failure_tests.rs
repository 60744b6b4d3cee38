//! Tests of the failures an operator will actually meet: damaged or foreign
//! files, a second instance, a schema from the future, places that cannot be
//! written, and a disk that fills up mid-commit. None may panic.

use super::tests::{batch_of_seen, every_record, user_row};
use super::*;
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};
use std::io;
use std::ops::Bound;
use std::sync::atomic::{AtomicI32, Ordering};

const ENOSPC: i32 = 28;
const EROFS: i32 = 30;

/// A file backend whose writes start failing with a chosen errno once told
/// to: a full disk or a file system remounted read-only, without needing
/// either (we run tests as root, so permission bits cannot simulate them).
#[derive(Debug)]
struct FlakyDisk {
    inner: FileBackend,
    /// 0 while healthy, else the errno every write, resize and sync returns.
    errno: Arc<AtomicI32>,
}

impl FlakyDisk {
    fn check(&self) -> Result<(), io::Error> {
        match self.errno.load(Ordering::SeqCst) {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }
}

impl StorageBackend for FlakyDisk {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.check()?;
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.check()?;
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.check()?;
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(s, e)
    }
    fn try_lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(s, e)
    }
}

/// A store in `dir` on a [`FlakyDisk`], and the switch that breaks it.
fn store_on_flaky_disk(dir: &Path) -> (Arc<EmbeddedStore>, Arc<AtomicI32>) {
    let path = dir.join(FILE_NAME);
    let failing = Arc::new(AtomicI32::new(0));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .unwrap();
    let disk = FlakyDisk {
        inner: FileBackend::new(file).unwrap(),
        errno: failing.clone(),
    };
    let db = Builder::new().create_with_backend(disk).unwrap();
    (EmbeddedStore::with_database(db, path).unwrap(), failing)
}

#[tokio::test]
async fn write_failures_are_errors_and_lose_only_that_batch() {
    for (errno, message) in [(ENOSPC, "No space left"), (EROFS, "Read-only file system")] {
        let dir = tempfile::tempdir().unwrap();
        // One call: its report times are read from the clock, so a second
        // call could fall in the next second.
        let (batch, expected) = every_record();
        {
            let (store, failing) = store_on_flaky_disk(dir.path());
            store.clone().commit(batch).await.unwrap();

            failing.store(errno, Ordering::SeqCst);
            let err = store.clone().commit(batch_of_seen(77, 99)).await;
            let err = err.unwrap_err();
            assert!(matches!(err, StoreError::Write(_)), "{err}");
            assert!(err.to_string().contains(message), "{err}");

            // redb refuses every write on a handle after an I/O error, so the
            // store reopens the file; once the disk recovers, writes resume.
            failing.store(0, Ordering::SeqCst);
            store.clone().commit(batch_of_seen(78, 99)).await.unwrap();
            assert!(store.clone().load().await.is_ok(), "reads still work");
        }

        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.clone().load().await.unwrap(), expected);
        assert_eq!(user_row(&store, 77), None, "the failed batch left nothing");
        assert!(
            user_row(&store, 78).is_some(),
            "the batch after recovery is durable"
        );
    }
}

/// Real files damaged in the ways disks and people damage them: cut short,
/// header scribbled over, pages zeroed or overwritten. Some of these make
/// redb itself panic; `open` must still answer with `Corrupt`.
#[test]
fn damaged_redb_files_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    drop(EmbeddedStore::open(dir.path()).unwrap());
    let good = std::fs::read(&path).unwrap();
    let damaged = |range: std::ops::Range<usize>, byte: u8| {
        let mut bytes = good.clone();
        bytes[range].fill(byte);
        bytes
    };
    let cases = [
        ("cut inside the header", good[..600].to_vec()),
        ("only the magic number", good[..9].to_vec()),
        ("header scribbled", damaged(9..4096, 0x5A)),
        ("pages zeroed", damaged(4096..good.len(), 0)),
        ("pages overwritten", damaged(4096..good.len(), 0xFF)),
    ];
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        match EmbeddedStore::open(dir.path()) {
            Err(err @ StoreError::Corrupt { .. }) => {
                assert!(err.to_string().contains(FILE_NAME), "{what}: {err}")
            }
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn garbage_file_is_corrupt_and_named() {
    for garbage in [b"this is not a database".to_vec(), vec![0xA5; 64 * 1024]] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), &garbage).unwrap();
        let err = EmbeddedStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(FILE_NAME), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn second_open_is_locked_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = EmbeddedStore::open(dir.path()).unwrap();
    let err = EmbeddedStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains(FILE_NAME), "{err}");
    drop(first);
    EmbeddedStore::open(dir.path()).unwrap();
}

/// Sends `seqs`, each a notice to user 1.
fn outbox_batch(adds: &[u64], done: &[u64]) -> Batch {
    let tell = |seq: &u64| (*seq, crate::testing::store_fixtures::tell(1));
    Batch {
        outbox_add: adds.iter().map(tell).collect(),
        outbox_done: done.to_vec(),
        ..Batch::default()
    }
}

/// A full disk at commit: the outbox index must stay what the file holds,
/// so the removal that failed can be made again once the disk recovers.
#[tokio::test]
async fn an_outbox_commit_failing_on_disk_changes_no_pending_send() {
    let dir = tempfile::tempdir().unwrap();
    let pending = |seqs: &[u64]| outbox_batch(seqs, &[]).outbox_add;
    {
        let (store, failing) = store_on_flaky_disk(dir.path());
        store
            .clone()
            .commit(outbox_batch(&[1, 2, 3], &[]))
            .await
            .unwrap();
        failing.store(ENOSPC, Ordering::SeqCst);
        let err = store.clone().commit(outbox_batch(&[4], &[1, 2]));
        assert!(matches!(err.await, Err(StoreError::Write(_))));
        failing.store(0, Ordering::SeqCst);
        assert_eq!(
            store.clone().load().await.unwrap().outbox,
            pending(&[1, 2, 3])
        );
        assert_eq!(store.outbox.lock().sends(), pending(&[1, 2, 3]));

        store
            .clone()
            .commit(outbox_batch(&[5], &[2]))
            .await
            .unwrap();
        assert_eq!(
            store.clone().load().await.unwrap().outbox,
            pending(&[1, 3, 5])
        );
    }
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(
        store.clone().load().await.unwrap().outbox,
        pending(&[1, 3, 5])
    );
}

#[test]
fn too_new_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        schema::write_version(&txn, schema::SCHEMA_VERSION + 1).unwrap();
        txn.commit().unwrap();
    }
    let err = EmbeddedStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, .. } if found == schema::SCHEMA_VERSION + 1),
        "{err:?}"
    );
    assert!(err.to_string().contains(FILE_NAME), "{err}");
}

/// Root ignores permission bits, so unwritable places are made from things
/// even root cannot write: a data dir below a regular file, and one in /proc.
#[test]
fn unwritable_data_dir_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = EmbeddedStore::open(&file.join("data")).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.is_fatal_at_startup());

    if Path::new("/proc/self").exists() {
        let err = EmbeddedStore::open(Path::new("/proc/randchat-test")).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    }
}
