//! The bootstrap list is kept connected, as CometBFT keeps its
//! `persistent_peers`: an address with no connection is dialled again and
//! again, forever, with bounded exponential backoff.
//!
//! - A lost peer is dialled again at once.
//! - After a failed dial, the next waits [`FIRST_RETRY`], doubled at each
//!   further failure, at most [`MAX_RETRY`].
//! - A dial pending for [`DIAL_TIMEOUT`] counts as failed.
//!
//! An address is connected when the peer it names (`/p2p/<id>`, or the id
//! our first dial there reported) has a connection in either direction.
//! Consensus networks get the same rule from the patched Malachite network
//! crate (`third_party/malachitebft-network`).

use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

/// The wait after a first failed dial.
pub(crate) const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest wait between two dials of one address.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(4);
/// How long a dial may stay pending before it counts as failed.
pub(crate) const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait before the next dial after `failures` failures in a row.
fn wait_after(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(8);
    MAX_RETRY.min(FIRST_RETRY * 2u32.pow(exponent))
}

#[derive(Debug)]
struct Target {
    addr: Multiaddr,
    peer: Option<PeerId>,
    pending: Option<(ConnectionId, Instant)>,
    failures: u32,
    not_before: Instant,
}

/// The addresses to keep connected, each with its backoff.
#[derive(Debug)]
pub(crate) struct Redial {
    targets: Vec<Target>,
}

impl Redial {
    /// `addrs`, each with the peer id it names (if it names one); all due
    /// at `now`.
    pub(crate) fn new(
        addrs: impl IntoIterator<Item = (Multiaddr, Option<PeerId>)>,
        now: Instant,
    ) -> Self {
        let targets = addrs
            .into_iter()
            .map(|(addr, peer)| Target {
                addr,
                peer,
                pending: None,
                failures: 0,
                not_before: now,
            })
            .collect();
        Self { targets }
    }

    /// The addresses to dial now. Each dial started must be reported with
    /// [`Self::started`] or [`Self::refused`].
    pub(crate) fn due(
        &mut self,
        now: Instant,
        is_connected: impl Fn(&PeerId) -> bool,
    ) -> Vec<Multiaddr> {
        let mut out = Vec::new();
        for t in &mut self.targets {
            if t.peer.as_ref().is_some_and(&is_connected) {
                continue;
            }
            match t.pending {
                Some((_, since)) if now.duration_since(since) < DIAL_TIMEOUT => continue,
                Some(_) => {
                    t.pending = None;
                    t.failures = t.failures.saturating_add(1);
                    t.not_before = now + wait_after(t.failures);
                }
                None => {}
            }
            if now >= t.not_before {
                out.push(t.addr.clone());
            }
        }
        out
    }

    fn target(&mut self, addr: &Multiaddr) -> Option<&mut Target> {
        self.targets.iter_mut().find(|t| &t.addr == addr)
    }

    fn by_connection(&mut self, connection: ConnectionId) -> Option<&mut Target> {
        self.targets
            .iter_mut()
            .find(|t| t.pending.is_some_and(|(c, _)| c == connection))
    }

    /// The dial of `addr` is under way as `connection`.
    pub(crate) fn started(&mut self, addr: &Multiaddr, connection: ConnectionId, now: Instant) {
        if let Some(t) = self.target(addr) {
            t.pending = Some((connection, now));
        }
    }

    /// The swarm refused to dial `addr` (a banned peer, say): back off.
    pub(crate) fn refused(&mut self, addr: &Multiaddr, now: Instant) {
        if let Some(t) = self.target(addr) {
            t.failures = t.failures.saturating_add(1);
            t.not_before = now + wait_after(t.failures);
        }
    }

    /// `connection` is established with `peer`: if it was one of our
    /// dials, its address belongs to `peer`, and its backoff starts over.
    pub(crate) fn connected(&mut self, connection: ConnectionId, peer: PeerId) {
        if let Some(t) = self.by_connection(connection) {
            t.pending = None;
            t.peer = Some(peer);
            t.failures = 0;
        }
    }

    /// Our dial `connection` failed.
    pub(crate) fn failed(&mut self, connection: ConnectionId, now: Instant) {
        if let Some(t) = self.by_connection(connection) {
            t.pending = None;
            t.failures = t.failures.saturating_add(1);
            t.not_before = now + wait_after(t.failures);
        }
    }

    /// The last connection to `peer` closed: its addresses are due now.
    pub(crate) fn lost(&mut self, peer: &PeerId, now: Instant) {
        for t in self
            .targets
            .iter_mut()
            .filter(|t| t.peer.as_ref() == Some(peer))
        {
            t.failures = 0;
            t.not_before = now;
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap, index or panic is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn addr() -> Multiaddr {
        "/ip4/127.0.0.1/tcp/4001".parse().unwrap()
    }

    #[test]
    fn waits_double_from_the_first_retry_and_stop_at_the_cap() {
        let waits: Vec<_> = (1..=6).map(wait_after).collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 4000, 4000].map(Duration::from_millis)
        );
        assert_eq!(wait_after(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn a_lost_peer_is_due_at_once_and_failed_dials_back_off() {
        let t0 = Instant::now();
        let peer = PeerId::random();
        let mut redial = Redial::new([(addr(), None)], t0);
        assert_eq!(redial.due(t0, |_| false), [addr()]);
        redial.started(&addr(), ConnectionId::new_unchecked(1), t0);
        assert!(redial.due(t0, |_| false).is_empty(), "a dial is pending");
        redial.connected(ConnectionId::new_unchecked(1), peer);
        assert!(redial.due(t0, |p| *p == peer).is_empty(), "connected");

        redial.lost(&peer, t0);
        assert_eq!(redial.due(t0, |_| false), [addr()]);
        redial.started(&addr(), ConnectionId::new_unchecked(2), t0);
        redial.failed(ConnectionId::new_unchecked(2), t0);
        assert!(redial.due(t0, |_| false).is_empty(), "backing off");
        assert_eq!(redial.due(t0 + FIRST_RETRY, |_| false), [addr()]);
    }

    #[test]
    fn a_dial_that_hangs_counts_as_failed_after_the_timeout() {
        let t0 = Instant::now();
        let mut redial = Redial::new([(addr(), None)], t0);
        redial.started(&addr(), ConnectionId::new_unchecked(1), t0);
        assert!(redial.due(t0 + DIAL_TIMEOUT / 2, |_| false).is_empty());
        let late = t0 + DIAL_TIMEOUT;
        assert!(redial.due(late, |_| false).is_empty(), "backing off");
        assert_eq!(redial.due(late + FIRST_RETRY, |_| false), [addr()]);
    }
}
