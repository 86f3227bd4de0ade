//! The execution boundary, modelled on Ethereum's Engine API: consensus
//! sees only [`ExecutionEngine`], never the VM behind it.
//!
//! | Engine API | here |
//! |---|---|
//! | `engine_getPayload` after `forkchoiceUpdated` with attributes | [`ExecutionEngine::build_payload`] |
//! | `engine_newPayload` | [`ExecutionEngine::new_payload`] |
//! | `engine_forkchoiceUpdated` | [`ExecutionEngine::forkchoice_updated`] |
//!
//! Finality is instant, so `head`, `safe` and `finalized` are the same block
//! once consensus decides; the three are kept so that the boundary reads as
//! Ethereum's. It is an in-process trait with GONT's own payload types, not
//! the Engine API itself: nothing serves it over HTTP (not built yet).

use serde::{Deserialize, Serialize};

use crate::block::{Block, CommitCertificate, RawTransaction};
use crate::evidence::Evidence;
use crate::primitives::{Address, BlockId, Height, Timestamp};
use crate::validator_set::{ValidatorAddress, ValidatorSet, ValidatorSetHash};

/// What consensus fixes about the block to build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadAttributes {
    /// The block's time.
    pub timestamp: Timestamp,
    /// The proposing validator.
    pub proposer: ValidatorAddress,
    /// The account that receives priority fees (the EVM's `COINBASE`).
    pub fee_recipient: Address,
    /// The set deciding this block. The next block's set is the engine's
    /// to announce: it follows from the staking state after this block
    /// ([`ExecutionEngine::validator_set`]).
    pub validators_hash: ValidatorSetHash,
    /// Evidence of misbehaviour to include (as the Engine API's
    /// withdrawals: consensus's to choose, the engine's to execute). The
    /// engine leaves out any that does not hold or is already punished.
    pub evidence: Vec<Evidence>,
    /// The commit that decided the parent (none for the first block): the
    /// block carries it, and the staking contract counts who signed it.
    pub last_commit: Option<CommitCertificate>,
}

/// The verdict on a proposed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayloadStatus {
    /// Re-executed and every header field matched.
    Valid,
    /// Not a valid block; consensus must not vote for it.
    Invalid {
        /// Why, for logs and peers.
        reason: String,
    },
}

/// The chain's new head as consensus sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkchoiceState {
    /// The newest block.
    pub head: BlockId,
    /// The newest block that will not be reverted barring a safety fault.
    pub safe: BlockId,
    /// The newest decided block.
    pub finalized: BlockId,
}

/// An execution engine for one chain.
pub trait ExecutionEngine {
    /// An internal failure (storage, I/O): not a verdict on a block.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds a block on `parent` (`None` for the first block after
    /// genesis) from `transactions` in order, leaving out those that cannot
    /// be included, and returns it with every header field filled. The
    /// engine keeps its execution so that [`Self::forkchoice_updated`] can
    /// commit it.
    fn build_payload(
        &mut self,
        parent: Option<BlockId>,
        attributes: PayloadAttributes,
        transactions: &[RawTransaction],
    ) -> Result<Block, Self::Error>;

    /// Re-executes a proposed block and checks every header field.
    fn new_payload(&mut self, block: &Block) -> Result<PayloadStatus, Self::Error>;

    /// Makes `state.finalized`, built or validated earlier, the committed
    /// head, persisting its execution.
    fn forkchoice_updated(&mut self, state: ForkchoiceState) -> Result<(), Self::Error>;

    /// The validator set that decides block `height`, as the committed
    /// state after block `height − 1` holds it (the staking contract's
    /// active set; what a consensus client reads from its execution client
    /// with a call). `None` when this engine's chain keeps its genesis set
    /// (no staking contract); an error when block `height − 1` is not
    /// committed yet.
    fn validator_set(&self, height: Height) -> Result<Option<ValidatorSet>, Self::Error>;
}
