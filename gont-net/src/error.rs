//! The errors of the network boundary.

use gont_core::ChainId;

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// An address or node id that does not parse.
    #[error("invalid address {addr:?}: {reason}")]
    Address {
        /// The text given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The transport or a protocol could not be set up.
    #[error("network setup failed: {0}")]
    Setup(String),
    /// Listening on an address failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The chain is not one this node runs.
    #[error("chain {0} is not run by this node")]
    UnknownChain(ChainId),
    /// A payload over the topic's limit.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No connected peer subscribes to the topic.
    #[error("no peer to send to on chain {0}")]
    NoPeers(ChainId),
    /// Gossip publishing failed for another reason.
    #[error("publishing failed: {0}")]
    Publish(String),
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
}
