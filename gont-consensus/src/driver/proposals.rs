//! The values this validator proposed or accepted at heights not yet
//! committed, kept on disk so that a restarted validator re-proposes the
//! same value in the same round and finds the block of a decision that
//! Malachite replays from its WAL.
//!
//! One file per value, `<height>-<round>-<block id>.bin`, holding the borsh
//! encoding of [`Entry`]; written to a temporary name, synced, then renamed,
//! so a crash leaves either the whole file or none. The simulation keeps
//! them in memory instead ([`Proposals::in_memory`]): a map that outlives
//! the simulated node's crashes, as the directory outlives a process.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::Round;

use crate::types::{Address, Height, Value, ValueId};

/// A proposed value as this validator knows it.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub(super) struct Entry {
    /// The height.
    pub(super) height: Height,
    /// The round it was proposed in.
    pub(super) round: Round,
    /// The polka round it was re-proposed with, or nil.
    pub(super) valid_round: Round,
    /// The proposer.
    pub(super) proposer: Address,
    /// Whether the engine accepted it.
    pub(super) valid: bool,
    /// Whether this validator built it.
    pub(super) own: bool,
    /// The block.
    pub(super) value: Value,
}

type Key = (Height, u32, ValueId);

/// The durable side of [`Proposals`] in a simulation: every value put and
/// not pruned, shared by a node's successive incarnations.
#[cfg(any(test, feature = "sim"))]
#[derive(Clone, Debug, Default)]
pub(crate) struct Remembered(std::sync::Arc<std::sync::Mutex<BTreeMap<Key, Entry>>>);

#[cfg(any(test, feature = "sim"))]
impl Remembered {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<Key, Entry>) -> T) -> T {
        // A poisoned lock only means a panicking simulation thread.
        let mut entries = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut entries)
    }
}

/// Where the values are kept.
#[derive(Debug)]
enum Backing {
    /// One file per value in this directory.
    Dir(PathBuf),
    /// In memory that outlives the node (the simulation).
    #[cfg(any(test, feature = "sim"))]
    Memory(Remembered),
}

/// The store of one chain's undecided values.
#[derive(Debug)]
pub(crate) struct Proposals {
    backing: Backing,
    entries: BTreeMap<Key, Entry>,
}

fn io_error(path: &Path, op: &str, e: impl std::fmt::Display) -> String {
    format!("{op} {}: {e}", path.display())
}

impl Proposals {
    /// Opens (creating) `dir` and reads every value in it.
    pub(super) fn open(dir: PathBuf) -> Result<Self, String> {
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "creating", e))?;
        let mut entries = BTreeMap::new();
        let listing = fs::read_dir(&dir).map_err(|e| io_error(&dir, "reading", e))?;
        for item in listing {
            let path = item.map_err(|e| io_error(&dir, "reading", e))?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("bin") => {}
                // A write cut short by a crash, before its rename.
                Some("tmp") => {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                _ => continue,
            }
            let bytes = fs::read(&path).map_err(|e| io_error(&path, "reading", e))?;
            let entry: Entry = borsh::from_slice(&bytes)
                .map_err(|e| io_error(&path, "decoding the proposal in", e))?;
            entries.insert(key(&entry), entry);
        }
        Ok(Self {
            backing: Backing::Dir(dir),
            entries,
        })
    }

    /// The values `remembered` holds, kept there.
    #[cfg(any(test, feature = "sim"))]
    pub(crate) fn in_memory(remembered: Remembered) -> Self {
        Self {
            entries: remembered.with(|entries| entries.clone()),
            backing: Backing::Memory(remembered),
        }
    }

    /// Records `entry` durably (replacing one for the same value and round).
    pub(super) fn put(&mut self, entry: Entry) -> Result<(), String> {
        let key = key(&entry);
        match &self.backing {
            Backing::Dir(dir) => write(dir, &entry)?,
            #[cfg(any(test, feature = "sim"))]
            Backing::Memory(remembered) => {
                remembered.with(|entries| entries.insert(key, entry.clone()));
            }
        }
        self.entries.insert(key, entry);
        Ok(())
    }

    /// The values proposed at `(height, round)`.
    pub(super) fn at(&self, height: Height, round: u32) -> impl Iterator<Item = &Entry> {
        self.entries
            .range((height, round, ValueId::MIN)..)
            .take_while(move |((h, r, _), _)| *h == height && *r == round)
            .map(|(_, e)| e)
    }

    /// The value this validator built for `(height, round)`.
    pub(super) fn own(&self, height: Height, round: u32) -> Option<&Entry> {
        self.at(height, round).find(|e| e.own)
    }

    /// The value with id `id` at `height`, from any round.
    pub(super) fn find(&self, height: Height, id: ValueId) -> Option<&Entry> {
        self.entries
            .range((height, 0, ValueId::MIN)..)
            .take_while(|((h, _, _), _)| *h == height)
            .map(|(_, e)| e)
            .find(|e| e.value.id() == id)
    }

    /// The value with id `id` proposed at `(height, round)`.
    pub(super) fn get(&self, height: Height, round: u32, id: ValueId) -> Option<&Entry> {
        self.entries.get(&(height, round, id))
    }

    /// Forgets every value below `height` (committed heights).
    pub(super) fn prune_below(&mut self, height: Height) {
        let keep = self.entries.split_off(&(height, 0, ValueId::MIN));
        let pruned = std::mem::replace(&mut self.entries, keep);
        match &self.backing {
            Backing::Dir(dir) => {
                for (h, r, id) in pruned.into_keys() {
                    let _ = fs::remove_file(dir.join(format!("{}.bin", file_name(h, r, id))));
                }
            }
            #[cfg(any(test, feature = "sim"))]
            Backing::Memory(remembered) => remembered.with(|entries| {
                *entries = entries.split_off(&(height, 0, ValueId::MIN));
            }),
        }
    }
}

fn file_name(height: Height, round: u32, id: ValueId) -> String {
    format!("{:020}-{:010}-{}", height.0, round, id.block)
}

/// Writes `entry` to its file in `dir`: a temporary one, synced, renamed.
fn write(dir: &Path, entry: &Entry) -> Result<(), String> {
    let (height, round, id) = key(entry);
    let name = file_name(height, round, id);
    let path = dir.join(format!("{name}.bin"));
    let tmp = dir.join(format!("{name}.tmp"));
    let bytes = borsh::to_vec(entry).map_err(|e| io_error(&path, "encoding", e))?;
    let mut file = fs::File::create(&tmp).map_err(|e| io_error(&tmp, "creating", e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(&tmp, "writing", e))?;
    fs::rename(&tmp, &path).map_err(|e| io_error(&path, "renaming to", e))?;
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn key(entry: &Entry) -> Key {
    (
        entry.height,
        entry.round.as_u32().unwrap_or(0),
        entry.value.id(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::app::tests::block_at;

    fn entry(height: u64, round: u32, time: u64, own: bool) -> Entry {
        Entry {
            height: Height(height),
            round: Round::new(round),
            valid_round: Round::Nil,
            proposer: Address(gont_core::ValidatorAddress([7; 20])),
            valid: true,
            own,
            value: Value::new(block_at(height, time)).unwrap(),
        }
    }

    #[test]
    fn values_survive_a_reopen_and_pruning_removes_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Proposals::open(dir.path().join("p")).unwrap();
        store.put(entry(5, 0, 1000, true)).unwrap();
        store.put(entry(5, 1, 2000, false)).unwrap();
        store.put(entry(6, 0, 3000, false)).unwrap();
        // A write cut short before its rename is dropped at open.
        fs::write(dir.path().join("p/x.tmp"), b"torn").unwrap();

        let mut store = Proposals::open(dir.path().join("p")).unwrap();
        assert_eq!(store.at(Height(5), 0).count(), 1);
        let own = store.own(Height(5), 0).unwrap();
        assert_eq!(own.value.block().header.time.as_millis(), 1000);
        assert!(store.own(Height(5), 1).is_none());
        let id = store.at(Height(5), 1).next().unwrap().value.id();
        assert_eq!(store.find(Height(5), id).unwrap().round, Round::new(1));
        assert!(store.find(Height(6), id).is_none());

        store.prune_below(Height(6));
        assert_eq!(store.at(Height(5), 0).count(), 0);
        let store = Proposals::open(dir.path().join("p")).unwrap();
        assert_eq!(store.entries.len(), 1);
        assert!(!dir.path().join("p/x.tmp").exists());
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("p")).unwrap();
        fs::write(dir.path().join("p/1-0-x.bin"), b"garbage").unwrap();
        let e = Proposals::open(dir.path().join("p")).unwrap_err();
        assert!(e.contains("1-0-x.bin"), "{e}");
    }
}
