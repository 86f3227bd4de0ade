//! The transaction pool's journal: every admitted transaction appended to a
//! file before its sender hears its hash, replayed into the pool on start,
//! and rewritten from the pool when it grows, so that a transaction a node
//! acknowledged survives the node's crash (geth's `transactions.rlp`, for
//! local and gossiped transactions alike).
//!
//! A record is the admission time (u64 milliseconds, little-endian), the
//! length (u32, little-endian) and the raw transaction. A crash can leave a
//! torn last record: reading stops there and the rewrite after replay drops
//! it. Records are written with one `write` each and not fsynced: a killed
//! process loses nothing the kernel has, and only a power cut the last
//! records.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gont_core::{RawTransaction, Timestamp};

/// The largest record length read back: anything longer is a torn or
/// foreign file, not a transaction the pool could have held.
const MAX_RECORD: usize = 4 * 1024 * 1024;

/// The record header: time and length.
const HEADER: usize = 12;

/// One chain's pool journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// Bytes in the file, for [`Journal::needs_rewrite`].
    written: std::sync::atomic::AtomicU64,
}

/// What [`Journal::open`] read back.
#[derive(Debug, Default)]
pub struct Replay {
    /// The records, oldest first.
    pub records: Vec<(Timestamp, RawTransaction)>,
    /// Bytes at the end that were not a whole record (a torn write).
    pub torn_bytes: usize,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and reads it back.
    pub fn open(path: &Path) -> io::Result<(Self, Replay)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let replay = match File::open(path) {
            Ok(file) => read_records(file)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Replay::default(),
            Err(e) => return Err(e),
        };
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok((
            Self {
                path: path.to_owned(),
                file: Mutex::new(file),
                written: written.into(),
            },
            replay,
        ))
    }

    /// Appends one admitted transaction.
    pub fn append(&self, admitted: Timestamp, raw: &RawTransaction) -> io::Result<()> {
        let record = encode(admitted, raw)?;
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        file.write_all(&record)?;
        self.written.fetch_add(
            u64::try_from(record.len()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    /// Whether the file holds much more than a pool of `pool_bytes` needs:
    /// replaced, included and expired transactions stay until a rewrite.
    pub fn needs_rewrite(&self, pool_bytes: usize) -> bool {
        let written = self.written.load(std::sync::atomic::Ordering::Relaxed);
        let pool = u64::try_from(pool_bytes).unwrap_or(u64::MAX);
        written > pool.saturating_mul(2).max(4 * 1024 * 1024)
    }

    /// Replaces the file's content by `records` (written to a temporary
    /// file, synced, renamed over the journal).
    pub fn rewrite<'a>(
        &self,
        records: impl IntoIterator<Item = (Timestamp, &'a RawTransaction)>,
    ) -> io::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        let temporary = self.path.with_extension("new");
        let mut out = io::BufWriter::new(File::create(&temporary)?);
        let mut written = 0u64;
        for (admitted, raw) in records {
            let record = encode(admitted, raw)?;
            out.write_all(&record)?;
            written += u64::try_from(record.len()).unwrap_or(u64::MAX);
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, &self.path)?;
        *file = OpenOptions::new().append(true).open(&self.path)?;
        self.written
            .store(written, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn encode(admitted: Timestamp, raw: &RawTransaction) -> io::Result<Vec<u8>> {
    let len = u32::try_from(raw.0.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "transaction too large"))?;
    let mut record = Vec::with_capacity(HEADER + raw.0.len());
    record.extend_from_slice(&admitted.0.to_le_bytes());
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&raw.0);
    Ok(record)
}

fn read_records(file: File) -> io::Result<Replay> {
    let mut bytes = Vec::new();
    BufReader::new(file).read_to_end(&mut bytes)?;
    let mut replay = Replay::default();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_first_chunk::<HEADER>() else {
            break;
        };
        let (time, len) = header.split_at(8);
        let time = u64::from_le_bytes(time.try_into().unwrap_or_default());
        let len = u32::from_le_bytes(len.try_into().unwrap_or_default());
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_RECORD || len > body.len() {
            break;
        }
        let (raw, next) = body.split_at(len);
        replay
            .records
            .push((Timestamp(time), RawTransaction(raw.to_vec().into())));
        rest = next;
    }
    replay.torn_bytes = rest.len();
    Ok(replay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(byte: u8, len: usize) -> RawTransaction {
        RawTransaction(vec![byte; len].into())
    }

    #[test]
    fn records_come_back_in_order_and_a_torn_tail_is_reported_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("txpool.journal");
        let (journal, replay) = Journal::open(&path).unwrap();
        assert!(replay.records.is_empty());
        journal.append(Timestamp(1), &raw(1, 10)).unwrap();
        journal.append(Timestamp(2), &raw(2, 300)).unwrap();
        drop(journal);
        // A crash in the middle of a third record.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[3, 0, 0, 0, 0, 0, 0, 0, 200, 0]).unwrap();
        drop(file);

        let (journal, replay) = Journal::open(&path).unwrap();
        assert_eq!(
            replay.records,
            vec![(Timestamp(1), raw(1, 10)), (Timestamp(2), raw(2, 300))]
        );
        assert_eq!(replay.torn_bytes, 10);
        journal.rewrite([(Timestamp(2), &raw(2, 300))]).unwrap();
        journal.append(Timestamp(4), &raw(4, 1)).unwrap();
        drop(journal);
        let (_, replay) = Journal::open(&path).unwrap();
        assert_eq!(
            replay.records,
            vec![(Timestamp(2), raw(2, 300)), (Timestamp(4), raw(4, 1))]
        );
        assert_eq!(replay.torn_bytes, 0);
    }

    #[test]
    fn a_file_of_garbage_reads_as_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("txpool.journal");
        std::fs::write(&path, [0xff; 100]).unwrap();
        let (_, replay) = Journal::open(&path).unwrap();
        assert!(replay.records.is_empty());
        assert_eq!(replay.torn_bytes, 100);
    }
}
