//! The node's pure helpers: consensus addresses and follower keys.

use gont_core::ChainId;
use gont_net::NodeKey;

use super::{follower_key, tcp_socket};

#[test]
fn a_followers_consensus_key_cannot_be_computed_from_its_public_node_id() {
    let node = NodeKey::generate();
    let chain = ChainId(1);
    let key = follower_key(&node, chain).unwrap();
    // What anyone could compute from the public id (the derivation
    // before this key came from the node key's secret).
    let public = gont_consensus::PrivateKey::from_seed(blake3::derive_key(
        "gont follower consensus key v1",
        format!("{}/{chain}", node.id()).as_bytes(),
    ));
    assert_ne!(key.public_key(), public.public_key());
    // Stable for the node, distinct per chain and per node.
    assert_eq!(
        follower_key(&node, chain).unwrap().public_key(),
        key.public_key()
    );
    let other_chain = ChainId(2);
    assert_ne!(
        follower_key(&node, other_chain).unwrap().public_key(),
        key.public_key()
    );
    let other_node = NodeKey::generate();
    assert_ne!(
        follower_key(&other_node, chain).unwrap().public_key(),
        key.public_key()
    );
}

#[test]
fn consensus_addresses_are_tcp_multiaddrs() {
    assert_eq!(
        tcp_socket("/ip4/127.0.0.1/tcp/40010"),
        Some("127.0.0.1:40010".parse().unwrap())
    );
    assert_eq!(
        tcp_socket("/ip6/::1/tcp/1"),
        Some("[::1]:1".parse().unwrap())
    );
    assert_eq!(tcp_socket("/ip4/127.0.0.1/udp/1/quic-v1"), None);
    assert_eq!(tcp_socket("127.0.0.1:1"), None);
}
