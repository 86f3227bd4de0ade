//! The node's libp2p layer: everything that travels between GONT nodes
//! outside Malachite's consensus messages (votes and proposals run on
//! Malachite's own network).
//!
//! Good starting points:
//! - [`Network::spawn`] starts the network from a [`NetworkConfig`], and
//!   returns a [`NetworkHandle`] and a channel of [`NetworkEvent`]s. No
//!   libp2p type crosses that boundary.
//! - [`NetworkHandle::publish_tx`], [`NetworkHandle::report`]: transaction
//!   gossip on per-chain topics ([`Topic`]), judged by the application
//!   before it is forwarded.
//! - [`NodeKey`]: the node's ed25519 network key, kept in the data
//!   directory, distinct from any validator key.
//!
//! The stack is TCP + Noise + Yamux; discovery is a bootstrap list,
//! identify and a GONT Kademlia DHT. The bootstrap peers are kept
//! connected: each is re-dialled with bounded exponential backoff whenever
//! it has no connection. Limits: a size limit per topic, token
//! buckets per peer, connection limits, and a peer score that bans peers
//! sending undecodable, oversized or invalid messages.
//!
//! This crate does not validate transactions: the node judges each
//! gossiped message (the mempool) and reports a [`Verdict`], so the crate
//! depends on `gont-core` alone. It carries no blocks: a node catches up by
//! Malachite's value sync on its consensus network.
//!
//! Not built yet: the node gossips no checkpoints.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod addrs;
mod behaviour;
mod config;
mod error;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
mod handle;
mod identity;
mod rate;
mod redial;
mod score;
mod service;
mod topic;
mod types;

pub use config::{Limits, NetworkConfig, Rate, ScoreConfig};
pub use error::NetError;
pub use handle::{Network, NetworkEvent, NetworkHandle};
pub use identity::{IdentityError, NODE_KEY_FILE, NodeKey};
pub use score::Misbehaviour;
pub use topic::{Topic, TopicKind};
pub use types::{MessageId, NetAddr, NodeId, PeerInfo, Verdict};
