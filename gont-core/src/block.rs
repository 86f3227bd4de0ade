//! Blocks: a header, a body of Ethereum-signed transactions, and the commit
//! certificate that finalises it.

use alloy_consensus::TxEnvelope;
use alloy_consensus::transaction::SignerRecoverable;
use alloy_eips::eip2718::Decodable2718;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::header::Header;
use crate::merkle::merkle_root;
use crate::primitives::{Address, B256, BlockId, Bytes, Hash, Height, Timestamp, fixed_bytes};
use crate::validator_set::ValidatorAddress;

/// One transaction as sent by a wallet: EIP-2718 bytes (a legacy RLP list,
/// or a type byte followed by the typed payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(transparent)]
pub struct RawTransaction(pub Bytes);

/// Why a raw transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// Not a valid EIP-2718 encoding, or bytes left over after it.
    #[error("transaction decoding failed: {0}")]
    Decode(String),
    /// The signature does not recover to a sender.
    #[error("invalid transaction signature")]
    Signature,
}

impl RawTransaction {
    /// The Ethereum transaction hash: keccak-256 of the bytes.
    pub fn hash(&self) -> B256 {
        alloy_primitives::keccak256(&self.0)
    }

    /// Decodes the bytes, refusing trailing data.
    pub fn decode(&self) -> Result<TxEnvelope, TransactionError> {
        TxEnvelope::decode_2718_exact(&self.0).map_err(|e| TransactionError::Decode(e.to_string()))
    }

    /// Decodes the bytes and recovers the sender.
    pub fn decode_and_recover(&self) -> Result<(TxEnvelope, Address), TransactionError> {
        let tx = self.decode()?;
        let sender = tx
            .recover_signer()
            .map_err(|_| TransactionError::Signature)?;
        Ok((tx, sender))
    }
}

/// The transactions of a block, in execution order, and the evidence of
/// misbehaviour it carries.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct Body {
    /// The transactions.
    pub transactions: Vec<RawTransaction>,
    /// Evidence of double signing, executed before the transactions (at
    /// most [`crate::evidence::MAX_EVIDENCE_PER_BLOCK`]); committed to by
    /// the header's `evidence_hash`.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Body {
    /// The blake3 merkle root of the raw transactions: the header's `tx_root`.
    pub fn tx_root(&self) -> Hash {
        merkle_root(
            &self
                .transactions
                .iter()
                .map(|t| t.0.as_ref())
                .collect::<Vec<_>>(),
        )
    }

    /// The header's `evidence_hash`.
    pub fn evidence_hash(&self) -> Option<Hash> {
        crate::evidence::evidence_hash(&self.evidence)
    }
}

/// A block: header and body. Its commit is kept beside it (see
/// [`DecidedBlock`]) because it is formed after the block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions.
    pub body: Body,
}

fixed_bytes! {
    /// An ed25519 signature.
    Signature, 64
}

/// One validator's entry in a commit, as Tendermint's `CommitSig`: one per
/// member of the validator set, in set order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub enum CommitSig {
    /// No precommit from this validator was included.
    Absent,
    /// A precommit for the committed block.
    ForBlock {
        /// The validator.
        validator: ValidatorAddress,
        /// The validator's time in its precommit.
        timestamp: Timestamp,
        /// Its signature of the canonical precommit.
        signature: Signature,
    },
    /// A precommit for nil.
    ForNil {
        /// The validator.
        validator: ValidatorAddress,
        /// The validator's time in its precommit.
        timestamp: Timestamp,
        /// Its signature of the canonical precommit.
        signature: Signature,
    },
}

/// The precommits of more than two thirds of the power for one block: the
/// proof that it is final.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct CommitCertificate {
    /// The decided height.
    pub height: Height,
    /// The round it was decided in.
    pub round: u32,
    /// The decided block.
    pub block_id: BlockId,
    /// One entry per validator, in validator-set order.
    pub signatures: Vec<CommitSig>,
}

/// A block with the commit that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct DecidedBlock {
    /// The block.
    pub block: Block,
    /// Its commit.
    pub commit: CommitCertificate,
}
