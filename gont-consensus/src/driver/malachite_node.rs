//! What Malachite's `start_engine` asks of a node: its keys, home directory
//! and configuration. GONT starts engines through [`super::start`], so the
//! CLI-oriented parts of Malachite's `Node` trait (`start`, `run`,
//! `load_genesis`) only report that.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, P2pConfig, PubSubProtocol, TimeoutConfig, ValuePayload,
    ValueSyncConfig,
};
use malachitebft_app_channel::app::events::{RxEvent, TxEvent};
use malachitebft_app_channel::app::node::{Node, NodeConfig, NodeHandle};
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_core_consensus::Multiaddr;
use serde::{Deserialize, Serialize};

use crate::context::GontContext;
use crate::signing::{PrivateKey, Signer};
use crate::types::Address;

use super::DriverConfig;

/// Malachite's configuration for one chain's engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
}

fn tcp(addr: SocketAddr) -> Result<Multiaddr, String> {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) => format!("/ip4/{ip}"),
        std::net::IpAddr::V6(ip) => format!("/ip6/{ip}"),
    };
    format!("{ip}/tcp/{}", addr.port())
        .parse()
        .map_err(|e| format!("{addr}: {e}"))
}

/// The consensus network of a GONT chain as Malachite's network actor
/// takes it: listening on `listen`, dialling and re-dialling `peers`,
/// gossipsub, no discovery (a chain's peers are listed; discovery would
/// also find other chains' swarms, whose topics have the same names).
/// Also for tools and tests that join a chain's consensus network with
/// Malachite's own network actor.
pub fn network_config(listen: SocketAddr, peers: &[SocketAddr]) -> Result<P2pConfig, String> {
    Ok(P2pConfig {
        listen_addr: tcp(listen)?,
        persistent_peers: peers.iter().copied().map(tcp).collect::<Result<_, _>>()?,
        discovery: DiscoveryConfig {
            enabled: false,
            ..DiscoveryConfig::default()
        },
        protocol: PubSubProtocol::default(),
        ..P2pConfig::default()
    })
}

/// The key of a node, as Malachite's `Node` trait passes it around.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct KeyFile {
    seed: [u8; 32],
}

/// A [`Node`] for `start_engine`.
#[derive(Clone)]
pub(super) struct GontNode {
    ctx: GontContext,
    key: PrivateKey,
    network_secret: [u8; 32],
    home: PathBuf,
    config: EngineConfig,
}

impl GontNode {
    pub(super) fn new(
        ctx: GontContext,
        key: PrivateKey,
        config: &DriverConfig,
    ) -> Result<Self, String> {
        let t = ctx.timeouts();
        let timeouts = TimeoutConfig {
            timeout_propose: t.propose,
            timeout_propose_delta: t.propose_delta,
            timeout_prevote: t.prevote,
            timeout_prevote_delta: t.prevote_delta,
            timeout_precommit: t.precommit,
            timeout_precommit_delta: t.precommit_delta,
            timeout_rebroadcast: t.propose + t.prevote + t.precommit,
        };
        let p2p = network_config(config.listen, &config.peers)?;
        let value_sync = ValueSyncConfig {
            enabled: true,
            status_update_interval: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            ..ValueSyncConfig::default()
        };
        Ok(Self {
            config: EngineConfig {
                moniker: config.moniker.clone(),
                consensus: ConsensusConfig {
                    timeouts,
                    p2p,
                    value_payload: ValuePayload::PartsOnly,
                    queue_capacity: 0,
                },
                value_sync,
            },
            network_secret: config.network_secret.unwrap_or_else(|| key.to_seed()),
            ctx,
            key,
            home: config.home.clone(),
        })
    }

    pub(super) const fn config(&self) -> &EngineConfig {
        &self.config
    }
}

/// The handle type Malachite's trait names; GONT's is [`super::DriverHandle`].
pub(super) struct Handle(TxEvent<GontContext>);

#[async_trait::async_trait]
impl NodeHandle<GontContext> for Handle {
    fn subscribe(&self) -> RxEvent<GontContext> {
        self.0.subscribe()
    }

    async fn kill(&self, _reason: Option<String>) -> eyre::Result<()> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl Node for GontNode {
    type Context = GontContext;
    type Config = EngineConfig;
    type Genesis = ();
    type PrivateKeyFile = KeyFile;
    type SigningProvider = Signer;
    type NodeHandle = Handle;

    async fn start(&self) -> eyre::Result<Handle> {
        Err(eyre::eyre!(
            "GONT starts engines with gont_consensus::driver::start"
        ))
    }

    async fn run(self) -> eyre::Result<()> {
        Err(eyre::eyre!(
            "GONT starts engines with gont_consensus::driver::start"
        ))
    }

    fn get_home_dir(&self) -> PathBuf {
        self.home.clone()
    }

    fn load_config(&self) -> eyre::Result<EngineConfig> {
        Ok(self.config.clone())
    }

    fn get_address(&self, key: &gont_core::ConsensusKey) -> Address {
        Address(key.address())
    }

    fn get_public_key(&self, key: &PrivateKey) -> gont_core::ConsensusKey {
        key.public_key()
    }

    fn get_keypair(&self, _: PrivateKey) -> Keypair {
        // The consensus swarm's identity is derived from the node's network
        // secret (the validator key's seed when none is given) and the
        // chain, so that it differs per chain and from gont-net's.
        let mut material = self.network_secret.to_vec();
        material.extend_from_slice(&self.ctx.chain_id().0.to_le_bytes());
        let seed = blake3::derive_key("gont consensus p2p identity v1", &material);
        match Keypair::ed25519_from_bytes(seed) {
            Ok(keypair) => keypair,
            Err(e) => unreachable_key(&e),
        }
    }

    fn load_private_key(&self, file: KeyFile) -> PrivateKey {
        PrivateKey::from_seed(file.seed)
    }

    fn load_private_key_file(&self) -> eyre::Result<KeyFile> {
        Ok(KeyFile {
            seed: self.key.to_seed(),
        })
    }

    fn load_genesis(&self) -> eyre::Result<()> {
        Ok(())
    }

    fn get_signing_provider(&self, key: PrivateKey) -> Signer {
        Signer::new(self.ctx.clone(), key)
    }
}

/// `ed25519_from_bytes` fails only for a length other than 32.
#[allow(clippy::panic)]
fn unreachable_key(e: &dyn std::fmt::Display) -> ! {
    panic!("a 32-byte ed25519 seed is always a key: {e}")
}
