//! Two nodes on loopback gossip one message each way on a chain's
//! transaction topic, using `gont-net` alone.
//!
//! ```text
//! cargo run -p gont-net --example gossip
//! ```
//!
//! It walks the whole public path a reuser needs:
//! - a `NodeKey` per node (its network identity),
//! - a `NetworkConfig` naming the address to listen on, the peers to
//!   bootstrap from and the chains whose topics the node joins,
//! - `Network::spawn`, which returns a `NetworkHandle` and a channel of
//!   `NetworkEvent`s,
//! - `NetworkHandle::publish_tx` to send, `NetworkEvent::Transaction` to
//!   receive, and `NetworkHandle::report` to give the verdict the network
//!   waits for before forwarding,
//! - a clean shutdown: dropping every handle stops the network task.
//!
//! Every wait is bounded by one deadline ([`BOUND`] from the start): if
//! something does not arrive in time, the example exits with an error
//! naming what it was waiting for.

use std::error::Error;
use std::future::Future;
use std::net::Ipv4Addr;
use std::time::Duration;

use gont_core::{Bytes, ChainId, RawTransaction};
use gont_net::{
    NetAddr, Network, NetworkConfig, NetworkEvent, NetworkHandle, NodeId, NodeKey, Topic, Verdict,
};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

/// The chain both nodes run. Gossip is per chain: a node only receives the
/// traffic of the chains listed in its `NetworkConfig::chains`.
const CHAIN: ChainId = ChainId(7);

/// How long the whole example may take before it gives up.
const BOUND: Duration = Duration::from_secs(20);

/// How often to ask a node for its peers while waiting for a subscription
/// (gossip subscriptions are not reported as events).
const POLL: Duration = Duration::from_millis(25);

/// The error type of this example: anything, with its message.
type BoxError = Box<dyn Error>;

fn main() -> Result<(), BoxError> {
    // gont-net runs on tokio. A single-threaded runtime is enough for two
    // nodes; `enable_all` turns on the I/O and timer drivers that the TCP
    // transport and the network's timers need.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<(), BoxError> {
    let deadline = Instant::now() + BOUND;
    let topic = Topic::transactions(CHAIN);
    println!("chain {CHAIN}: gossip topic {topic}");

    // Fixed secrets give the same node ids on every run, so the output can
    // be compared with the README. A real node keeps a random key in its
    // data directory instead: `NodeKey::load_or_create(data_dir)`.
    let mut a = Node::start("A", NodeKey::from_secret([1; 32]), None).await?;
    println!("node A: {}, listening on {}", a.id(), a.listen);

    // B is given A's address (ending in `/p2p/<A's id>`) as its bootstrap
    // peer: it dials A at start, and re-dials it whenever the connection
    // drops. A learns of B from the incoming connection.
    let mut b = Node::start("B", NodeKey::from_secret([2; 32]), Some(&a.addr)).await?;
    println!(
        "node B: {}, listening on {}, bootstrapping from A",
        b.id(),
        b.listen
    );

    // Both joined the topic at spawn (`chains`). Publishing fails with
    // `NetError::NoPeers` until the sender knows a peer subscribed to it,
    // so wait until each node sees the other on the chain.
    a.wait_for_subscriber(&b, deadline).await?;
    b.wait_for_subscriber(&a, deadline).await?;
    println!("A and B are connected and both joined {topic}");

    exchange(&a, &mut b, "hello from A", deadline).await?;
    exchange(&b, &mut a, "hello from B", deadline).await?;

    a.shut_down(deadline).await?;
    b.shut_down(deadline).await?;
    println!("A and B shut down cleanly");
    Ok(())
}

/// One running node, as the application sees it.
struct Node {
    /// A name for the output.
    name: &'static str,
    /// Commands to the network task: cheap to clone, usable from any task.
    handle: NetworkHandle,
    /// What the network tells the application: received gossip, peers
    /// connected, disconnected or banned.
    events: mpsc::Receiver<NetworkEvent>,
    /// The address the node listens on, with the real port.
    listen: NetAddr,
    /// `listen` with `/p2p/<node id>` appended: the form a bootstrap list
    /// takes, so that the dialer knows whom it should reach.
    addr: NetAddr,
}

impl Node {
    /// Starts a node on `127.0.0.1` at a port the system chooses, running
    /// [`CHAIN`], bootstrapping from `bootstrap` if given.
    async fn start(
        name: &'static str,
        key: NodeKey,
        bootstrap: Option<&NetAddr>,
    ) -> Result<Self, BoxError> {
        // `NetworkConfig::new` listens on 0.0.0.0; loopback keeps the
        // example off the local network. Port 0 lets the system choose, so
        // runs never collide on a port.
        let mut config = NetworkConfig::new(key);
        config.listen = vec![NetAddr::tcp(Ipv4Addr::LOCALHOST.into(), 0)];
        config.bootstrap = bootstrap.into_iter().cloned().collect();
        // Joining a chain's gossip topics is done here, at spawn: there is
        // no subscribe call on a running node.
        config.chains = vec![CHAIN];

        // Returns once the listener is bound, so the real port is known.
        let (handle, events) = Network::spawn(config).await?;
        let listen = handle
            .listen_addrs()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| format!("node {name} reports no listen address"))?;
        let addr = listen.with_node(handle.local_id());
        Ok(Self {
            name,
            handle,
            events,
            listen,
            addr,
        })
    }

    /// This node's id (the libp2p peer id of its key).
    fn id(&self) -> NodeId {
        self.handle.local_id()
    }

    /// Waits until this node is connected to `peer` and sees it subscribed
    /// to [`CHAIN`]'s transaction topic.
    async fn wait_for_subscriber(&self, peer: &Node, deadline: Instant) -> Result<(), BoxError> {
        let what = format!(
            "node {} to see node {} subscribed to {}",
            self.name,
            peer.name,
            Topic::transactions(CHAIN)
        );
        let peer = peer.id();
        within(deadline, &what, async {
            let mut poll = tokio::time::interval(POLL);
            loop {
                poll.tick().await;
                let peers = self.handle.peers().await?;
                if peers
                    .iter()
                    .any(|p| p.id == peer && p.chains.contains(&CHAIN))
                {
                    return Ok(());
                }
            }
        })
        .await
    }

    /// Waits for the next transaction gossiped to this node, skipping the
    /// other events, and accepts it.
    async fn receive(
        &mut self,
        what: &str,
        deadline: Instant,
    ) -> Result<(ChainId, RawTransaction, NodeId), BoxError> {
        within(deadline, what, async {
            loop {
                match self.events.recv().await {
                    Some(NetworkEvent::Transaction {
                        chain,
                        tx,
                        from,
                        msg_id,
                    }) => {
                        // The network forwards a message to its other peers
                        // only once the application accepts it; `Reject`
                        // would lower the sender's score instead. A node
                        // would decode and check the transaction first.
                        self.handle.report(msg_id, Verdict::Accept).await?;
                        return Ok((chain, tx, from));
                    }
                    // Peers connecting, disconnecting or being banned.
                    Some(_) => {}
                    None => return Err(format!("node {}'s network stopped", self.name).into()),
                }
            }
        })
        .await
    }

    /// Stops the node and waits until its network task has ended.
    async fn shut_down(self, deadline: Instant) -> Result<(), BoxError> {
        let Self {
            name,
            handle,
            mut events,
            ..
        } = self;
        // The network task runs until every handle (and clone) is dropped.
        // It then drops its end of the event channel: `recv` returning
        // `None` is the sign it has stopped and closed its connections.
        drop(handle);
        let what = format!("node {name}'s network task to stop");
        within(deadline, &what, async move {
            while events.recv().await.is_some() {}
            Ok(())
        })
        .await
    }
}

/// `from` publishes `text` on [`CHAIN`]'s topic and `to` receives it.
async fn exchange(
    from: &Node,
    to: &mut Node,
    text: &str,
    deadline: Instant,
) -> Result<(), BoxError> {
    let topic = Topic::transactions(CHAIN);
    // The transaction topic carries raw EIP-2718 bytes; gont-net does not
    // decode them (that is the mempool's job), so any bytes travel.
    let sent = RawTransaction(Bytes::copy_from_slice(text.as_bytes()));
    from.handle.publish_tx(CHAIN, &sent).await?;
    println!(
        "{} sent     on chain {CHAIN} ({topic}): {text:?}",
        from.name
    );

    let what = format!("node {}'s message {text:?} at node {}", from.name, to.name);
    let (chain, got, sender) = to.receive(&what, deadline).await?;
    if (chain, &got, sender) != (CHAIN, &sent, from.id()) {
        return Err(format!(
            "node {} expected {what} on chain {CHAIN}, got {got:?} on chain {chain} from {sender}",
            to.name
        )
        .into());
    }
    println!(
        "{} received on chain {chain} ({topic}) from {}: {:?}",
        to.name,
        from.name,
        String::from_utf8_lossy(&got.0)
    );
    Ok(())
}

/// Runs `step`, or fails naming `what` if `deadline` passes first.
async fn within<T>(
    deadline: Instant,
    what: &str,
    step: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    match timeout_at(deadline, step).await {
        Ok(result) => result,
        Err(_) => Err(format!("gave up after {BOUND:?} waiting for {what}").into()),
    }
}
