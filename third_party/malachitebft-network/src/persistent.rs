//! GONT patch: keeps the configured persistent peers connected.
//!
//! Upstream 0.5.0 dials `persistent_peers` once at start (through the
//! discovery crate, five retries) and never again, so a peer lost to a
//! pause, a network blip or a partition is lost until a process restarts.
//! This module re-dials, as CometBFT does with its `persistent_peers`:
//!
//! - every configured address that has no connection is dialled, forever;
//! - after a failed dial the next one waits [`FIRST_RETRY`], doubled at
//!   each further failure up to [`MAX_RETRY`];
//! - a peer whose last connection closes is dialled again at once, and its
//!   backoff starts over;
//! - a dial that has neither connected nor failed after [`DIAL_TIMEOUT`]
//!   counts as failed.
//!
//! A peer is known by the id its first connection to the address reported;
//! while connected (in either direction) it is not dialled.

use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

/// The wait after a first failed dial.
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest wait between two dials of one address.
pub const MAX_RETRY: Duration = Duration::from_secs(4);
/// How long a dial may stay pending before it counts as failed.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the swarm loop asks which addresses are due.
pub const TICK: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct Peer {
    addr: Multiaddr,
    id: Option<PeerId>,
    dialing: Option<(ConnectionId, Instant)>,
    failures: u32,
    next_dial: Instant,
}

/// The persistent peers and when each is next dialled.
#[derive(Debug)]
pub struct PersistentPeers {
    peers: Vec<Peer>,
}

fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

impl PersistentPeers {
    /// Every address is due at `now`.
    pub fn new(addrs: &[Multiaddr], now: Instant) -> Self {
        Self {
            peers: addrs
                .iter()
                .map(|addr| Peer {
                    addr: addr.clone(),
                    id: None,
                    dialing: None,
                    failures: 0,
                    next_dial: now,
                })
                .collect(),
        }
    }

    /// The addresses to dial now: not connected, no dial pending, backoff
    /// over. Each returned index must be passed to [`Self::dialing`].
    pub fn due(&mut self, now: Instant, connected: impl Fn(&PeerId) -> bool) -> Vec<usize> {
        let mut due = Vec::new();
        for (index, peer) in self.peers.iter_mut().enumerate() {
            if peer.id.as_ref().is_some_and(&connected) {
                continue;
            }
            if let Some((_, since)) = peer.dialing {
                if now.duration_since(since) < DIAL_TIMEOUT {
                    continue;
                }
                peer.dialing = None;
                peer.failures = peer.failures.saturating_add(1);
                peer.next_dial = since + DIAL_TIMEOUT + backoff(peer.failures);
            }
            if now >= peer.next_dial {
                due.push(index);
            }
        }
        due
    }

    /// The address at `index`.
    pub fn addr(&self, index: usize) -> Option<&Multiaddr> {
        self.peers.get(index).map(|p| &p.addr)
    }

    /// A dial of the address at `index` started as `connection`.
    pub fn dialing(&mut self, index: usize, connection: ConnectionId, now: Instant) {
        if let Some(peer) = self.peers.get_mut(index) {
            peer.dialing = Some((connection, now));
        }
    }

    /// A dial could not even start.
    pub fn dial_refused(&mut self, index: usize, now: Instant) {
        if let Some(peer) = self.peers.get_mut(index) {
            peer.failures = peer.failures.saturating_add(1);
            peer.next_dial = now + backoff(peer.failures);
        }
    }

    fn dialled(&mut self, connection: ConnectionId) -> Option<&mut Peer> {
        self.peers
            .iter_mut()
            .find(|p| p.dialing.is_some_and(|(c, _)| c == connection))
    }

    /// A connection was established; if it is one of our dials, the peer
    /// at that address is `peer_id` and its backoff starts over.
    pub fn established(&mut self, connection: ConnectionId, peer_id: PeerId) {
        if let Some(peer) = self.dialled(connection) {
            peer.dialing = None;
            peer.id = Some(peer_id);
            peer.failures = 0;
        }
    }

    /// A dial failed: the next one waits longer.
    pub fn failed(&mut self, connection: ConnectionId, now: Instant) {
        if let Some(peer) = self.dialled(connection) {
            peer.dialing = None;
            peer.failures = peer.failures.saturating_add(1);
            peer.next_dial = now + backoff(peer.failures);
        }
    }

    /// The last connection to `peer_id` closed: dial it again at once.
    pub fn disconnected(&mut self, peer_id: &PeerId, now: Instant) {
        for peer in &mut self.peers {
            if peer.id.as_ref() == Some(peer_id) {
                peer.failures = 0;
                peer.next_dial = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn backoff_doubles_from_the_first_retry_up_to_the_cap() {
        assert_eq!(backoff(1), FIRST_RETRY);
        assert_eq!(backoff(2), FIRST_RETRY * 2);
        assert_eq!(backoff(3), FIRST_RETRY * 4);
        assert_eq!(backoff(10), MAX_RETRY);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn a_lost_peer_is_dialled_again_at_once_and_failures_back_off() {
        let t0 = Instant::now();
        let mut peers = PersistentPeers::new(&[addr(1)], t0);
        let id = PeerId::random();
        assert_eq!(peers.due(t0, |_| false), vec![0]);
        let c1 = ConnectionId::new_unchecked(1);
        peers.dialing(0, c1, t0);
        assert!(peers.due(t0, |_| false).is_empty(), "a dial is pending");
        peers.established(c1, id);
        assert!(peers.due(t0, |_| true).is_empty(), "connected");

        peers.disconnected(&id, t0);
        assert_eq!(peers.due(t0, |_| false), vec![0]);
        let c2 = ConnectionId::new_unchecked(2);
        peers.dialing(0, c2, t0);
        peers.failed(c2, t0);
        assert!(peers.due(t0, |_| false).is_empty());
        assert_eq!(peers.due(t0 + FIRST_RETRY, |_| false), vec![0]);

        let c3 = ConnectionId::new_unchecked(3);
        peers.dialing(0, c3, t0 + FIRST_RETRY);
        assert!(peers.due(t0 + FIRST_RETRY * 2, |_| false).is_empty());
        let late = t0 + FIRST_RETRY + DIAL_TIMEOUT;
        assert!(peers.due(late, |_| false).is_empty(), "timed out, backing off");
        assert_eq!(peers.due(late + FIRST_RETRY * 2, |_| false), vec![0]);
    }
}
