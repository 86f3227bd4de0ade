//! Files that are not GONT stores are refused with an error naming the
//! file, never a panic.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::path::Path;

use common::{account, addr, commit, set_accounts};
use gont_core::{ChainId, ExecutionStore, Hash};
use gont_storage::{Store, StoreConfig, StoreError};

fn refused(path: &Path) -> StoreError {
    let err = Store::open_file(path, StoreConfig::default()).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error does not name the file: {err}"
    );
    err
}

/// A store with a few blocks, closed; returns the file.
fn valid_store(dir: &Path) -> std::path::PathBuf {
    let store = Store::open(dir).unwrap();
    let chain = store.chain(ChainId(5));
    chain
        .init_genesis(
            Hash::digest(b"g"),
            &set_accounts(&[(addr(1), account(0, 1))]),
        )
        .unwrap();
    for i in 0..20u8 {
        let accounts: Vec<_> = (0..50u8)
            .map(|j| (addr(j), account(u64::from(i), u64::from(j))))
            .collect();
        commit(&chain, vec![vec![]], set_accounts(&accounts));
    }
    dir.join(Store::FILE_NAME)
}

#[test]
fn a_file_of_random_bytes_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.redb");
    // Deterministic noise: blake3 in counter mode.
    let noise: Vec<u8> = (0..64u32)
        .flat_map(|i| *blake3::hash(&i.to_le_bytes()).as_bytes())
        .collect();
    std::fs::write(&path, noise.repeat(16)).unwrap();
    assert!(matches!(refused(&path), StoreError::Open { .. }));
}

#[test]
fn a_truncated_store_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_store(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    for keep in [len / 2, 4096 + 17, 100] {
        let cut = dir.path().join(format!("cut-{keep}.redb"));
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&cut, &bytes[..keep as usize]).unwrap();
        let err = refused(&cut);
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
    }
}

#[test]
fn a_store_with_damaged_pages_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_store(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    // Overwrite a stretch in the data region (past redb's header page).
    for b in &mut bytes[len / 2..len / 2 + 4096] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = refused(&path);
    assert!(
        matches!(
            err,
            StoreError::Open { .. } | StoreError::Corrupt { .. } | StoreError::Database { .. }
        ),
        "{err}"
    );
}

#[test]
fn a_redb_file_of_another_program_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, &str, u64> = redb::TableDefinition::new("accounts");
            let mut table = txn.open_table(def).unwrap();
            table.insert("alice", &1).unwrap();
        }
        txn.commit().unwrap();
    }
    let err = refused(&path);
    assert!(
        matches!(&err, StoreError::ForeignDatabase { tables, .. } if tables == &["accounts".to_owned()]),
        "{err}"
    );
}

#[test]
fn a_store_of_another_schema_version_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, &str, &[u8]> =
                redb::TableDefinition::new("gont/meta");
            let mut table = txn.open_table(def).unwrap();
            table
                .insert("schema", b"gont-storage/99".as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let err = refused(&path);
    assert!(
        matches!(&err, StoreError::SchemaVersion { found, .. } if found == "gont-storage/99"),
        "{err}"
    );
}

#[test]
fn a_store_open_elsewhere_is_refused_as_in_use_and_opens_once_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid_store(dir.path());
    let open = Store::open_file(&path, StoreConfig::default()).unwrap();
    assert!(matches!(refused(&path), StoreError::InUse { .. }));
    drop(open);
    Store::open_file(&path, StoreConfig::default()).unwrap();
}
