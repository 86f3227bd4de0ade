//! The small value types the rest of the node sees instead of libp2p's.

use std::fmt;
use std::str::FromStr;

use gont_core::ChainId;
use libp2p::{Multiaddr, PeerId, gossipsub, multiaddr::Protocol};

use crate::error::NetError;

/// A node's network identity: the libp2p peer id of its node key, shown in
/// base58 as libp2p shows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) PeerId);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.0)
    }
}

impl FromStr for NodeId {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<PeerId>()
            .map(Self)
            .map_err(|e| NetError::Address {
                addr: s.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// A network address: a multiaddr such as `/ip4/127.0.0.1/tcp/4001`,
/// optionally ending in `/p2p/<node id>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NetAddr(pub(crate) Multiaddr);

impl NetAddr {
    /// A TCP address; port 0 asks the system for a free port.
    pub fn tcp(ip: std::net::IpAddr, port: u16) -> Self {
        Self(Multiaddr::from(ip).with(Protocol::Tcp(port)))
    }

    /// This address with the node id appended, the form a bootstrap list
    /// uses so that the dialer knows whom it should reach.
    pub fn with_node(&self, node: NodeId) -> Self {
        if self.node().is_some() {
            return self.clone();
        }
        Self(self.0.clone().with(Protocol::P2p(node.0)))
    }

    /// The node id this address names, if it ends in `/p2p/<id>`.
    pub fn node(&self) -> Option<NodeId> {
        match self.0.iter().last() {
            Some(Protocol::P2p(peer)) => Some(NodeId(peer)),
            _ => None,
        }
    }

    /// The address without a trailing `/p2p/<id>`.
    pub(crate) fn transport_part(&self) -> Multiaddr {
        self.0
            .iter()
            .filter(|p| !matches!(p, Protocol::P2p(_)))
            .collect()
    }
}

impl fmt::Display for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetAddr({})", self.0)
    }
}

impl FromStr for NetAddr {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<Multiaddr>()
            .map(Self)
            .map_err(|e| NetError::Address {
                addr: s.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// The id of a received gossip message, handed back with a [`Verdict`]
/// through [`crate::NetworkHandle::report`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId(pub(crate) gossipsub::MessageId);

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

/// What the application decided about a received gossip message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it to other peers.
    Accept,
    /// Invalid: drop it and lower the score of the peer that sent it.
    Reject,
    /// Not wanted (for example already known, or the pool is full): drop it
    /// without blaming anyone.
    Ignore,
}

impl Verdict {
    pub(crate) fn to_gossipsub(self) -> gossipsub::MessageAcceptance {
        match self {
            Self::Accept => gossipsub::MessageAcceptance::Accept,
            Self::Reject => gossipsub::MessageAcceptance::Reject,
            Self::Ignore => gossipsub::MessageAcceptance::Ignore,
        }
    }
}

/// A connected peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its node id.
    pub id: NodeId,
    /// The address of (one of) our connections to it.
    pub addr: NetAddr,
    /// The chains whose transaction topic it subscribes to: the chains it
    /// runs, as far as gossip tells.
    pub chains: Vec<ChainId>,
    /// Its current score (0 is neutral; lower is worse).
    pub score: i64,
}
