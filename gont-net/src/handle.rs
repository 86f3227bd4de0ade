//! What the rest of the node sees: [`Network::spawn`], the cloneable
//! [`NetworkHandle`], and the stream of [`NetworkEvent`]s. No libp2p type
//! crosses this boundary.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use gont_core::{ChainId, Checkpoint, RawTransaction};
use libp2p::futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::behaviour::build_swarm;
use crate::config::{Limits, NetworkConfig};
use crate::error::NetError;
use crate::score::Misbehaviour;
use crate::service::Service;
use crate::topic::Topic;
use crate::types::{MessageId, NetAddr, NodeId, PeerInfo, Verdict};

/// How long [`Network::spawn`] waits for its listeners to bind.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the network tells the node.
#[derive(Clone, Debug)]
pub enum NetworkEvent {
    /// A transaction gossiped on a chain this node runs. It is forwarded to
    /// other peers only after [`NetworkHandle::report`] accepts it.
    Transaction {
        /// The chain.
        chain: ChainId,
        /// The raw EIP-2718 bytes (not yet decoded as a transaction).
        tx: RawTransaction,
        /// The peer that sent it to us (blamed if it is rejected).
        from: NodeId,
        /// The id to report a [`Verdict`] with.
        msg_id: MessageId,
    },
    /// A checkpoint gossiped on a chain this node runs or follows.
    Checkpoint {
        /// The checkpointed chain.
        chain: ChainId,
        /// The checkpoint (its chain id matches `chain`).
        checkpoint: Box<Checkpoint>,
        /// The peer that sent it to us.
        from: NodeId,
        /// The id to report a [`Verdict`] with.
        msg_id: MessageId,
    },
    /// The first connection to a peer was established.
    PeerConnected {
        /// The peer.
        peer: NodeId,
        /// The address of that connection.
        addr: NetAddr,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// The peer.
        peer: NodeId,
    },
    /// A peer's score reached the ban threshold: it is disconnected and
    /// refused until the ban ends.
    PeerBanned {
        /// The peer.
        peer: NodeId,
        /// Its score.
        score: i64,
    },
}

/// A request from a handle to the network task.
pub(crate) enum Command {
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Report {
        id: MessageId,
        verdict: Verdict,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<NetAddr>>,
    },
    Penalize {
        peer: PeerId,
        what: Misbehaviour,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
}

/// Starts the network.
#[derive(Debug)]
pub struct Network;

impl Network {
    /// Binds the listeners, dials the bootstrap peers and runs the network in
    /// its own tokio task. Returns once every
    /// listener is bound, so [`NetworkHandle::listen_addrs`] has the real
    /// ports. The task ends when every handle is dropped.
    pub async fn spawn(
        config: NetworkConfig,
    ) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetError> {
        let mut swarm = build_swarm(&config)?;
        let mut pending = HashSet::new();
        for addr in &config.listen {
            let id = swarm
                .listen_on(addr.0.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?;
            pending.insert(id);
        }
        let wait = async {
            while !pending.is_empty() {
                match swarm.select_next_some().await {
                    SwarmEvent::NewListenAddr { listener_id, .. } => {
                        pending.remove(&listener_id);
                    }
                    SwarmEvent::ListenerError { error, .. } => {
                        return Err(NetError::Listen {
                            addr: "listener".into(),
                            reason: error.to_string(),
                        });
                    }
                    SwarmEvent::ListenerClosed {
                        addresses, reason, ..
                    } => {
                        return Err(NetError::Listen {
                            addr: format!("{addresses:?}"),
                            reason: format!("{reason:?}"),
                        });
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        tokio::time::timeout(LISTEN_TIMEOUT, wait)
            .await
            .map_err(|_| NetError::Listen {
                addr: format!("{:?}", config.listen),
                reason: "not bound in time".into(),
            })??;

        let (command_tx, command_rx) = mpsc::channel(1024);
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let handle = NetworkHandle {
            commands: command_tx,
            local: config.key.id(),
            chains: Arc::new(config.chains.iter().copied().collect()),
            checkpoint_chains: Arc::new(
                config
                    .chains
                    .iter()
                    .chain(&config.checkpoint_chains)
                    .copied()
                    .collect(),
            ),
            limits: Arc::new(config.limits.clone()),
        };
        let service = Service::new(swarm, config, command_rx, event_tx)?;
        tokio::spawn(service.run());
        Ok((handle, event_rx))
    }
}

/// The node's way to the network: cheap to clone, usable from any task.
#[derive(Clone, Debug)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    local: NodeId,
    chains: Arc<HashSet<ChainId>>,
    checkpoint_chains: Arc<HashSet<ChainId>>,
    limits: Arc<Limits>,
}

impl NetworkHandle {
    /// This node's id.
    pub fn local_id(&self) -> NodeId {
        self.local
    }

    async fn send(&self, command: Command) -> Result<(), NetError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| NetError::Stopped)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx)).await?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    async fn publish(&self, topic: Topic, data: Vec<u8>, limit: usize) -> Result<(), NetError> {
        if data.len() > limit {
            return Err(NetError::TooLarge {
                size: data.len(),
                limit,
            });
        }
        self.ask(|reply| Command::Publish { topic, data, reply })
            .await?
    }

    /// Gossips a transaction on `chain`'s topic. Publishing bytes already
    /// gossiped is not an error (they are not sent twice).
    pub async fn publish_tx(&self, chain: ChainId, tx: &RawTransaction) -> Result<(), NetError> {
        if !self.chains.contains(&chain) {
            return Err(NetError::UnknownChain(chain));
        }
        let limit = self.limits.max_transaction_size;
        self.publish(Topic::transactions(chain), gont_core::encode(tx), limit)
            .await
    }

    /// Gossips a checkpoint on its chain's checkpoint topic.
    pub async fn publish_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), NetError> {
        let chain = checkpoint.chain_id();
        if !self.checkpoint_chains.contains(&chain) {
            return Err(NetError::UnknownChain(chain));
        }
        let limit = self.limits.max_checkpoint_size;
        self.publish(
            Topic::checkpoints(chain),
            gont_core::encode(checkpoint),
            limit,
        )
        .await
    }

    /// Reports the application's verdict on a received message: accepted
    /// messages are forwarded, rejected ones lower the sender's score.
    pub async fn report(&self, msg_id: MessageId, verdict: Verdict) -> Result<(), NetError> {
        self.send(Command::Report {
            id: msg_id,
            verdict,
        })
        .await
    }

    /// Lowers a peer's score for misbehaviour seen outside the network
    /// (for example a message that failed a later check).
    pub async fn penalize(&self, peer: NodeId, what: Misbehaviour) -> Result<(), NetError> {
        self.send(Command::Penalize { peer: peer.0, what }).await
    }

    /// The connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// The addresses the node listens on, with real ports.
    pub async fn listen_addrs(&self) -> Result<Vec<NetAddr>, NetError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// Dials an address (a bootstrap peer learnt later, say).
    pub async fn dial(&self, addr: &NetAddr) -> Result<(), NetError> {
        let addr = addr.0.clone();
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }
}
