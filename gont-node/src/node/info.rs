//! What the node tells the RPC about itself: `gont_chains`,
//! `gont_validators`, `gont_status` and `net_peerCount`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use gont_core::{ChainId, Height};
use serde_json::{Value, json};

use crate::backend::ChainBackend;
use crate::rpc::backend::EthBackend;
use crate::rpc::error::RpcError;
use crate::rpc::{ChainInfo, NodeInfo, ValidatorInfo};

/// What `gont_chains`, `gont_validators` and `gont_status` report.
pub(super) struct Info {
    pub(super) genesis: String,
    pub(super) moniker: String,
    pub(super) node_id: String,
    pub(super) peers: Arc<AtomicUsize>,
    pub(super) chains: Vec<Arc<RunningChainInfo>>,
}

pub(super) struct RunningChainInfo {
    pub(super) chain_id: ChainId,
    pub(super) name: String,
    pub(super) service_id: Option<u32>,
    pub(super) rpc: Option<SocketAddr>,
    pub(super) validator: bool,
    pub(super) backend: Arc<ChainBackend>,
    /// Connected consensus peers, as last counted by `count_consensus_peers`.
    pub(super) consensus_peers: AtomicUsize,
    /// The chain's configured consensus peers.
    pub(super) configured_peers: usize,
    /// The last height whose commit carries this node's precommit.
    pub(super) last_signed: Arc<AtomicU64>,
    /// This node's consensus address on the chain, once consensus starts.
    pub(super) signer: Arc<std::sync::OnceLock<gont_core::ValidatorAddress>>,
}

impl RunningChainInfo {
    /// The set deciding the next block.
    pub(super) fn current_set(&self) -> Option<gont_core::ValidatorSet> {
        self.backend
            .latest()
            .and_then(|h| self.backend.validator_set_at(Height(h.0 + 1)))
            .ok()
    }
}

impl NodeInfo for Info {
    fn chains(&self) -> Vec<ChainInfo> {
        self.chains
            .iter()
            .map(|c| ChainInfo {
                kind: if c.service_id.is_some() {
                    "service"
                } else {
                    "space"
                },
                name: c.name.clone(),
                chain_id: c.chain_id,
                service_id: c.service_id,
                rpc: c.rpc.map(|a| format!("http://{a}")),
                height: c.backend.latest().unwrap_or(Height(0)),
                validator: c.validator,
            })
            .collect()
    }

    fn validators(&self, chain: ChainId) -> Option<Result<Vec<ValidatorInfo>, RpcError>> {
        let c = self.chains.iter().find(|c| c.chain_id == chain)?;
        Some(c.backend.validator_infos())
    }

    fn genesis(&self) -> Option<String> {
        Some(self.genesis.clone())
    }

    fn peer_count(&self) -> usize {
        self.peers.load(Ordering::Relaxed)
    }

    fn status(&self) -> Value {
        json!({
            "moniker": self.moniker,
            "nodeId": self.node_id,
            "version": env!("CARGO_PKG_VERSION"),
            "peers": self.peers.load(Ordering::Relaxed),
            "chains": self.chains.iter().map(|c| (c, c.current_set())).map(|(c, set)| json!({
                "chainId": c.chain_id,
                "name": c.name,
                "height": c.backend.latest().map(|h| h.0).unwrap_or(0),
                "validator": c.validator,
                "inSet": c.signer.get().is_some_and(|me| {
                    set.as_ref().is_some_and(|s| s.get(me).is_some())
                }),
                "validators": set.as_ref().map(gont_core::ValidatorSet::len),
                "syncing": c.backend.syncing().is_some(),
                "consensusPeers": c.consensus_peers.load(Ordering::Relaxed),
                "configuredPeers": c.configured_peers,
                "lastSigned": c.last_signed.load(Ordering::Relaxed),
                "mempool": c.backend.pool_len(),
                "halted": c.backend.halted(),
            })).collect::<Vec<_>>(),
        })
    }
}
