//! The network task: owns the swarm, turns its events into
//! [`NetworkEvent`]s and the handles' commands into swarm calls, and
//! enforces the limits and scores.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gont_core::{ChainId, Checkpoint, RawTransaction};
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, TopicHash};
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, ping};
use tokio::sync::mpsc;

use crate::behaviour::{Behaviour, BehaviourEvent};
use crate::config::{Limits, NetworkConfig};
use crate::error::NetError;
use crate::handle::{Command, NetworkEvent};
use crate::rate::Bucket;
use crate::redial::Redial;
use crate::score::{Misbehaviour, Outcome, PeerScores};
use crate::topic::{Topic, TopicKind};
use crate::types::{MessageId, NetAddr, NodeId, PeerInfo, Verdict};

/// How often maintenance runs (ban expiry, re-dialing, pruning).
const TICK: Duration = Duration::from_secs(1);
/// How long a received message waits for the application's verdict before
/// it is forgotten (gossipsub's own cache forgets it sooner).
const VERDICT_WINDOW: Duration = Duration::from_secs(30);
/// Least time between two Kademlia bootstrap queries triggered by new peers.
const KAD_BOOTSTRAP_INTERVAL: Duration = Duration::from_secs(1);
/// While below `target_peers`, a bootstrap query runs at least this often:
/// peers that joined at the same moment may each have asked the bootstrap
/// node before it knew the others.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(5);

struct PeerRates {
    messages: Bucket,
    bytes: Bucket,
}

impl PeerRates {
    fn new(limits: &Limits, now: Instant) -> Self {
        Self {
            messages: Bucket::new(limits.gossip_messages, now),
            bytes: Bucket::new(limits.gossip_bytes, now),
        }
    }
}

pub(crate) struct Service {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
    limits: Limits,
    target_peers: usize,
    topics: HashMap<TopicHash, Topic>,
    redial: Redial,
    scores: PeerScores,
    rates: HashMap<PeerId, PeerRates>,
    awaiting_verdict: HashMap<gossipsub::MessageId, (PeerId, Instant)>,
    connected: HashMap<PeerId, Multiaddr>,
    last_kad_bootstrap: Option<Instant>,
    kad_bootstrap_due: bool,
}

impl Service {
    pub(crate) fn new(
        mut swarm: Swarm<Behaviour>,
        config: NetworkConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetworkEvent>,
    ) -> Result<Self, NetError> {
        let mut topics = HashMap::new();
        let tx_topics = config.chains.iter().map(|c| Topic::transactions(*c));
        let checkpoint_topics = config
            .chains
            .iter()
            .chain(&config.checkpoint_chains)
            .map(|c| Topic::checkpoints(*c));
        for topic in tx_topics.chain(checkpoint_topics) {
            swarm
                .behaviour_mut()
                .gossip
                .subscribe(&topic.ident())
                .map_err(|e| NetError::Setup(format!("subscribing to {topic}: {e}")))?;
            topics.insert(topic.topic_hash(), topic);
        }
        let redial = Redial::new(
            config
                .bootstrap
                .iter()
                .map(|a| (a.0.clone(), a.node().map(|n| n.0))),
            Instant::now(),
        );
        for addr in &config.bootstrap {
            if let Some(node) = addr.node() {
                swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&node.0, addr.transport_part());
            }
        }
        let mut service = Self {
            swarm,
            commands,
            events,
            limits: config.limits,
            target_peers: config.target_peers,
            topics,
            redial,
            scores: PeerScores::new(config.scoring),
            rates: HashMap::new(),
            awaiting_verdict: HashMap::new(),
            connected: HashMap::new(),
            last_kad_bootstrap: None,
            kad_bootstrap_due: false,
        };
        service.dial_bootstrap(Instant::now());
        Ok(service)
    }

    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = tick.tick() => self.maintain(),
            }
        }
        tracing::debug!("network task stopped: every handle was dropped");
    }

    fn emit(&self, event: NetworkEvent) -> bool {
        match self.events.try_send(event) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("network event dropped: the application is not keeping up ({e})");
                false
            }
        }
    }

    /// Dials every bootstrap address that is due (see [`Redial`]).
    fn dial_bootstrap(&mut self, now: Instant) {
        let swarm = &self.swarm;
        for addr in self.redial.due(now, |peer| swarm.is_connected(peer)) {
            let opts = DialOpts::unknown_peer_id().address(addr.clone()).build();
            let connection = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => self.redial.started(&addr, connection, now),
                Err(e) => {
                    tracing::debug!(%addr, %e, "bootstrap dial refused");
                    self.redial.refused(&addr, now);
                }
            }
        }
    }

    fn kad_bootstrap(&mut self) {
        let now = Instant::now();
        if self
            .last_kad_bootstrap
            .is_some_and(|t| now.duration_since(t) < KAD_BOOTSTRAP_INTERVAL)
        {
            self.kad_bootstrap_due = true;
            return;
        }
        self.kad_bootstrap_due = false;
        self.last_kad_bootstrap = Some(now);
        // Fails only with an empty routing table: nothing to ask yet.
        let _ = self.swarm.behaviour_mut().kad.bootstrap();
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        for peer in self.scores.expire_bans(now) {
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        self.awaiting_verdict
            .retain(|_, (_, at)| now.duration_since(*at) < VERDICT_WINDOW);
        self.dial_bootstrap(now);
        let discovery_due = self.connected.len() < self.target_peers
            && self
                .last_kad_bootstrap
                .is_none_or(|t| now.duration_since(t) >= DISCOVERY_INTERVAL);
        if self.kad_bootstrap_due || discovery_due {
            self.kad_bootstrap();
        }
    }

    fn penalize(&mut self, peer: PeerId, what: Misbehaviour) {
        match self.scores.penalize(peer, what, Instant::now()) {
            Outcome::Lowered(score) => tracing::debug!(%peer, ?what, score, "peer penalised"),
            Outcome::Ban { score, .. } => {
                tracing::warn!(%peer, ?what, score, "peer banned");
                let behaviour = self.swarm.behaviour_mut();
                // Closes its connections and refuses new ones.
                behaviour.blocked.block_peer(peer);
                behaviour.kad.remove_peer(&peer);
                self.emit(NetworkEvent::PeerBanned {
                    peer: NodeId(peer),
                    score,
                });
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        if let SwarmEvent::ConnectionEstablished {
            peer_id,
            connection_id,
            ..
        } = &event
        {
            self.redial.connected(*connection_id, *peer_id);
        }
        match event {
            SwarmEvent::OutgoingConnectionError { connection_id, .. } => {
                self.redial.failed(connection_id, Instant::now());
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } if num_established.get() == 1 => {
                let addr = endpoint.get_remote_address().clone();
                self.connected.insert(peer_id, addr.clone());
                self.emit(NetworkEvent::PeerConnected {
                    peer: NodeId(peer_id),
                    addr: NetAddr(addr),
                });
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } if self.connected.remove(&peer_id).is_some() => {
                self.rates.remove(&peer_id);
                self.redial.lost(&peer_id, Instant::now());
                self.emit(NetworkEvent::PeerDisconnected {
                    peer: NodeId(peer_id),
                });
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let speaks_kad = info
                    .protocols
                    .iter()
                    .any(|p| p.as_ref() == crate::behaviour::KAD_PROTOCOL.as_ref());
                if speaks_kad {
                    for addr in crate::addrs::dialable(&peer_id, info.listen_addrs) {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                    self.kad_bootstrap();
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
                let now = Instant::now();
                if !self.connected.contains_key(&peer)
                    && self.connected.len() < self.target_peers
                    && !self.scores.is_banned(&peer, now)
                {
                    let opts = DialOpts::peer_id(peer)
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    if let Err(e) = self.swarm.dial(opts) {
                        tracing::debug!(%peer, %e, "dialing a discovered peer failed");
                    }
                }
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(e @ (ping::Failure::Timeout | ping::Failure::Other { .. })),
            }) => {
                // libp2p's ping reports, and no longer closes: a silent
                // peer's connection is closed here, and the peer re-dialled.
                tracing::debug!(%peer, %e, "ping failed: closing the connection");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Gossip(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, &message_id, &message),
            _ => {}
        }
    }

    fn verdict(&mut self, id: &gossipsub::MessageId, source: &PeerId, verdict: Verdict) {
        self.swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, source, verdict.to_gossipsub());
    }

    fn on_gossip(
        &mut self,
        source: PeerId,
        id: &gossipsub::MessageId,
        message: &gossipsub::Message,
    ) {
        let now = Instant::now();
        let Some(topic) = self.topics.get(&message.topic).copied() else {
            self.verdict(id, &source, Verdict::Ignore);
            return;
        };
        let len = message.data.len();
        let rates = self
            .rates
            .entry(source)
            .or_insert_with(|| PeerRates::new(&self.limits, now));
        let within_rate = rates.messages.try_take(1, now)
            && rates
                .bytes
                .try_take(u64::try_from(len).unwrap_or(u64::MAX), now);
        if !within_rate {
            self.verdict(id, &source, Verdict::Ignore);
            self.penalize(source, Misbehaviour::RateLimited);
            return;
        }
        let limit = match topic.kind {
            TopicKind::Transactions => self.limits.max_transaction_size,
            TopicKind::Checkpoints => self.limits.max_checkpoint_size,
        };
        if len > limit {
            self.verdict(id, &source, Verdict::Reject);
            self.penalize(source, Misbehaviour::Oversized);
            return;
        }
        let from = NodeId(source);
        let msg_id = MessageId(id.clone());
        let event = decode_gossip(topic, &message.data).map(|payload| match payload {
            Payload::Transaction(tx) => NetworkEvent::Transaction {
                chain: topic.chain,
                tx,
                from,
                msg_id,
            },
            Payload::Checkpoint(checkpoint) => NetworkEvent::Checkpoint {
                chain: topic.chain,
                checkpoint,
                from,
                msg_id,
            },
        });
        match event {
            Ok(event) => {
                self.awaiting_verdict.insert(id.clone(), (source, now));
                if !self.emit(event) {
                    self.awaiting_verdict.remove(id);
                    self.verdict(id, &source, Verdict::Ignore);
                }
            }
            Err(what) => {
                self.verdict(id, &source, Verdict::Reject);
                self.penalize(source, what);
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data, reply } => {
                let result = match self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .publish(topic.topic_hash(), data)
                {
                    Ok(_) | Err(gossipsub::PublishError::Duplicate) => Ok(()),
                    Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                        Err(NetError::NoPeers(topic.chain))
                    }
                    Err(e) => Err(NetError::Publish(e.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::Report { id, verdict } => {
                if let Some((source, _)) = self.awaiting_verdict.remove(&id.0) {
                    self.verdict(&id.0, &source, verdict);
                    if verdict == Verdict::Reject {
                        self.penalize(source, Misbehaviour::Invalid);
                    }
                }
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peer_infos());
            }
            Command::ListenAddrs { reply } => {
                let addrs = self.swarm.listeners().cloned().map(NetAddr).collect();
                let _ = reply.send(addrs);
            }
            Command::Penalize { peer, what } => self.penalize(peer, what),
            Command::Dial { addr, reply } => {
                let result = self
                    .swarm
                    .dial(addr.clone())
                    .map_err(|e| NetError::Address {
                        addr: addr.to_string(),
                        reason: e.to_string(),
                    });
                let _ = reply.send(result);
            }
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let now = Instant::now();
        let chains: HashMap<PeerId, Vec<ChainId>> = self
            .swarm
            .behaviour()
            .gossip
            .all_peers()
            .map(|(peer, topics)| {
                let mut chains: Vec<ChainId> = topics
                    .into_iter()
                    .filter_map(|t| Topic::parse(t.as_str()))
                    .filter(|t| t.kind == TopicKind::Transactions)
                    .map(|t| t.chain)
                    .collect();
                chains.sort_unstable();
                (*peer, chains)
            })
            .collect();
        self.connected
            .iter()
            .map(|(peer, addr)| PeerInfo {
                id: NodeId(*peer),
                addr: NetAddr(addr.clone()),
                chains: chains.get(peer).cloned().unwrap_or_default(),
                score: self.scores.score(peer, now),
            })
            .collect()
    }
}

/// What a gossip message carries.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    /// A raw transaction.
    Transaction(RawTransaction),
    /// A service checkpoint.
    Checkpoint(Box<Checkpoint>),
}

/// Decodes a message of `topic`: what its kind carries, of its chain, or
/// the misbehaviour of having sent it.
pub(crate) fn decode_gossip(topic: Topic, data: &[u8]) -> Result<Payload, Misbehaviour> {
    match topic.kind {
        TopicKind::Transactions => gont_core::decode::<RawTransaction>(data)
            .map(Payload::Transaction)
            .map_err(|_| Misbehaviour::Undecodable),
        TopicKind::Checkpoints => match gont_core::decode::<Checkpoint>(data) {
            Ok(c) if c.chain_id() == topic.chain => Ok(Payload::Checkpoint(Box::new(c))),
            Ok(_) => Err(Misbehaviour::Invalid),
            Err(_) => Err(Misbehaviour::Undecodable),
        },
    }
}
