//! The state commitment: a Jellyfish Merkle tree (the `jmt` crate, from
//! Diem via Penumbra) hashed with blake3, with its nodes and values in redb.
//!
//! Every account and every non-zero storage slot is one leaf. The leaf key
//! is a blake3 hash of the state key ([`StateKey::key_hash`]); the leaf
//! value is the canonical encoding of the account or the slot value
//! ([`StateValue::encode`]). The tree version is the block height (genesis
//! is version 0), so the root after block `h` is the tree's root at `h`, and
//! a block rewrites only the paths from its changed leaves to the root.
//!
//! What the commitment is (key hashes, leaf values, proofs and their
//! verification) is defined in `gont_core::state_proof`, so that a light
//! client needs no storage; this module keeps the tree in redb.

use std::path::Path;

use gont_core::state_proof::{Blake3Hasher, StateKey, StateProof};
use gont_core::{Hash, StateChanges, encode};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use redb::ReadableTable;

use crate::error::StoreError;
use crate::tables::{Bytes, Hash32, HeightKey};

/// The tree's writes for one change set: key hashes with new values
/// (`None` deletes: a removed account or a zeroed slot).
pub(crate) fn value_set(changes: &StateChanges) -> Vec<(KeyHash, Option<OwnedValue>)> {
    let accounts = changes.accounts.iter().map(|(address, account)| {
        (
            StateKey::Account(*address).jmt_key(),
            account.as_ref().map(encode),
        )
    });
    let slots = changes.storage.iter().flat_map(|(address, slots)| {
        slots.iter().map(|(slot, value)| {
            let key = StateKey::Storage {
                address: *address,
                slot: *slot,
            };
            (key.jmt_key(), (!value.is_zero()).then(|| encode(value)))
        })
    });
    accounts.chain(slots).collect()
}

/// A value as stored in the state history: a tag byte (0 deleted, 1
/// present) and the value.
pub(crate) fn encode_versioned(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

/// The inverse of [`encode_versioned`]; `Err` for a malformed record.
pub(crate) fn decode_versioned(bytes: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err("state value has neither tag 0 (deleted) with no bytes nor tag 1 (present)"),
    }
}

/// A value of the state history: the height it was written at, and the
/// value (`None`: deleted then).
pub(crate) type Versioned = (u64, Option<Vec<u8>>);

/// The newest value of `key` written at or below `version`, with the
/// version it was written at; a deletion is `Some((v, None))`.
pub(crate) fn newest_value(
    values: &impl ReadableTable<(Hash32, HeightKey), Bytes>,
    key: Hash32,
    version: u64,
) -> Result<Option<Versioned>, ValueError> {
    let mut range = values.range((key, 0u64)..=(key, version))?;
    let Some(entry) = range.next_back() else {
        return Ok(None);
    };
    let (k, v) = entry?;
    let (_, written) = k.value();
    let value = decode_versioned(v.value()).map_err(|reason| ValueError::Corrupt {
        key,
        version: written,
        reason,
    })?;
    Ok(Some((written, value)))
}

/// Why a state value lookup failed.
#[derive(Debug)]
pub(crate) enum ValueError {
    Storage(redb::StorageError),
    Corrupt {
        key: Hash32,
        version: u64,
        reason: &'static str,
    },
}

impl From<redb::StorageError> for ValueError {
    fn from(e: redb::StorageError) -> Self {
        Self::Storage(e)
    }
}

impl ValueError {
    pub(crate) fn into_store(self, path: &Path, table: &str, op: &'static str) -> StoreError {
        match self {
            Self::Storage(e) => StoreError::Database {
                path: path.to_path_buf(),
                op,
                source: Box::new(e.into()),
            },
            Self::Corrupt {
                key,
                version,
                reason,
            } => StoreError::Corrupt {
                path: path.to_path_buf(),
                table: table.to_owned(),
                key: format!("({}, {version})", Hash(key)),
                reason: reason.to_owned(),
            },
        }
    }
}

/// The tree's node and value tables, as jmt reads them.
pub(crate) struct TreeTables<'t, N, V> {
    pub(crate) nodes: &'t N,
    pub(crate) values: &'t V,
    pub(crate) path: &'t Path,
    pub(crate) nodes_table: &'t str,
    pub(crate) values_table: &'t str,
}

impl<N, V> TreeReader for TreeTables<'_, N, V>
where
    N: ReadableTable<Bytes, Bytes>,
    V: ReadableTable<(Hash32, HeightKey), Bytes>,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = encode(node_key);
        let found = self
            .nodes
            .get(key.as_slice())
            .map_err(|e| StoreError::Database {
                path: self.path.to_path_buf(),
                op: "reading a state tree node",
                source: Box::new(e.into()),
            })?;
        let Some(bytes) = found else {
            return Ok(None);
        };
        let node = borsh::from_slice(bytes.value()).map_err(|e| StoreError::Corrupt {
            path: self.path.to_path_buf(),
            table: self.nodes_table.to_owned(),
            key: format!("{node_key:?}"),
            reason: e.to_string(),
        })?;
        Ok(Some(node))
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        let found = newest_value(self.values, key_hash.0, max_version)
            .map_err(|e| e.into_store(self.path, self.values_table, "reading a state value"))?;
        Ok(found.and_then(|(_, value)| value))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's state-sync restore asks for this; GONT does not restore
        // trees from chunks.
        anyhow::bail!("the rightmost leaf is not indexed (tree restore is not supported)")
    }
}

/// The state tree over a node reader.
type Tree<'a, R> = JellyfishMerkleTree<'a, R, Blake3Hasher>;

/// The root of the empty state (jmt's placeholder for an empty tree).
pub const EMPTY_STATE_ROOT: Hash = Hash(Tree::<'static, NoNodes>::EMPTY_ROOT.0);

/// A reader with no nodes: only for naming the tree type in constants.
pub(crate) struct NoNodes;

impl TreeReader for NoNodes {
    fn get_node_option(&self, _: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(None)
    }

    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(None)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

/// Applies `changes` on top of the tree at `version - 1` (the empty tree
/// for version 0), returning the new root and the nodes to write.
///
/// A change set that only writes (the usual block: balances, nonces and
/// non-zero slots) goes through jmt's batch insertion, which visits each
/// node on the changed paths once and hashes it once. One that deletes
/// goes key by key, rehashing the path from each key to the root, as the
/// batch insertion cannot delete. The tree is the same either way (its
/// shape is a function of its keys), which the tests below check.
pub(crate) fn apply(
    reader: &impl TreeReader,
    version: Version,
    changes: &StateChanges,
) -> anyhow::Result<(Hash, TreeUpdateBatch)> {
    let set = value_set(changes);
    let tree = Tree::new(reader);
    // jmt's batch insertion asserts a non-empty set.
    let (root, batch) = if !set.is_empty() && set.iter().all(|(_, value)| value.is_some()) {
        let writes = set
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .collect();
        let (roots, batch) = tree.batch_put_value_sets(vec![writes], None, version)?;
        let root = roots
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("jmt returned no root for version {version}"))?;
        (root, batch)
    } else {
        tree.put_value_set(set, version)?
    };
    Ok((Hash(root.0), batch))
}

/// The root of the tree at `version`; `None` if that version has no root
/// (never written, or pruned).
pub(crate) fn root_at(reader: &impl TreeReader, version: Version) -> anyhow::Result<Option<Hash>> {
    Ok(Tree::new(reader)
        .get_root_hash_option(version)?
        .map(|r| Hash(r.0)))
}

/// The value of `key` at `version` with its proof.
pub(crate) fn prove(
    reader: &impl TreeReader,
    version: Version,
    key: &StateKey,
) -> anyhow::Result<(Option<OwnedValue>, StateProof)> {
    let (value, proof) = Tree::new(reader).get_with_proof(key.jmt_key(), version)?;
    Ok((value, StateProof(proof)))
}

/// Turns an error out of jmt into a [`StoreError`], keeping the store's own
/// error when the tree only passed it through.
pub(crate) fn tree_error(e: anyhow::Error, chain: gont_core::ChainId, height: u64) -> StoreError {
    match e.downcast::<StoreError>() {
        Ok(store) => store,
        Err(e) => StoreError::Commitment {
            chain,
            height: gont_core::Height(height),
            reason: format!("{e:#}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use gont_core::state::KECCAK_EMPTY;
    use gont_core::{AccountState, Address, U256};
    use jmt::storage::StaleNodeIndex;

    use super::*;

    /// A tree in memory: nodes by key, values by key and version.
    #[derive(Default)]
    struct MemoryTree {
        nodes: HashMap<NodeKey, Node>,
        values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
        stale: BTreeSet<StaleNodeIndex>,
    }

    impl TreeReader for MemoryTree {
        fn get_node_option(&self, key: &NodeKey) -> anyhow::Result<Option<Node>> {
            Ok(self.nodes.get(key).cloned())
        }

        fn get_value_option(
            &self,
            max_version: Version,
            key_hash: KeyHash,
        ) -> anyhow::Result<Option<OwnedValue>> {
            Ok(self
                .values
                .range((key_hash, 0)..=(key_hash, max_version))
                .next_back()
                .and_then(|(_, value)| value.clone()))
        }

        fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
            Ok(None)
        }
    }

    impl MemoryTree {
        fn write(&mut self, batch: &TreeUpdateBatch) {
            for (key, node) in batch.node_batch.nodes() {
                self.nodes.insert(key.clone(), node.clone());
            }
            for ((version, key), value) in batch.node_batch.values() {
                self.values.insert((*key, *version), value.clone());
            }
            self.stale
                .extend(batch.stale_node_index_batch.iter().cloned());
        }
    }

    /// xorshift64: a fixed sequence of change sets, no dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Block `version`'s changes: accounts and slots drawn from small
    /// pools, so that blocks overwrite each other's keys; every third
    /// block also deletes (an account, a zeroed slot).
    fn changes(rng: &mut Rng, version: u64) -> StateChanges {
        let address = |i: u64| Address::left_padding_from(&i.to_be_bytes());
        let mut changes = StateChanges::default();
        for _ in 0..1 + rng.below(200) {
            let account = AccountState {
                nonce: rng.below(1000),
                balance: U256::from(rng.below(u64::MAX)),
                code_hash: KECCAK_EMPTY,
            };
            changes
                .accounts
                .insert(address(rng.below(500)), Some(account));
        }
        for _ in 0..rng.below(200) {
            let value = U256::from(1 + rng.below(u64::MAX - 1));
            let slots = changes.storage.entry(address(rng.below(8))).or_default();
            slots.insert(U256::from(rng.below(300)), value);
        }
        if version % 3 == 2 {
            changes.accounts.insert(address(rng.below(500)), None);
            let slots = changes.storage.entry(address(rng.below(8))).or_default();
            slots.insert(U256::from(rng.below(300)), U256::ZERO);
        }
        changes
    }

    #[test]
    fn batch_insertion_builds_the_tree_that_key_by_key_insertion_builds() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut ours, mut key_by_key) = (MemoryTree::default(), MemoryTree::default());
        let mut batched = 0;
        for version in 0..40 {
            let changes = changes(&mut rng, version);
            let (root, batch) = apply(&ours, version, &changes).unwrap();
            let (reference, reference_batch) = Tree::new(&key_by_key)
                .put_value_set(value_set(&changes), version)
                .unwrap();
            assert_eq!(root, Hash(reference.0), "root at version {version}");
            assert_eq!(
                batch.node_batch, reference_batch.node_batch,
                "nodes and values written at version {version}"
            );
            batched += usize::from(version % 3 != 2);
            ours.write(&batch);
            key_by_key.write(&reference_batch);
            assert_eq!(ours.stale, key_by_key.stale, "stale nodes at {version}");
        }
        assert_eq!(batched, 27);
        assert_eq!(ours.nodes, key_by_key.nodes);
    }
}
