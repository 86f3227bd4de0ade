//! A small deterministic execution engine for the simulation: blocks of
//! opaque transactions, a state root chained by blake3, and a rule that
//! rejects any block containing the [`POISON`] transaction (what byzantine
//! proposers use to propose invalid blocks). Its validator sets are the
//! simulation's [`ValidatorSchedule`], fixed before the run, which stands
//! in for the staking state of a real engine: each header announces the
//! next height's set.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::epoch::ValidatorSchedule;

use gont_core::{
    Block, BlockId, Body, ChainId, ExecutionEngine, ExecutionFields, ForkchoiceState, Hash, Header,
    Height, PayloadAttributes, PayloadStatus, RawTransaction,
};

/// A transaction every honest engine refuses.
pub const POISON: &[u8] = b"poison";

/// An internal failure of the sim engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimEngineError {
    /// Building on or committing a block it never saw.
    #[error("unknown block {0}")]
    UnknownBlock(BlockId),
    /// A header that does not map onto Tendermint's.
    #[error(transparent)]
    Header(#[from] gont_core::HeaderError),
}

/// The sim's execution engine of one node.
#[derive(Debug, Clone)]
pub struct SimEngine {
    chain_id: ChainId,
    schedule: Arc<ValidatorSchedule>,
    /// Blocks built or validated, by id.
    known: BTreeMap<BlockId, Header>,
    head: Option<Header>,
}

fn state_root(parent: Option<&Header>, body: &Body) -> Hash {
    let mut bytes = parent.map(|p| p.state_root.0.to_vec()).unwrap_or_default();
    bytes.extend_from_slice(&body.tx_root().0);
    Hash::digest_in("gont sim state v1", &bytes)
}

impl SimEngine {
    /// An engine at genesis, whose sets follow `schedule`.
    pub const fn new(chain_id: ChainId, schedule: Arc<ValidatorSchedule>) -> Self {
        Self {
            chain_id,
            schedule,
            known: BTreeMap::new(),
            head: None,
        }
    }

    /// The committed head.
    pub const fn head(&self) -> Option<&Header> {
        self.head.as_ref()
    }

    fn expected_header(&self, attributes: &PayloadAttributes, body: &Body) -> Header {
        let parent = self.head.as_ref();
        let height = parent.map_or(1, |p| p.height.0 + 1);
        let min_time = parent.map_or(0, |p| p.time.0 + 1);
        Header {
            chain_id: self.chain_id,
            height: Height(height),
            time: gont_core::Timestamp(attributes.timestamp.0.max(min_time)),
            parent: parent.and_then(|p| p.id().ok()),
            tx_root: body.tx_root(),
            state_root: state_root(parent, body),
            receipts_root: body.tx_root(),
            validators_hash: attributes.validators_hash,
            next_validators_hash: self.schedule.set_at(height + 1).hash(),
            proposer: attributes.proposer,
            execution: ExecutionFields::default(),
            evidence_hash: body.evidence_hash(),
            last_commit_hash: body.last_commit_hash(),
        }
    }
}

impl ExecutionEngine for SimEngine {
    type Error = SimEngineError;

    fn build_payload(
        &mut self,
        parent: Option<BlockId>,
        attributes: PayloadAttributes,
        transactions: &[RawTransaction],
    ) -> Result<Block, SimEngineError> {
        let head = self.head.as_ref().map(Header::id).transpose()?;
        if parent != head {
            return Err(SimEngineError::UnknownBlock(parent.unwrap_or_default()));
        }
        let body = Body {
            transactions: transactions.to_vec(),
            evidence: Vec::new(),
            last_commit: attributes.last_commit.clone(),
        };
        let header = self.expected_header(&attributes, &body);
        self.known.insert(header.id()?, header.clone());
        Ok(Block { header, body })
    }

    fn new_payload(&mut self, block: &Block) -> Result<PayloadStatus, SimEngineError> {
        let invalid = |reason: &str| {
            Ok(PayloadStatus::Invalid {
                reason: reason.to_owned(),
            })
        };
        if block
            .body
            .transactions
            .iter()
            .any(|t| t.0.as_ref() == POISON)
        {
            return invalid("poison transaction");
        }
        let h = &block.header;
        let attributes = PayloadAttributes {
            timestamp: h.time,
            proposer: h.proposer,
            fee_recipient: gont_core::Address::ZERO,
            validators_hash: h.validators_hash,
            evidence: block.body.evidence.clone(),
            last_commit: block.body.last_commit.clone(),
        };
        if self.expected_header(&attributes, &block.body) != *h {
            return invalid("header does not follow from the parent");
        }
        self.known.insert(h.id()?, h.clone());
        Ok(PayloadStatus::Valid)
    }

    /// The schedule's set of `height`.
    fn validator_set(
        &self,
        height: Height,
    ) -> Result<Option<gont_core::ValidatorSet>, SimEngineError> {
        Ok(Some(self.schedule.set_at(height.0).core().clone()))
    }

    fn forkchoice_updated(&mut self, state: ForkchoiceState) -> Result<(), SimEngineError> {
        let header = self
            .known
            .get(&state.finalized)
            .cloned()
            .ok_or(SimEngineError::UnknownBlock(state.finalized))?;
        let height = header.height;
        self.head = Some(header);
        self.known.retain(|_, h| h.height > height);
        Ok(())
    }
}
