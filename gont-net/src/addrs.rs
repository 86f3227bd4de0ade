//! Which of the listen addresses a peer reports through identify go into
//! the Kademlia routing table: a peer chooses them freely, so they are
//! filtered to what this node could dial (TCP over IP, its only transport:
//! no DNS name, no unspecified, multicast or broadcast IP, no port 0, no
//! other peer's id)
//! and capped, so that no peer can fill the table with addresses.

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// The most addresses taken from one identify message.
pub(crate) const MAX_REPORTED_ADDRS: usize = 8;

/// The addresses of `addrs`, reported by `peer`, worth keeping for it, at
/// most [`MAX_REPORTED_ADDRS`], without repeats.
pub(crate) fn dialable(peer: &PeerId, addrs: Vec<Multiaddr>) -> Vec<Multiaddr> {
    let mut kept: Vec<Multiaddr> = Vec::new();
    for addr in addrs {
        if kept.len() == MAX_REPORTED_ADDRS {
            break;
        }
        if is_dialable(peer, &addr) && !kept.contains(&addr) {
            kept.push(addr);
        }
    }
    kept
}

fn is_dialable(peer: &PeerId, addr: &Multiaddr) -> bool {
    let mut parts = addr.iter();
    let host = match parts.next() {
        Some(Protocol::Ip4(ip)) => !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast()),
        Some(Protocol::Ip6(ip)) => !(ip.is_unspecified() || ip.is_multicast()),
        _ => false,
    };
    let port = matches!(parts.next(), Some(Protocol::Tcp(port)) if port != 0);
    let rest = match parts.next() {
        None => true,
        Some(Protocol::P2p(id)) => id == *peer && parts.next().is_none(),
        Some(_) => false,
    };
    host && port && rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Multiaddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn a_peer_reports_only_tcp_addresses_this_node_could_dial() {
        let peer = PeerId::random();
        let other = PeerId::random();
        let reported = [
            "/ip4/10.0.0.7/tcp/26656",
            "/ip4/127.0.0.1/tcp/26656",
            "/ip6/::1/tcp/26656",
            &format!("/ip4/10.0.0.8/tcp/26656/p2p/{peer}"),
            "/dns4/node.example/tcp/26656",
            "/ip4/0.0.0.0/tcp/26656",
            "/ip4/224.0.0.1/tcp/26656",
            "/ip4/255.255.255.255/tcp/26656",
            "/ip6/::/tcp/26656",
            "/ip4/10.0.0.7/tcp/0",
            "/ip4/10.0.0.7/udp/26656/quic-v1",
            &format!("/ip4/10.0.0.9/tcp/26656/p2p/{other}"),
            "/ip4/10.0.0.7/tcp/26656/ws",
            "/ip4/10.0.0.7/tcp/26656",
        ]
        .map(addr)
        .to_vec();
        let kept: Vec<String> = dialable(&peer, reported)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            kept,
            [
                "/ip4/10.0.0.7/tcp/26656",
                "/ip4/127.0.0.1/tcp/26656",
                "/ip6/::1/tcp/26656",
                &format!("/ip4/10.0.0.8/tcp/26656/p2p/{peer}"),
            ]
        );
    }

    #[test]
    fn a_peer_cannot_fill_the_routing_table_with_addresses() {
        let peer = PeerId::random();
        let flood: Vec<Multiaddr> = (1..=1000u16)
            .map(|port| addr(&format!("/ip4/10.0.0.7/tcp/{port}")))
            .collect();
        assert_eq!(dialable(&peer, flood).len(), MAX_REPORTED_ADDRS);
    }
}
