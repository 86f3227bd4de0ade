//! Block headers, and their exact mapping onto Tendermint's header.
//!
//! A GONT header *is* a Tendermint header plus three execution fields, so
//! that tendermint-rs's light-client verifier checks GONT commits unchanged:
//!
//! | GONT field | Tendermint field | definition |
//! |---|---|---|
//! | `chain_id` | `chain_id` | `gont-<EIP-155 id>` |
//! | `height` | `height` | same number, ≥ 1 |
//! | `time` | `time` | milliseconds → RFC 3339 nanoseconds |
//! | `parent` | `last_block_id` | parent's id, empty part-set header; none at height 1 |
//! | `tx_root` | `data_hash` | blake3 merkle root of the raw transactions |
//! | `state_root` | `app_hash` | blake3 state commitment after the block |
//! | `receipts_root` | `last_results_hash` | blake3 merkle root of the receipts |
//! | `validators_hash` | `validators_hash` | Tendermint's own definition |
//! | `next_validators_hash` | `next_validators_hash` | Tendermint's own definition |
//! | `execution` (gas used, gas limit, base fee, fee recipient) | `consensus_hash` | blake3 of their canonical encoding |
//! | `proposer` | `proposer_address` | Tendermint address of the proposer's key |
//! | `evidence_hash` | `evidence_hash` | blake3 merkle root of the block's evidence; empty without evidence |
//! | — | `version` | block protocol 11, app [`GONT_APP_VERSION`] |
//! | `last_commit_hash` | `last_commit_hash` | blake3 of the previous block's commit as the block carries it; empty at height 1 and on chains without one |
//!
//! The block id is Tendermint's header hash, so it commits to every field.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::encode;
use crate::primitives::{Address, BlockId, ChainId, Hash, Height, Timestamp};
use crate::validator_set::{ValidatorAddress, ValidatorSetHash};

/// Tendermint's block protocol version that the mapping follows.
pub const TENDERMINT_BLOCK_VERSION: u64 = 11;

/// GONT's application protocol version, carried in Tendermint's
/// `version.app`.
pub const GONT_APP_VERSION: u64 = 1;

/// The fields an Ethereum-style chain needs that Tendermint's header has no
/// slot for. Committed through `consensus_hash`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct ExecutionFields {
    /// Gas used by the block's transactions.
    pub gas_used: u64,
    /// The block's gas limit.
    pub gas_limit: u64,
    /// The EIP-1559 base fee per gas, in wei.
    pub base_fee_per_gas: u64,
    /// The account that receives the block's priority fees: the EVM's
    /// `COINBASE` and Ethereum's `beneficiary`. Chosen by the proposer.
    pub fee_recipient: Address,
}

impl ExecutionFields {
    /// The blake3 commitment stored in Tendermint's `consensus_hash`.
    pub fn hash(&self) -> Hash {
        Hash::digest_in("gont header execution fields v1", &encode(self))
    }
}

/// A block header of GONT Space or of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Header {
    /// The chain.
    pub chain_id: ChainId,
    /// The height, from 1.
    pub height: Height,
    /// The proposer's time.
    pub time: Timestamp,
    /// The previous block's id; `None` exactly at height 1.
    pub parent: Option<BlockId>,
    /// blake3 merkle root of the block's raw transactions.
    pub tx_root: Hash,
    /// blake3 state commitment after executing the block.
    pub state_root: Hash,
    /// blake3 merkle root of the block's receipts.
    pub receipts_root: Hash,
    /// The validator set that decides this block.
    pub validators_hash: ValidatorSetHash,
    /// The validator set that decides the next block.
    pub next_validators_hash: ValidatorSetHash,
    /// The proposer.
    pub proposer: ValidatorAddress,
    /// Gas and fee fields.
    pub execution: ExecutionFields,
    /// The merkle root of the block's evidence
    /// ([`crate::evidence::evidence_hash`]); `None` without evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_hash: Option<Hash>,
    /// The hash of the previous block's commit the block carries
    /// ([`crate::block::Body::last_commit_hash`]); `None` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit_hash: Option<Hash>,
}

/// Why a header does not map onto a Tendermint header, or back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Heights start at 1 and end at `i64::MAX`.
    #[error("height {0} is outside 1..=i64::MAX")]
    Height(u64),
    /// A time Tendermint cannot represent (after year 9999).
    #[error("time {0} ms is outside Tendermint's range")]
    Time(u64),
    /// Tendermint's time has sub-millisecond precision.
    #[error("time has sub-millisecond precision")]
    TimePrecision,
    /// A parent at height 1, or none above it.
    #[error("height {height}: parent {}", if *.has_parent { "present at height 1" } else { "missing" })]
    Parent {
        /// The height.
        height: u64,
        /// Whether a parent was given.
        has_parent: bool,
    },
    /// Not a GONT chain id.
    #[error("chain id {0:?} is not of the form gont-<number>")]
    ChainId(String),
    /// A field GONT always fills (or always leaves empty) is not so.
    #[error("field {0} does not follow the GONT mapping")]
    Field(&'static str),
    /// The execution fields do not match the header's `consensus_hash`.
    #[error("execution fields do not match consensus_hash")]
    ExecutionMismatch,
}

/// Tendermint's time for a GONT timestamp.
pub fn tendermint_time(t: Timestamp) -> Option<tendermint::Time> {
    let millis = t.as_millis();
    let secs = i64::try_from(millis / 1000).ok()?;
    let nanos = u32::try_from(millis % 1000 * 1_000_000).ok()?;
    tendermint::Time::from_unix_timestamp(secs, nanos).ok()
}

/// Tendermint's block id for a GONT block id (empty part-set header).
pub fn tendermint_block_id(block: BlockId) -> tendermint::block::Id {
    tendermint::block::Id {
        hash: tendermint::Hash::Sha256(block.0),
        part_set_header: tendermint::block::parts::Header::default(),
    }
}

fn tm_hash(h: [u8; 32]) -> tendermint::Hash {
    tendermint::Hash::Sha256(h)
}

fn from_tm_hash(h: &tendermint::Hash, field: &'static str) -> Result<[u8; 32], HeaderError> {
    match h {
        tendermint::Hash::Sha256(bytes) => Ok(*bytes),
        tendermint::Hash::None => Err(HeaderError::Field(field)),
    }
}

impl Header {
    /// The equivalent Tendermint header.
    pub fn to_tendermint(&self) -> Result<tendermint::block::Header, HeaderError> {
        let height = i64::try_from(self.height.0)
            .ok()
            .filter(|h| *h >= 1)
            .and_then(|h| tendermint::block::Height::try_from(h).ok())
            .ok_or(HeaderError::Height(self.height.0))?;
        if (self.height.0 == 1) == self.parent.is_some() {
            return Err(HeaderError::Parent {
                height: self.height.0,
                has_parent: self.parent.is_some(),
            });
        }
        let millis = self.time.as_millis();
        let secs = i64::try_from(millis / 1000).map_err(|_| HeaderError::Time(millis))?;
        // `millis % 1000 < 1000`, so the nanoseconds fit a u32.
        let nanos =
            u32::try_from(millis % 1000 * 1_000_000).map_err(|_| HeaderError::Time(millis))?;
        let time = tendermint::Time::from_unix_timestamp(secs, nanos)
            .map_err(|_| HeaderError::Time(millis))?;
        let chain_id = tendermint::chain::Id::try_from(self.chain_id.tendermint_id())
            .map_err(|_| HeaderError::ChainId(self.chain_id.tendermint_id()))?;
        Ok(tendermint::block::Header {
            version: tendermint::block::header::Version {
                block: TENDERMINT_BLOCK_VERSION,
                app: GONT_APP_VERSION,
            },
            chain_id,
            height,
            time,
            last_block_id: self.parent.map(|p| tendermint::block::Id {
                hash: tm_hash(p.0),
                part_set_header: tendermint::block::parts::Header::default(),
            }),
            last_commit_hash: self.last_commit_hash.map(|h| tm_hash(h.0)),
            data_hash: Some(tm_hash(self.tx_root.0)),
            validators_hash: tm_hash(self.validators_hash.0),
            next_validators_hash: tm_hash(self.next_validators_hash.0),
            consensus_hash: tm_hash(self.execution.hash().0),
            app_hash: tendermint::AppHash::try_from(self.state_root.0.to_vec())
                .map_err(|_| HeaderError::Field("app_hash"))?,
            last_results_hash: Some(tm_hash(self.receipts_root.0)),
            evidence_hash: self.evidence_hash.map(|h| tm_hash(h.0)),
            proposer_address: tendermint::account::Id::new(self.proposer.0),
        })
    }

    /// Rebuilds a GONT header from a Tendermint header and the execution
    /// fields it commits to, checking that every field follows the mapping.
    pub fn from_tendermint(
        tm: &tendermint::block::Header,
        execution: ExecutionFields,
    ) -> Result<Self, HeaderError> {
        if tm.version.block != TENDERMINT_BLOCK_VERSION || tm.version.app != GONT_APP_VERSION {
            return Err(HeaderError::Field("version"));
        }
        let chain_id = ChainId::from_tendermint_id(tm.chain_id.as_str())
            .ok_or_else(|| HeaderError::ChainId(tm.chain_id.to_string()))?;
        let height = tm.height.value();
        let nanos = tm.time.unix_timestamp_nanos();
        if nanos % 1_000_000 != 0 {
            return Err(HeaderError::TimePrecision);
        }
        let millis = u64::try_from(nanos / 1_000_000).map_err(|_| HeaderError::Field("time"))?;
        let parent = match &tm.last_block_id {
            None => None,
            Some(id) if id.part_set_header == tendermint::block::parts::Header::default() => {
                Some(BlockId(from_tm_hash(&id.hash, "last_block_id")?))
            }
            Some(_) => return Err(HeaderError::Field("last_block_id")),
        };
        if (height == 1) == parent.is_some() {
            return Err(HeaderError::Parent {
                height,
                has_parent: parent.is_some(),
            });
        }
        let last_commit_hash = tm
            .last_commit_hash
            .as_ref()
            .map(|h| from_tm_hash(h, "last_commit_hash").map(Hash))
            .transpose()?;
        let evidence_hash = tm
            .evidence_hash
            .as_ref()
            .map(|h| from_tm_hash(h, "evidence_hash").map(Hash))
            .transpose()?;
        let state_root: [u8; 32] = tm
            .app_hash
            .as_bytes()
            .try_into()
            .map_err(|_| HeaderError::Field("app_hash"))?;
        if from_tm_hash(&tm.consensus_hash, "consensus_hash")? != execution.hash().0 {
            return Err(HeaderError::ExecutionMismatch);
        }
        let mut proposer = [0; 20];
        proposer.copy_from_slice(tm.proposer_address.as_bytes());
        Ok(Self {
            chain_id,
            height: Height(height),
            time: Timestamp(millis),
            parent,
            tx_root: Hash(from_tm_hash(
                tm.data_hash
                    .as_ref()
                    .ok_or(HeaderError::Field("data_hash"))?,
                "data_hash",
            )?),
            state_root: Hash(state_root),
            receipts_root: Hash(from_tm_hash(
                tm.last_results_hash
                    .as_ref()
                    .ok_or(HeaderError::Field("last_results_hash"))?,
                "last_results_hash",
            )?),
            validators_hash: ValidatorSetHash(from_tm_hash(
                &tm.validators_hash,
                "validators_hash",
            )?),
            next_validators_hash: ValidatorSetHash(from_tm_hash(
                &tm.next_validators_hash,
                "next_validators_hash",
            )?),
            proposer: ValidatorAddress(proposer),
            execution,
            evidence_hash,
            last_commit_hash,
        })
    }

    /// The block id: Tendermint's hash of the equivalent header.
    pub fn id(&self) -> Result<BlockId, HeaderError> {
        let tm = self.to_tendermint()?;
        let hash = tm.hash();
        let bytes: [u8; 32] = hash
            .as_bytes()
            .try_into()
            .map_err(|_| HeaderError::Field("hash"))?;
        Ok(BlockId(bytes))
    }
}
