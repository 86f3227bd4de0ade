//! Checkpoints: what a service anchors into GONT Space so that anyone who
//! follows the Space can verify the service.
//!
//! A checkpoint is a decided service block's header with its commit and
//! validator sets, plus what the Space's anchor registry needs to verify it
//! from what it already trusts: the anchored height it starts from (0: the
//! service's genesis set, recorded in the Space genesis) and that height's
//! next validator set, of which the registry keeps only the hash (as an IBC
//! client update carries its trusted validators).

use borsh::{BorshDeserialize, BorshSerialize};

use crate::block::CommitCertificate;
use crate::encoding::encode;
use crate::header::{Header, HeaderError};
#[cfg(feature = "light")]
use crate::light::{self, LightBlock, LightError};
use crate::primitives::{BlockId, ChainId, Hash, Height, ServiceId};
use crate::validator_set::ValidatorSet;

/// A service's decided block, with the commit that decided it and what
/// verifies it from an anchored height.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Checkpoint {
    /// The service.
    pub service: ServiceId,
    /// The checkpointed block's header.
    pub header: Header,
    /// The service validators' commit of the block.
    pub commit: CommitCertificate,
    /// The set that decided the block (its hash is the header's
    /// `validators_hash`).
    pub validators: ValidatorSet,
    /// The set that decides the next block (the header's
    /// `next_validators_hash`).
    pub next_validators: ValidatorSet,
    /// The anchored height this checkpoint is verified from; 0 for the
    /// service's genesis.
    pub trusted_height: Height,
    /// The next validator set of the trusted height (the genesis set at 0).
    pub trusted_next_validators: ValidatorSet,
}

#[derive(BorshSerialize)]
struct CheckpointClaim<'a> {
    service: ServiceId,
    chain_id: ChainId,
    height: Height,
    block_id: &'a BlockId,
    state_root: &'a Hash,
}

impl Checkpoint {
    /// The service chain.
    pub fn chain_id(&self) -> ChainId {
        self.header.chain_id
    }

    /// The checkpointed height.
    pub fn height(&self) -> Height {
        self.header.height
    }

    /// The checkpointed block.
    pub fn block_id(&self) -> Result<BlockId, HeaderError> {
        self.header.id()
    }

    /// The checkpoint's id: blake3 over what it claims (service, chain,
    /// height, block, state root), without the commit or the trusted
    /// height, so that two commits of one block anchor the same claim.
    pub fn id(&self) -> Result<Hash, HeaderError> {
        let claim = CheckpointClaim {
            service: self.service,
            chain_id: self.header.chain_id,
            height: self.header.height,
            block_id: &self.header.id()?,
            state_root: &self.header.state_root,
        };
        Ok(Hash::digest_in("gont checkpoint v1", &encode(&claim)))
    }

    /// The checkpointed block as a light block.
    #[cfg(feature = "light")]
    pub fn light_block(&self) -> Result<LightBlock, LightError> {
        light::light_block(
            &self.header,
            &self.commit,
            &self.validators,
            &self.next_validators,
        )
    }
}
