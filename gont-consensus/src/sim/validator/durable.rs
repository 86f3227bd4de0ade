//! What a simulated node keeps across crashes (its decided blocks, as
//! gont-core's `DecidedStore`) and the production driver's state built
//! over it.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gont_core::{DecidedBlock, DecidedStore, ExecutionEngine, ForkchoiceState, RawTransaction};

use crate::context::GontContext;
use crate::driver::app::{Clock, Io, State};
use crate::driver::proposals::{Proposals, Remembered};
use crate::driver::{DriverConfig, Host};
use crate::epoch::ValidatorSchedule;
use crate::signing::PrivateKey;
use crate::types::ValueId;

use crate::sim::engine::SimEngine;

/// A node's durable decided blocks, shared by its incarnations (its disk):
/// gont-core's [`DecidedStore`] for the driver.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain(Arc<Mutex<ChainState>>);

#[derive(Debug, Default)]
struct ChainState {
    decided: BTreeMap<u64, DecidedBlock>,
    /// The highest height executed and committed (0: none).
    committed: u64,
}

/// A second, different block recorded at a decided height.
#[derive(Debug, thiserror::Error)]
#[error("a different block is already decided at height {0}")]
pub(crate) struct Conflict(u64);

impl Chain {
    fn with<T>(&self, f: impl FnOnce(&mut ChainState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The committed blocks, in order.
    pub(super) fn committed_blocks(&self) -> Vec<DecidedBlock> {
        self.with(|c| {
            c.decided
                .range(..=c.committed)
                .map(|(_, d)| d.clone())
                .collect()
        })
    }
}

impl DecidedStore for Chain {
    type Error = Conflict;

    fn committed_head(&self) -> Result<Option<gont_core::Header>, Conflict> {
        Ok(self.with(|c| c.decided.get(&c.committed).map(|d| d.block.header.clone())))
    }

    fn decided(&self, height: gont_core::Height) -> Result<Option<DecidedBlock>, Conflict> {
        Ok(self.with(|c| c.decided.get(&height.0).cloned()))
    }

    fn decided_height(&self) -> Result<Option<gont_core::Height>, Conflict> {
        Ok(self.with(|c| c.decided.keys().next_back().map(|h| gont_core::Height(*h))))
    }

    fn put_decided(&self, decided: &DecidedBlock) -> Result<(), Conflict> {
        let height = decided.block.header.height.0;
        self.with(|c| match c.decided.get(&height) {
            Some(known) if known.block != decided.block => Err(Conflict(height)),
            _ => {
                c.decided.insert(height, decided.clone());
                Ok(())
            }
        })
    }
}

/// The size of a full block's transactions.
const FILL_TX_BYTES: usize = 1024;

/// The node side: one transaction per proposal (or with `fill`, 1 KiB
/// ones up to the block's byte limit), and the committed height recorded
/// durably once a block is executed.
pub(super) struct SimHost {
    index: usize,
    built: u64,
    chain: Chain,
    fill: bool,
}

impl Host for SimHost {
    fn transactions(&mut self, max_bytes: u64, _: u64) -> Vec<RawTransaction> {
        self.built += 1;
        let tag = format!("tx v{} n{}", self.index, self.built).into_bytes();
        if !self.fill {
            return vec![RawTransaction(tag.into())];
        }
        let count = usize::try_from(max_bytes).unwrap_or(usize::MAX) / FILL_TX_BYTES;
        (0..count)
            .map(|i| {
                let mut tx = tag.clone();
                tx.extend_from_slice(&(i as u64).to_be_bytes());
                tx.resize(FILL_TX_BYTES, 0xAB);
                RawTransaction(tx.into())
            })
            .collect()
    }

    fn committed(&mut self, decided: &DecidedBlock, _: Duration) {
        let height = decided.block.header.height.0;
        self.chain.with(|c| c.committed = c.committed.max(height));
    }
}

pub(super) type App = State<SimEngine, Chain, SimHost>;

/// The production driver's state of node `index`, over its durable store
/// and proposals; `committed` replays those blocks into a fresh engine (a
/// restart: the engine's own state is its committed chain).
#[allow(clippy::too_many_arguments)]
pub(super) fn new_app(
    ctx: &GontContext,
    key: &PrivateKey,
    schedule: &Arc<ValidatorSchedule>,
    index: usize,
    chain: &Chain,
    proposals: &Remembered,
    clock: &Arc<AtomicU64>,
    committed: Option<Vec<DecidedBlock>>,
    fill_blocks: bool,
) -> App {
    let mut engine = SimEngine::new(ctx.chain_id(), schedule.clone());
    for decided in committed.unwrap_or_default() {
        // Re-validating our own committed chain cannot fail; a failure
        // would show as a validity or liveness violation.
        let _ = engine.new_payload(&decided.block);
        if let Ok(id) = decided.block.header.id() {
            let _ = engine.forkchoice_updated(ForkchoiceState {
                head: id,
                safe: id,
                finalized: id,
            });
        }
    }
    // Unused: the simulation has no disk, sockets or peers list.
    let config = DriverConfig::new(
        std::path::PathBuf::new(),
        format!("sim-{index}"),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        Vec::new(),
    );
    let io = Io {
        engine,
        store: chain.clone(),
        host: SimHost {
            index,
            built: 0,
            chain: chain.clone(),
            fill: fill_blocks,
        },
        proposals: Proposals::in_memory(proposals.clone()),
        clock: Clock::Virtual(clock.clone()),
    };
    State::new(
        ctx.clone(),
        schedule.set_at(1).clone(),
        key.clone(),
        &config,
        io,
    )
}

pub(super) fn forkchoice(id: ValueId) -> ForkchoiceState {
    ForkchoiceState {
        head: id.block,
        safe: id.block,
        finalized: id.block,
    }
}
