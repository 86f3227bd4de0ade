//! A byzantine peer floods one validator's consensus port: a `gont devnet`
//! of four validators, and beside it, in this process, Malachite's own
//! network actor (the one every GONT node runs) under fresh libp2p
//! identities, none of them a validator, replaced every few seconds. For
//! 30 s they publish proposal parts as fast as their swarms take them:
//! streams whose `Init` names the proposer of the current height's current
//! or next rounds (so the node must hold their parts), of the next height,
//! or a proposer that is no validator; their data is garbage, their `Fin`
//! is signed by a fresh key, and half of them never end. At least
//! [`RECEIVED_MIB`] of parts must reach the flooded validator (its own
//! gossipsub metrics say how much did), none of it may go on to the other
//! validators (under [`RELAYED_KIB`] each), its resident memory must stay
//! within [`RSS_BOUND_MIB`] of what it was, and the chain must keep
//! finalizing.
//!
//! What bounds the node's memory at this rate: the swarms carry 70 to 80
//! MiB to the node in 30 s on the 2-core machine, and streams of heights
//! the chain has passed are dropped faster than the budgets fill (a run
//! with the budgets removed grew by 43 MiB, within the bound). The budgets
//! themselves (`parts::Streams`, `parts::Waiting`) are exercised where a
//! flood can outrun them: their unit tests in `driver/parts.rs`, and the
//! seeded simulation's `Flood` mix, which reports the most any node held.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Devnet, SPACE, height};
use gont_consensus::codec::BorshCodec;
use gont_consensus::driver::network_config;
use gont_consensus::messages::{ProposalFin, ProposalInit};
use gont_consensus::{Address, GontContext, Height, PrivateKey, ProposalPart, select_proposer};
use gont_core::Genesis;
use gont_node::client::{self, quantity};
use gont_node::config::files;
use malachitebft_app_channel::app::config::ConsensusConfig;
use malachitebft_app_channel::app::engine::network::{Msg as NetworkMsg, NetworkRef};
use malachitebft_app_channel::app::metrics::SharedRegistry;
use malachitebft_app_channel::app::spawn::spawn_network_actor;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_core_types::Round;
use serde_json::json;

const RPC_PORT: u16 = 29_545;
const BASE_PORT: u16 = 29_600;
/// How long the flood lasts.
const FLOOD: Duration = Duration::from_secs(30);
/// Attacking identities at once.
const AUTHORS: usize = 4;
/// How long one identity floods before a fresh one replaces it.
const IDENTITY: Duration = Duration::from_secs(5);
/// One data part. Parts of 16 KiB carry nine times the bytes per second
/// that parts of 256 KiB (GONT's own) do over these swarms.
const CHUNK: usize = 16 * 1024;
/// Data parts per stream: 1 MiB.
const CHUNKS: usize = 64;
/// What must reach the flooded node for the test to mean anything (a run
/// on the 2-core machine delivered about 75 MiB; the honest proposals of
/// 30 empty blocks are a few KiB).
const RECEIVED_MIB: u64 = 16;
/// What each other validator may receive of proposal parts during the
/// flood: the honest proposals of some 30 blocks (a few KiB each), far
/// below the flood that node 0 would pass on if it relayed parts.
const RELAYED_KIB: u64 = 2 * 1024;
/// What the flooded node may hold above its resident memory before the
/// flood: its bounds on proposal parts (`parts::Streams`, 4 of the
/// largest streams, and `parts::Waiting`, 8, a largest stream being
/// `max_block_bytes` (4 MiB) + 1 MiB: 60 MiB), gossipsub's cache of the
/// last 5 heartbeats of messages it received, and the allocator's slack.
const RSS_BOUND_MIB: u64 = 160;

/// The bytes of proposal parts a node's gossipsub received, from its
/// `/metrics` text.
fn parts_received(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("malachitebft_network_gossipsub_topic_msg_recv_bytes_total")
                && l.contains("hash=\"/proposal_parts\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// What the flood needs to know of the chain.
struct Target {
    ctx: GontContext,
    set: gont_consensus::ValidatorSet,
    /// The flooded node's consensus address.
    victim: SocketAddr,
    /// The chain's committed height, kept fresh by the test.
    head: Arc<AtomicU64>,
}

/// The parts of one attacking stream number `n`: an `Init` for `height`
/// and `round` naming `proposer`, `CHUNKS` parts of garbage, and for even
/// `n` a `Fin` signed by a fresh key and the stream's end.
fn stream(
    target: &Target,
    n: u64,
    height: Height,
    round: u32,
    proposer: Address,
) -> Vec<StreamMessage<ProposalPart>> {
    let id = StreamId::new(Bytes::copy_from_slice(
        blake3::hash(&n.to_le_bytes()).as_bytes(),
    ));
    let init = ProposalInit {
        chain_id: target.ctx.chain_id(),
        height,
        round: Round::new(round),
        pol_round: Round::Nil,
        proposer,
    };
    let mut parts = vec![ProposalPart::Init(init)];
    let garbage = vec![u8::try_from(n % 251).unwrap(); CHUNK];
    parts.extend((0..CHUNKS).map(|_| ProposalPart::Data(garbage.clone())));
    let ends = n.is_multiple_of(2);
    if ends {
        let key = PrivateKey::from_seed(*blake3::hash(&n.to_be_bytes()).as_bytes());
        parts.push(ProposalPart::Fin(ProposalFin {
            signature: key.sign(b"a stream nobody proposed"),
        }));
    }
    let mut messages: Vec<_> = parts
        .into_iter()
        .zip(0u64..)
        .map(|(part, seq)| StreamMessage::new(id.clone(), seq, StreamContent::Data(part)))
        .collect();
    if ends {
        let seq = u64::try_from(messages.len()).unwrap();
        messages.push(StreamMessage::new(id, seq, StreamContent::Fin));
    }
    messages
}

/// One attacking identity: a fresh keypair's network actor, connected to
/// the victim, publishing streams until `until`. Returns the parts it
/// published.
async fn author(target: Arc<Target>, seed: u64, until: Instant) -> u64 {
    let keypair = Keypair::ed25519_from_bytes(*blake3::hash(&seed.to_le_bytes()).as_bytes())
        .expect("a keypair");
    let config = ConsensusConfig {
        p2p: network_config(SocketAddr::from(([127, 0, 0, 1], 0)), &[target.victim]).unwrap(),
        ..ConsensusConfig::default()
    };
    let network: NetworkRef<GontContext> = spawn_network_actor(
        &config,
        keypair,
        &SharedRegistry::global().clone(),
        BorshCodec,
    )
    .await
    .expect("the attacker's network starts");
    // Connected to the victim first (the swarm dials it at once).
    let connected = async {
        loop {
            if let Ok(ractor::rpc::CallResult::Success(peers)) = network
                .call(|reply| NetworkMsg::GetState { reply }, None)
                .await
                && peers > 0
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), connected)
        .await
        .is_err()
    {
        network.stop(None);
        return 0;
    }
    let mut published = 0;
    let mut n = seed << 20;
    while Instant::now() < until {
        let head = target.head.load(Ordering::Relaxed);
        let kind = n % 4;
        n += 1;
        let (height, round) = match kind {
            // The current height's current and next rounds.
            0 | 1 => (Height(head + 1), u32::try_from(n % 5).unwrap()),
            // The next height's first rounds.
            2 => (Height(head + 2), u32::try_from(n % 4).unwrap()),
            // Any height, a proposer that is no validator.
            _ => (Height(head + 1 + n % 3), 0),
        };
        let proposer = if kind == 3 {
            Address(
                PrivateKey::from_seed(*blake3::hash(&n.to_le_bytes()).as_bytes())
                    .public_key()
                    .address(),
            )
        } else {
            select_proposer(&target.set, height, Round::new(round)).address()
        };
        for part in stream(&target, n, height, round, proposer) {
            if network.cast(NetworkMsg::PublishProposalPart(part)).is_err() {
                return published;
            }
            published += 1;
        }
        // The actor's mailbox is unbounded: wait until it has handed the
        // parts to its swarm, whose queues are bounded.
        let _ = network
            .call(|reply| NetworkMsg::GetState { reply }, None)
            .await;
    }
    network.stop(None);
    published
}

#[test]
fn a_validator_flooded_with_proposal_parts_by_fresh_keys_keeps_its_memory_bounded_and_the_chain_finalizes()
 {
    let dir = tempfile::tempdir().unwrap();
    let net = Devnet::start(dir.path(), RPC_PORT, BASE_PORT);
    let genesis = Genesis::from_json(
        &std::fs::read_to_string(dir.path().join("node0").join(files::GENESIS)).unwrap(),
    )
    .unwrap();
    let (validators, params) = genesis
        .chain_consensus(gont_core::ChainId(SPACE))
        .unwrap()
        .unwrap();
    let space = net.rpc(0, SPACE);
    let target = Arc::new(Target {
        ctx: GontContext::new(gont_core::ChainId(SPACE), params).unwrap(),
        set: gont_consensus::ValidatorSet::new(validators),
        // Node 0's Space consensus port (see `gont_node::devnet_plan`).
        victim: SocketAddr::from(([127, 0, 0, 1], BASE_PORT + 10)),
        head: Arc::new(AtomicU64::new(height(space))),
    });
    let victim = net.pids()[0];
    // Settle: the node's memory after its first blocks.
    std::thread::sleep(Duration::from_secs(3));
    let before = rss_kib(victim);
    let from = height(space);

    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (done, head) = (done.clone(), target.head.clone());
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(victim));
                if let Ok(answer) = client::blocking::call(space, "eth_blockNumber", &json!([]))
                    && let Some(h) = quantity(&answer)
                {
                    head.store(h, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            peak
        })
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let end = started + FLOOD;
    let (published, identities) = runtime.block_on(async {
        let mut authors = tokio::task::JoinSet::new();
        let mut seed = 0;
        let mut published = 0;
        while Instant::now() < end {
            while authors.len() < AUTHORS {
                seed += 1;
                let until = (Instant::now() + IDENTITY).min(end);
                authors.spawn(author(target.clone(), seed, until));
            }
            if let Some(result) = authors.join_next().await {
                published += result.unwrap();
            }
        }
        while let Some(result) = authors.join_next().await {
            published += result.unwrap();
        }
        (published, seed)
    });
    let flooded = started.elapsed();
    let to = height(space);
    done.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    let grown_mib = peak.saturating_sub(before) / 1024;
    let received_mib = parts_received(&net.metrics(0)) / (1024 * 1024);
    // Node 0 relays none of it: the other validators received the honest
    // proposals only (a few KiB each block).
    let relayed_kib: Vec<u64> = (1..4)
        .map(|i| parts_received(&net.metrics(i)) / 1024)
        .collect();
    println!(
        "flood of {:.0} s: {published} parts published by {identities} identities; \
         node 0 received {received_mib} MiB of parts and nodes 1 to 3 {relayed_kib:?} KiB, \
         resident {} MiB before, peak {} MiB (+{grown_mib} MiB, bound +{RSS_BOUND_MIB} MiB); \
         the Space went from #{from} to #{to}",
        flooded.as_secs_f64(),
        before / 1024,
        peak / 1024,
    );
    assert!(
        received_mib >= RECEIVED_MIB,
        "only {received_mib} MiB of proposal parts reached node 0"
    );
    assert!(
        relayed_kib.iter().all(|kib| *kib < RELAYED_KIB),
        "node 0 passed the flood on: nodes 1 to 3 received {relayed_kib:?} KiB of parts"
    );
    assert!(
        grown_mib <= RSS_BOUND_MIB,
        "node 0 grew by {grown_mib} MiB under the flood"
    );
    assert!(
        to >= from + 10,
        "the Space finalized only #{from}..#{to} during the flood"
    );
    net.kill();
}
