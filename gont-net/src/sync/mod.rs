//! Block sync: a new or lagging node fetches decided blocks (header, body
//! and commit certificate) by height range from peers that run the chain.
//!
//! The network does not judge commits: [`BlockImporter::import`] is where
//! the node verifies each block (with consensus's Tendermint verification)
//! and applies it. A peer whose blocks fail there is penalised and the
//! sync goes on with another peer. The serving side answers from a
//! [`BlockSource`] the node implements over its storage.

pub(crate) mod protocol;

use std::collections::HashSet;

use gont_core::{ChainId, DecidedBlock, Height};

use crate::error::NetError;
use crate::handle::NetworkHandle;
use crate::score::Misbehaviour;
use crate::types::NodeId;

/// Where the network finds the blocks it serves to peers. Called from a
/// blocking thread, so it may read from disk.
pub trait BlockSource: Send + Sync + 'static {
    /// The decided block at `height` of `chain`, if known.
    fn decided(&self, chain: ChainId, height: Height) -> Option<DecidedBlock>;
    /// The latest decided height of `chain`, if any.
    fn latest(&self, chain: ChainId) -> Option<Height>;
}

/// A [`BlockSource`] with no blocks, for nodes that serve none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBlocks;

impl BlockSource for NoBlocks {
    fn decided(&self, _: ChainId, _: Height) -> Option<DecidedBlock> {
        None
    }
    fn latest(&self, _: ChainId) -> Option<Height> {
        None
    }
}

/// Verifies and applies fetched blocks, in height order.
pub trait BlockImporter {
    /// Why a block was refused.
    type Error: std::error::Error;
    /// The latest height already applied, if any.
    fn tip(&self) -> Option<Height>;
    /// Verifies the block (its commit, its parent link) and applies it.
    /// Called only with the block at `tip + 1`.
    fn import(&mut self, block: DecidedBlock) -> Result<(), Self::Error>;
}

/// Why catching up stopped short.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connected peer runs the chain.
    #[error("no peer runs chain {0}")]
    NoPeers(ChainId),
    /// Every peer that claimed the next block failed to deliver one that
    /// verifies.
    #[error("chain {chain}: no peer delivered a valid block {height}")]
    Stalled {
        /// The chain.
        chain: ChainId,
        /// The height that could not be obtained.
        height: Height,
    },
    /// The network task stopped.
    #[error(transparent)]
    Net(#[from] NetError),
}

/// What catching up achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatchUp {
    /// The importer's tip afterwards.
    pub tip: Option<Height>,
    /// Blocks imported.
    pub imported: u64,
}

/// Fetches and imports blocks of `chain` until the importer reaches the
/// highest tip any peer reports. Peers that answer wrongly, or whose blocks
/// the importer refuses, are penalised and not asked again in this run.
pub async fn catch_up<I: BlockImporter>(
    net: &NetworkHandle,
    chain: ChainId,
    importer: &mut I,
) -> Result<CatchUp, SyncError> {
    let mut excluded: HashSet<NodeId> = HashSet::new();
    let mut imported = 0u64;
    loop {
        let next = match importer.tip() {
            None => Height(1),
            Some(tip) => match tip.next() {
                Some(h) => h,
                None => {
                    return Ok(CatchUp {
                        tip: Some(tip),
                        imported,
                    });
                }
            },
        };
        let candidates: Vec<NodeId> = net
            .peers()
            .await?
            .into_iter()
            .filter(|p| p.chains.contains(&chain) && !excluded.contains(&p.id))
            .map(|p| p.id)
            .collect();
        if candidates.is_empty() {
            return if excluded.is_empty() {
                Err(SyncError::NoPeers(chain))
            } else {
                Err(SyncError::Stalled {
                    chain,
                    height: next,
                })
            };
        }
        let mut best: Option<(NodeId, Height)> = None;
        for peer in candidates {
            match net.latest_height(peer, chain).await {
                Ok(Some(h)) if best.is_none_or(|(_, b)| h > b) => best = Some((peer, h)),
                Ok(_) => {}
                Err(NetError::Stopped) => return Err(NetError::Stopped.into()),
                Err(e) => {
                    tracing::debug!(%peer, %e, "status request failed");
                    excluded.insert(peer);
                }
            }
        }
        let Some((peer, target)) = best else {
            // Nobody reports a height (or all failed): nothing more to get.
            return Ok(CatchUp {
                tip: importer.tip(),
                imported,
            });
        };
        if target < next {
            return Ok(CatchUp {
                tip: importer.tip(),
                imported,
            });
        }
        let blocks = match net.request_blocks_from(peer, chain, next, target).await {
            Ok(blocks) => blocks,
            Err(NetError::Stopped) => return Err(NetError::Stopped.into()),
            Err(e) => {
                tracing::debug!(%peer, %e, "block request failed");
                excluded.insert(peer);
                continue;
            }
        };
        for block in blocks {
            let height = block.block.header.height;
            if let Err(e) = importer.import(block) {
                tracing::warn!(%peer, %chain, %height, %e, "peer served a block that fails verification");
                net.penalize(peer, Misbehaviour::BadBlocks).await?;
                excluded.insert(peer);
                break;
            }
            imported = imported.saturating_add(1);
        }
    }
}

/// Checks that `blocks` answer a request for `from..=to` of `chain`: at
/// least one block, consecutive heights from `from`, none past `to`, all
/// of the chain. Whether they are *decided* is the importer's to verify.
pub(crate) fn check_range(
    blocks: &[DecidedBlock],
    chain: ChainId,
    from: Height,
    to: Height,
) -> Result<(), String> {
    if blocks.is_empty() {
        return Err("no blocks".into());
    }
    let mut expected = Some(from);
    for b in blocks {
        let header = &b.block.header;
        if header.chain_id != chain {
            return Err(format!("block of chain {}", header.chain_id));
        }
        if Some(header.height) != expected || header.height > to {
            return Err(format!(
                "height {} where {:?} was due",
                header.height, expected
            ));
        }
        if b.commit.height != header.height {
            return Err(format!(
                "commit of height {} for block {}",
                b.commit.height, header.height
            ));
        }
        expected = header.height.next();
    }
    Ok(())
}
