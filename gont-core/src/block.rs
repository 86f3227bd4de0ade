//! Blocks: a header, a body of Ethereum-signed transactions, and the commit
//! certificate that finalises it.

#[cfg(feature = "tx")]
use alloy_consensus::TxEnvelope;
#[cfg(feature = "tx")]
use alloy_eips::eip2718::Decodable2718;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::header::Header;
use crate::merkle::merkle_root;
use crate::primitives::{
    Address, B256, BlockId, Bytes, ChainId, Hash, Height, Timestamp, VotingPower, fixed_bytes,
};
use crate::validator_set::{ValidatorAddress, ValidatorSet};

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
    #[cfg(feature = "tx")]
    pub fn decode(&self) -> Result<TxEnvelope, TransactionError> {
        TxEnvelope::decode_2718_exact(&self.0).map_err(|e| TransactionError::Decode(e.to_string()))
    }

    /// Decodes the bytes and recovers the sender.
    #[cfg(feature = "tx")]
    pub fn decode_and_recover(&self) -> Result<(TxEnvelope, Address), TransactionError> {
        let tx = self.decode()?;
        let sender = recover_signer(tx.signature(), tx.signature_hash())?;
        Ok((tx, sender))
    }
}

/// Half the order of secp256k1's group: EIP-2's bound on a signature's
/// `s`.
const SECP256K1N_HALF: crate::U256 = crate::U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// The address whose key signed `prehash` with `signature`, as Ethereum
/// recovers a transaction's sender: `s` in the lower half of the curve
/// order (EIP-2), then ECDSA public-key recovery with libsecp256k1 and the
/// last 20 bytes of the key's keccak-256 hash.
pub fn recover_signer(
    signature: &alloy_primitives::Signature,
    prehash: B256,
) -> Result<Address, TransactionError> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};

    if signature.s() > SECP256K1N_HALF {
        return Err(TransactionError::Signature);
    }
    let mut compact = [0u8; 64];
    let (r, s) = compact.split_at_mut(32);
    r.copy_from_slice(&signature.r().to_be_bytes::<32>());
    s.copy_from_slice(&signature.s().to_be_bytes::<32>());
    let id = RecoveryId::from_u8_masked(u8::from(signature.v()));
    let recoverable = RecoverableSignature::from_compact(&compact, id)
        .map_err(|_| TransactionError::Signature)?;
    let public = secp256k1::SECP256K1
        .recover_ecdsa(secp256k1::Message::from_digest(prehash.0), &recoverable)
        .map_err(|_| TransactionError::Signature)?;
    // The uncompressed key is 0x04 ‖ x ‖ y; the address hashes x ‖ y.
    let uncompressed = public.serialize_uncompressed();
    let (_, xy) = uncompressed.split_at(1);
    Ok(Address::from_raw_public_key(xy))
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
    /// The commit that decided the previous block, as the proposer has it
    /// (CometBFT's `LastCommit`): who signed it is what the downtime rule
    /// counts. Committed to by the header's `last_commit_hash`; `None` at
    /// height 1 and on chains whose blocks do not come from GONT
    /// consensus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<CommitCertificate>,
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

    /// The header's `last_commit_hash`.
    pub fn last_commit_hash(&self) -> Option<Hash> {
        self.last_commit.as_ref().map(CommitCertificate::hash)
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

/// A header commitment its block's body does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyMismatch {
    /// The transactions.
    #[error("tx_root does not match the block's transactions")]
    TxRoot,
    /// The evidence.
    #[error("evidence_hash does not match the block's evidence")]
    EvidenceHash,
    /// The last commit.
    #[error("last_commit_hash does not match the block's last commit")]
    LastCommitHash,
}

impl Block {
    /// Whether the header commits to this body: its `tx_root`,
    /// `evidence_hash` and `last_commit_hash`. Everything in the body is
    /// under one of them, so a header's id stands for the whole block once
    /// this holds.
    pub fn check_body(&self) -> Result<(), BodyMismatch> {
        let (header, body) = (&self.header, &self.body);
        if header.tx_root != body.tx_root() {
            return Err(BodyMismatch::TxRoot);
        }
        if header.evidence_hash != body.evidence_hash() {
            return Err(BodyMismatch::EvidenceHash);
        }
        if header.last_commit_hash != body.last_commit_hash() {
            return Err(BodyMismatch::LastCommitHash);
        }
        Ok(())
    }
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

/// Why a commit does not prove its block final under a validator set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// A commit has one entry per member of the set.
    #[error("the commit has {got} entries for a set of {expected}")]
    Length {
        /// The set's size.
        expected: usize,
        /// The commit's entries.
        got: usize,
    },
    /// Entry `index` names another validator than the set's member there.
    #[error("entry {index} is signed by {found}, not the set's member {expected}")]
    WrongValidator {
        /// The entry.
        index: usize,
        /// The member of the set at that position.
        expected: ValidatorAddress,
        /// The validator the entry names.
        found: ValidatorAddress,
    },
    /// Entry `index`'s signature does not verify.
    #[error("the signature of entry {index} ({validator}) does not verify")]
    BadSignature {
        /// The entry.
        index: usize,
        /// Its validator.
        validator: ValidatorAddress,
    },
    /// Height, round or time outside Tendermint's range.
    #[error("the commit cannot be encoded as Tendermint votes")]
    Unencodable,
    /// The precommits for the block hold no more than two thirds of the
    /// power.
    #[error("precommits for the block hold {signed} of {total} power, not more than two thirds")]
    NoQuorum {
        /// Power of the precommits for the block.
        signed: u64,
        /// The set's power.
        total: u64,
    },
}

impl CommitCertificate {
    /// The header's `last_commit_hash` of the block that carries this
    /// commit: blake3 of its canonical encoding.
    pub fn hash(&self) -> Hash {
        Hash::digest_in("gont last commit v1", &crate::encoding::encode(self))
    }

    /// Checks that this commit decides its block under `set` (the set of
    /// its height) on chain `chain`: one entry per member in set order,
    /// each present signature valid over Tendermint's canonical precommit,
    /// and more than two thirds of the power for the block. Returns, per
    /// member, whether it signed (for the block or for nil).
    pub fn verify(&self, chain: ChainId, set: &ValidatorSet) -> Result<Vec<bool>, CommitError> {
        use crate::evidence::{VoteKind, vote_sign_bytes};
        let members = set.validators();
        if self.signatures.len() != members.len() {
            return Err(CommitError::Length {
                expected: members.len(),
                got: self.signatures.len(),
            });
        }
        let tm_chain = tendermint::chain::Id::try_from(chain.tendermint_id())
            .map_err(|_| CommitError::Unencodable)?;
        let mut power = 0u64;
        let mut signed = Vec::with_capacity(members.len());
        for (index, (entry, member)) in self.signatures.iter().zip(members).enumerate() {
            let (validator, value, signature) = match entry {
                CommitSig::Absent => {
                    signed.push(false);
                    continue;
                }
                CommitSig::ForBlock {
                    validator,
                    timestamp,
                    signature,
                } => (validator, Some((self.block_id, *timestamp)), signature),
                CommitSig::ForNil {
                    validator,
                    signature,
                    ..
                } => (validator, None, signature),
            };
            if *validator != member.address() {
                return Err(CommitError::WrongValidator {
                    index,
                    expected: member.address(),
                    found: *validator,
                });
            }
            let bytes = vote_sign_bytes(
                &tm_chain,
                VoteKind::Precommit,
                self.height,
                self.round,
                value,
            )
            .ok_or(CommitError::Unencodable)?;
            if !member.consensus_key.verify(&bytes, &signature.0) {
                return Err(CommitError::BadSignature {
                    index,
                    validator: *validator,
                });
            }
            if value.is_some() {
                power = power.saturating_add(member.power.0);
            }
            signed.push(true);
        }
        if !set.is_quorum(VotingPower(power)) {
            return Err(CommitError::NoQuorum {
                signed: power,
                total: set.total_power().0,
            });
        }
        Ok(signed)
    }
}

/// A block with the commit that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct DecidedBlock {
    /// The block.
    pub block: Block,
    /// Its commit.
    pub commit: CommitCertificate,
}
