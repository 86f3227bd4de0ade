//! The composed libp2p behaviour and the swarm built around it.

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    StreamProtocol, Swarm, allow_block_list, connection_limits, gossipsub, identify, kad, noise,
    ping, tcp, yamux,
};

use crate::config::NetworkConfig;
use crate::error::NetError;

/// Identify's protocol version: peers of other networks are told apart.
const IDENTIFY_VERSION: &str = "/gont/1.0.0";

/// GONT's own Kademlia protocol, so its DHT never mixes with IPFS's.
pub(crate) const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/gont/kad/1.0.0");

/// Room for gossipsub's envelope (signature, key, sequence number, topic)
/// around the payload.
const GOSSIP_ENVELOPE: usize = 4096;

/// Every protocol a GONT node speaks, outside Malachite's consensus.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Refuses banned peers before anything else sees them.
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    /// Finds connections whose peer stopped answering (paused, cut off),
    /// which the service then closes so that the peer is re-dialled.
    pub(crate) ping: ping::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) gossip: gossipsub::Behaviour,
}

fn gossip_config(config: &NetworkConfig) -> Result<gossipsub::Config, NetError> {
    let largest = config
        .limits
        .max_transaction_size
        .max(config.limits.max_checkpoint_size);
    gossipsub::ConfigBuilder::default()
        // The application judges each message before it is forwarded.
        .validate_messages()
        .validation_mode(gossipsub::ValidationMode::Strict)
        // Content-addressed ids: the same transaction from two peers is one
        // message. The topic is hashed in so that equal bytes on two chains
        // stay two messages.
        .message_id_fn(|m: &gossipsub::Message| {
            let mut bytes = m.topic.as_str().as_bytes().to_vec();
            bytes.push(0);
            bytes.extend_from_slice(&m.data);
            let id = gont_core::Hash::digest_in("gont gossip message id v1", &bytes);
            gossipsub::MessageId::new(id.as_bytes())
        })
        // Frames are cut off here; per-topic limits are checked on receipt
        // so that the sender can be scored for them.
        .max_transmit_size(largest.saturating_add(GOSSIP_ENVELOPE))
        .build()
        .map_err(|e| NetError::Setup(format!("gossipsub: {e}")))
}

fn behaviour(
    key: &libp2p::identity::Keypair,
    config: &NetworkConfig,
) -> Result<Behaviour, NetError> {
    let local = key.public().to_peer_id();
    let limits = &config.limits;

    let connection_limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(limits.max_connections))
        .with_max_established_per_peer(Some(limits.max_connections_per_peer))
        .with_max_pending_incoming(Some(limits.max_pending_connections))
        .with_max_pending_outgoing(Some(limits.max_pending_connections));

    let mut kad_config = kad::Config::new(KAD_PROTOCOL);
    kad_config.set_periodic_bootstrap_interval(Some(Duration::from_secs(60)));
    let mut kad =
        kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
    // Answer queries even without a confirmed public address: on a LAN or
    // loopback no node would otherwise serve the DHT.
    kad.set_mode(Some(kad::Mode::Server));

    let gossip = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config(config)?,
    )
    .map_err(|e| NetError::Setup(format!("gossipsub: {e}")))?;

    Ok(Behaviour {
        blocked: allow_block_list::Behaviour::default(),
        limits: connection_limits::Behaviour::new(connection_limits),
        identify: identify::Behaviour::new(identify::Config::new(
            IDENTIFY_VERSION.to_owned(),
            key.public(),
        )),
        ping: ping::Behaviour::new(ping::Config::new()),
        kad,
        gossip,
    })
}

/// The swarm: TCP, Noise, Yamux, and the behaviour above.
pub(crate) fn build_swarm(config: &NetworkConfig) -> Result<Swarm<Behaviour>, NetError> {
    let key = config.key.keypair().clone();
    let behaviour = behaviour(&key, config)?;
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Setup(format!("transport: {e}")))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetError::Setup(format!("behaviour: {e}")))?
        // Gossip keeps useful connections busy; an idle one is closed
        // after a while so that discovery's short-lived dials do not pile up.
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build())
}
