//! Fuzz targets for what this crate decodes from outside bytes: raw
//! transactions (JSON-RPC, gossip, blocks) and genesis files. `cargo xtask
//! fuzz` runs them under libFuzzer (the `fuzz/` crate); the tests below
//! replay the committed corpora (`fuzz/corpus/<target>/`), so that CI runs
//! every input found so far.
//!
//! Each target panics only when a property fails: what decodes encodes
//! back to the same bytes (a transaction's hash is over its bytes, so two
//! encodings of one transaction would be two hashes), and a genesis that
//! parses survives its own JSON.

use alloy_eips::eip2718::Encodable2718;

use crate::block::RawTransaction;
use crate::genesis::Genesis;
use crate::primitives::Timestamp;

/// Decodes `data` as a raw transaction and recovers its sender; one that
/// decodes must encode to the same bytes.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn raw_transaction(data: &[u8]) {
    let raw = RawTransaction(alloy_primitives::Bytes::copy_from_slice(data));
    let Ok(tx) = raw.decode() else {
        return;
    };
    let encoded = tx.encoded_2718();
    if encoded != data {
        panic!(
            "a {:?} transaction of {} bytes encodes to {} other bytes",
            tx.tx_type(),
            data.len(),
            encoded.len()
        );
    }
    let _ = raw.decode_and_recover();
}

/// Parses `data` as genesis JSON and validates it; one that parses must
/// parse again from its own JSON to the same genesis, with the same hash.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn genesis(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(genesis) = Genesis::from_json(text) else {
        return;
    };
    let _ = genesis.validate(Timestamp(1_767_225_600_000));
    match Genesis::from_json(&genesis.to_json()) {
        Ok(again) if again == genesis && again.hash() == genesis.hash() => {}
        Ok(_) => panic!("a genesis differs after its own JSON"),
        Err(e) => panic!("a genesis does not parse from its own JSON: {e}"),
    }
}

/// Runs `target` on every file of its committed corpus
/// (`fuzz/corpus/<target>/` of the workspace), in file-name order, for the
/// tests that replay it; returns how many there were. A failing property
/// panics inside `target`, naming what failed.
pub fn replay(name: &str, target: impl Fn(&[u8])) -> std::io::Result<usize> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    if files.is_empty() {
        return Err(std::io::Error::other(format!("{} is empty", dir.display())));
    }
    files.sort();
    for file in &files {
        target(&std::fs::read(file)?);
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use super::replay;

    #[test]
    fn the_raw_transaction_corpus_replays_without_a_failure() {
        assert!(replay("raw_transaction", super::raw_transaction).unwrap() > 0);
    }

    #[test]
    fn the_genesis_corpus_replays_without_a_failure() {
        assert!(replay("genesis", super::genesis).unwrap() > 0);
    }
}
