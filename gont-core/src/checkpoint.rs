//! Checkpoints: what a service anchors into GONT Space so that anyone who
//! follows the Space can verify the service.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::block::CommitCertificate;
use crate::encoding::encode;
use crate::header::{Header, HeaderError};
use crate::primitives::{BlockId, ChainId, Hash, Height, ServiceId};
use crate::validator_set::ValidatorSetHash;

/// A service's decided block, summarised with the commit that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Checkpoint {
    /// The service.
    pub service: ServiceId,
    /// The service chain's chain id.
    pub chain_id: ChainId,
    /// The checkpointed height.
    pub height: Height,
    /// The block at that height.
    pub block_id: BlockId,
    /// The service's state commitment after that block.
    pub state_root: Hash,
    /// The set that decided the block.
    pub validators_hash: ValidatorSetHash,
    /// The set that decides the next block.
    pub next_validators_hash: ValidatorSetHash,
    /// The service validators' commit of the block.
    pub commit: CommitCertificate,
}

#[derive(BorshSerialize)]
struct CheckpointClaim<'a> {
    service: ServiceId,
    chain_id: ChainId,
    height: Height,
    block_id: &'a BlockId,
    state_root: &'a Hash,
    validators_hash: &'a ValidatorSetHash,
    next_validators_hash: &'a ValidatorSetHash,
}

impl Checkpoint {
    /// The checkpoint of a service block.
    pub fn new(
        service: ServiceId,
        header: &Header,
        commit: CommitCertificate,
    ) -> Result<Self, HeaderError> {
        Ok(Self {
            service,
            chain_id: header.chain_id,
            height: header.height,
            block_id: header.id()?,
            state_root: header.state_root,
            validators_hash: header.validators_hash,
            next_validators_hash: header.next_validators_hash,
            commit,
        })
    }

    /// The checkpoint's id: blake3 over what it claims, without the commit,
    /// so that two commits of one block (different signer subsets) anchor
    /// the same claim.
    pub fn id(&self) -> Hash {
        let claim = CheckpointClaim {
            service: self.service,
            chain_id: self.chain_id,
            height: self.height,
            block_id: &self.block_id,
            state_root: &self.state_root,
            validators_hash: &self.validators_hash,
            next_validators_hash: &self.next_validators_hash,
        };
        Hash::digest_in("gont checkpoint v1", &encode(&claim))
    }
}
