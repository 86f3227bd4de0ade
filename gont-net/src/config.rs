//! What a node's network is told at start.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use gont_core::ChainId;

use crate::identity::NodeKey;
use crate::types::NetAddr;

/// The network's configuration: identity, addresses, chains and limits.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The node key (see [`NodeKey::load_or_create`]).
    pub key: NodeKey,
    /// Where to listen. Port 0 lets the system choose; the bound addresses
    /// are read back with [`crate::NetworkHandle::listen_addrs`].
    pub listen: Vec<NetAddr>,
    /// Peers to dial at start (and again whenever the node has no peer).
    /// Discovery (identify and Kademlia) finds the rest from them.
    pub bootstrap: Vec<NetAddr>,
    /// The chains this node runs: it subscribes to their transaction and
    /// checkpoint topics and serves their blocks.
    pub chains: Vec<ChainId>,
    /// Chains whose checkpoints this node follows without running them.
    /// The node sets none yet: nothing publishes checkpoints (anchoring is
    /// not built).
    pub checkpoint_chains: Vec<ChainId>,
    /// Size, rate and connection limits.
    pub limits: Limits,
    /// Peer scoring.
    pub scoring: ScoreConfig,
    /// Capacity of the event channel. When the application falls this far
    /// behind, further gossip is dropped (and reported as ignored) rather
    /// than stalling the network task.
    pub event_capacity: usize,
    /// How many peers discovery dials towards.
    pub target_peers: usize,
}

impl NetworkConfig {
    /// A configuration listening on `0.0.0.0` at a system-chosen port, with
    /// default limits and no chains.
    pub fn new(key: NodeKey) -> Self {
        Self {
            key,
            listen: vec![NetAddr::tcp(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)],
            bootstrap: Vec::new(),
            chains: Vec::new(),
            checkpoint_chains: Vec::new(),
            limits: Limits::default(),
            scoring: ScoreConfig::default(),
            event_capacity: 4096,
            target_peers: 32,
        }
    }
}

/// A token-bucket rate: `per_second` on average, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Sustained units per second.
    pub per_second: u64,
    /// Most units at once.
    pub burst: u64,
}

/// Limits that keep one peer from costing a node more than its share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest transaction gossip payload, in bytes.
    pub max_transaction_size: usize,
    /// Largest checkpoint gossip payload, in bytes.
    pub max_checkpoint_size: usize,
    /// Gossip messages accepted per peer.
    pub gossip_messages: Rate,
    /// Gossip bytes accepted per peer.
    pub gossip_bytes: Rate,
    /// Established connections in total.
    pub max_connections: u32,
    /// Established connections to one peer.
    pub max_connections_per_peer: u32,
    /// Connections being set up (inbound and outbound each).
    pub max_pending_connections: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // EIP-2718 transactions are bounded by geth's 128 KiB pool limit.
            max_transaction_size: 128 * 1024,
            max_checkpoint_size: 1024 * 1024,
            gossip_messages: Rate {
                per_second: 2_000,
                burst: 4_000,
            },
            gossip_bytes: Rate {
                per_second: 32 * 1024 * 1024,
                burst: 64 * 1024 * 1024,
            },
            max_connections: 128,
            max_connections_per_peer: 2,
            max_pending_connections: 32,
        }
    }
}

/// How misbehaviour lowers a peer's score, and when it is banned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreConfig {
    /// A peer whose score falls to this or below is disconnected and banned.
    pub ban_threshold: i64,
    /// Points a peer recovers per second of good behaviour, up to 0.
    pub recovery_per_second: i64,
    /// How long a ban lasts.
    pub ban_duration: Duration,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            ban_threshold: -100,
            recovery_per_second: 1,
            ban_duration: Duration::from_secs(600),
        }
    }
}
