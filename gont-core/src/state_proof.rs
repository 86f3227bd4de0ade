//! What a state root commits to, and the proofs against it: pure, so that a
//! light client (or a contract verifying another chain) checks an account or
//! a storage slot with a trusted header's `state_root` and nothing else.
//!
//! The commitment is a Jellyfish Merkle tree (the `jmt` crate, from Diem via
//! Penumbra) hashed with blake3. Every account and every non-zero storage
//! slot is one leaf. The leaf key is a blake3 hash of the state key
//! ([`StateKey::key_hash`]); the leaf value is the canonical encoding of the
//! account or the slot value ([`StateValue::encode`]). `gont-storage` keeps
//! the tree in redb and makes the proofs.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash, SimpleHasher};

use crate::encoding::{DecodeError, decode, encode};
use crate::primitives::{Address, Hash, U256};
use crate::state::AccountState;

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

    /// The leaf key as jmt takes it.
    pub fn jmt_key(&self) -> KeyHash {
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
    pub fn decode(key: &StateKey, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(match key {
            StateKey::Account(_) => Self::Account(decode(bytes)?),
            StateKey::Storage { .. } => Self::Storage(decode(bytes)?),
        })
    }
}

/// A Merkle proof that a key has a value, or has none, under a state root.
/// Canonically encodable (borsh), so that it can be sent to a light client.
#[derive(Clone, Debug, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct StateProof(pub SparseMerkleProof<Blake3Hasher>);

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
) -> Result<(), StateProofError> {
    proof
        .0
        .verify(
            RootHash(root.0),
            key.jmt_key(),
            value.map(StateValue::encode),
        )
        .map_err(|e| StateProofError {
            key: key.to_string(),
            root,
            reason: format!("{e:#}"),
        })
}

/// A state proof that does not prove its claim against the root.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state proof for {key} does not verify against root {root}: {reason}")]
pub struct StateProofError {
    /// The key, readable.
    pub key: String,
    /// The trusted root.
    pub root: Hash,
    /// Why.
    pub reason: String,
}
