//! The plain values Malachite is generic over: height, validator address,
//! the proposed value and its id.
//!
//! Malachite's traits are foreign and so are gont-core's types, so each is a
//! newtype here (the orphan rule). The value is a whole [`Block`]; its id is
//! the block id together with the header time, because a precommit's
//! tendermint-rs sign bytes contain a timestamp and Malachite rebuilds votes
//! from `(height, round, value id, address)` alone (see [`crate::signing`]).

use std::fmt;
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use gont_core::{Block, BlockId, HeaderError, Timestamp, ValidatorAddress};
use malachitebft_core_types as mc;

/// A height of one chain, from 1.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl Height {
    /// As gont-core's type.
    pub const fn to_core(self) -> gont_core::Height {
        gont_core::Height(self.0)
    }
}

impl From<gont_core::Height> for Height {
    fn from(h: gont_core::Height) -> Self {
        Self(h.0)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Self(0);
    const INITIAL: Self = Self(1);

    fn increment_by(&self, n: u64) -> Self {
        Self(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Self)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's Tendermint address (SHA-256 of its key, first 20 bytes).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Address(pub ValidatorAddress);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl mc::Address for Address {}

/// What votes are cast for: the block id and the block's header time.
///
/// The time is here so that a precommit's canonical Tendermint bytes (which
/// include a timestamp) are a pure function of the vote: every precommit for
/// a block carries that block's header time.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct ValueId {
    /// Tendermint's header hash of the block.
    pub block: BlockId,
    /// The block's header time.
    pub time: Timestamp,
}

impl ValueId {
    /// The least id (for range bounds).
    pub const MIN: Self = Self {
        block: BlockId([0; 32]),
        time: Timestamp(0),
    };
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.block, self.time.as_millis())
    }
}

/// A proposed block, with its id computed once.
///
/// Cloning is cheap (the block is shared). Decoding recomputes the id, so a
/// value read from the network or the WAL always matches its block.
#[derive(Clone, Debug)]
pub struct Value {
    id: ValueId,
    block: Arc<Block>,
}

impl Value {
    /// The value of a block: fails if the header does not map onto
    /// Tendermint's (so it has no id).
    pub fn new(block: Block) -> Result<Self, HeaderError> {
        let id = ValueId {
            block: block.header.id()?,
            time: block.header.time,
        };
        Ok(Self {
            id,
            block: Arc::new(block),
        })
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The id.
    pub const fn id(&self) -> ValueId {
        self.id
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl BorshSerialize for Value {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        self.block.as_ref().serialize(writer)
    }
}

impl BorshDeserialize for Value {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let block = Block::deserialize_reader(reader)?;
        Self::new(block)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))
    }
}

impl mc::Value for Value {
    type Id = ValueId;

    fn id(&self) -> ValueId {
        self.id
    }
}
