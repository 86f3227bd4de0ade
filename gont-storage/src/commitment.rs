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
//! [`verify_state_proof`] is pure: a light client that trusts a header's
//! `state_root` checks an account or slot, present or absent, with it alone.

use std::fmt;
use std::path::Path;

use borsh::{BorshDeserialize, BorshSerialize};
use gont_core::{AccountState, Address, Hash, StateChanges, U256, encode};
use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use redb::ReadableTable;

use crate::error::StoreError;
use crate::tables::{Bytes, Hash32, HeightKey};

/// blake3 as the tree's hash function (through jmt's [`SimpleHasher`]).
pub struct Blake3Hasher(blake3::Hasher);

impl SimpleHasher for Blake3Hasher {
    fn new() -> Self {
        Self(blake3::Hasher::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

type Tree<'a, R> = JellyfishMerkleTree<'a, R, Blake3Hasher>;

/// The root of the empty state (jmt's placeholder for an empty tree).
pub const EMPTY_STATE_ROOT: Hash = Hash(Tree::<'static, NoNodes>::EMPTY_ROOT.0);

/// The domain of state key hashes.
const STATE_KEY_CONTEXT: &str = "gont state key v1";

/// What the state commitment has a leaf for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKey {
    /// An account's nonce, balance and code hash.
    Account(Address),
    /// One storage slot of a contract.
    Storage {
        /// The contract.
        address: Address,
        /// The slot.
        slot: U256,
    },
}

impl StateKey {
    /// The leaf key: blake3 (keyed to this domain) of `0x00 ‖ address` for
    /// an account, `0x01 ‖ address ‖ slot (32 bytes big-endian)` for a slot.
    pub fn key_hash(&self) -> Hash {
        let mut bytes = Vec::with_capacity(53);
        match self {
            Self::Account(address) => {
                bytes.push(0x00);
                bytes.extend_from_slice(address.as_slice());
            }
            Self::Storage { address, slot } => {
                bytes.push(0x01);
                bytes.extend_from_slice(address.as_slice());
                bytes.extend_from_slice(&slot.to_be_bytes::<32>());
            }
        }
        Hash::digest_in(STATE_KEY_CONTEXT, &bytes)
    }

    fn jmt_key(&self) -> KeyHash {
        KeyHash(self.key_hash().0)
    }
}

impl fmt::Display for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account(address) => write!(f, "account {address}"),
            Self::Storage { address, slot } => write!(f, "slot {slot:#x} of {address}"),
        }
    }
}

/// A leaf's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateValue {
    /// An account.
    Account(AccountState),
    /// A non-zero slot value (a zero slot has no leaf).
    Storage(U256),
}

impl StateValue {
    /// The bytes the leaf commits to: the canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Account(account) => encode(account),
            Self::Storage(value) => encode(value),
        }
    }

    /// Decodes the leaf value of `key`.
    pub(crate) fn decode(key: &StateKey, bytes: &[u8]) -> Result<Self, gont_core::DecodeError> {
        Ok(match key {
            StateKey::Account(_) => Self::Account(gont_core::decode(bytes)?),
            StateKey::Storage { .. } => Self::Storage(gont_core::decode(bytes)?),
        })
    }
}

/// A Merkle proof that a key has a value, or has none, under a state root.
/// Canonically encodable (borsh), so that it can be sent to a light client.
#[derive(Clone, Debug, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct StateProof(SparseMerkleProof<Blake3Hasher>);

/// A state value with its proof, as of one height.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvenState {
    /// The state root the proof is against (the header's `state_root`).
    pub root: Hash,
    /// The key.
    pub key: StateKey,
    /// Its value; `None` for an absent account or a zero slot.
    pub value: Option<StateValue>,
    /// The inclusion (value present) or exclusion (absent) proof.
    pub proof: StateProof,
}

/// Checks that under `root`, `key` has `value` (`Some`: an inclusion proof)
/// or no value (`None`: an exclusion proof). Pure: a light client needs
/// nothing else.
pub fn verify_state_proof(
    root: Hash,
    key: &StateKey,
    value: Option<&StateValue>,
    proof: &StateProof,
) -> Result<(), StoreError> {
    proof
        .0
        .verify(
            RootHash(root.0),
            key.jmt_key(),
            value.map(StateValue::encode),
        )
        .map_err(|e| StoreError::InvalidProof {
            key: key.to_string(),
            root,
            reason: format!("{e:#}"),
        })
}

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
pub(crate) fn apply(
    reader: &impl TreeReader,
    version: Version,
    changes: &StateChanges,
) -> anyhow::Result<(Hash, TreeUpdateBatch)> {
    let (root, batch) = Tree::new(reader).put_value_set(value_set(changes), version)?;
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
