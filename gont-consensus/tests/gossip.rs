//! What Malachite's network (GONT's patched copy, the one every node runs)
//! forwards: three of its actors on loopback in a line, A and C each
//! connected only to B. Votes A publishes reach C through B; proposal
//! parts reach B and stop there, since B's application has not judged
//! them (any peer can author parts, signed by any key).

// Test code: a failed unwrap is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use gont_consensus::codec::BorshCodec;
use gont_consensus::driver::network_config;
use gont_consensus::signing::sign_vote;
use gont_consensus::{Address, GontContext, Height, PrivateKey, ProposalPart, Vote};
use gont_core::{ChainId, ConsensusParams};
use malachitebft_app_channel::app::config::ConsensusConfig;
use malachitebft_app_channel::app::engine::network::{Msg as NetworkMsg, NetworkEvent, NetworkRef};
use malachitebft_app_channel::app::metrics::SharedRegistry;
use malachitebft_app_channel::app::spawn::spawn_network_actor;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::app::types::SignedConsensusMsg;
use malachitebft_core_types::{NilOrVal, Round, SignedMessage, VoteType};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;

/// What a tap saw: a vote or a proposal part.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Vote,
    Part,
}

struct TapMsg(Option<Seen>);

impl From<NetworkEvent<GontContext>> for TapMsg {
    fn from(event: NetworkEvent<GontContext>) -> Self {
        Self(match event {
            NetworkEvent::Vote(..) => Some(Seen::Vote),
            NetworkEvent::ProposalPart(..) => Some(Seen::Part),
            _ => None,
        })
    }
}

/// Passes what a network actor received to the test.
struct Tap;

#[async_trait::async_trait]
impl Actor for Tap {
    type Msg = TapMsg;
    type State = mpsc::UnboundedSender<Seen>;
    type Arguments = mpsc::UnboundedSender<Seen>;

    async fn pre_start(
        &self,
        _: ActorRef<TapMsg>,
        sender: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(sender)
    }

    async fn handle(
        &self,
        _: ActorRef<TapMsg>,
        msg: TapMsg,
        sender: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let TapMsg(Some(seen)) = msg {
            let _ = sender.send(seen);
        }
        Ok(())
    }
}

/// A network actor listening on `port`, dialling `peers`, and what it
/// receives.
async fn node(
    seed: u8,
    port: u16,
    peers: &[u16],
) -> (NetworkRef<GontContext>, mpsc::UnboundedReceiver<Seen>) {
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let peers: Vec<SocketAddr> = peers.iter().copied().map(at).collect();
    let config = ConsensusConfig {
        p2p: network_config(at(port), &peers).unwrap(),
        ..ConsensusConfig::default()
    };
    let keypair = Keypair::ed25519_from_bytes([seed; 32]).unwrap();
    let network = spawn_network_actor(
        &config,
        keypair,
        &SharedRegistry::global().clone(),
        BorshCodec,
    )
    .await
    .expect("the network actor starts");
    let (sender, receiver) = mpsc::unbounded_channel();
    let (tap, _) = Actor::spawn(None, Tap, sender).await.unwrap();
    network.cast(NetworkMsg::Subscribe(Box::new(tap))).unwrap();
    (network, receiver)
}

/// A signed prevote at `height` by a fixed key.
fn vote(height: u64) -> SignedConsensusMsg<GontContext> {
    let ctx = GontContext::new(ChainId(9), ConsensusParams::default()).unwrap();
    let key = PrivateKey::from_seed([3; 32]);
    let vote = Vote::new(
        VoteType::Prevote,
        Height(height),
        Round::new(0),
        NilOrVal::Nil,
        Address(key.public_key().address()),
    );
    let signature = sign_vote(&ctx, &key, &vote);
    SignedConsensusMsg::Vote(SignedMessage::new(vote, signature))
}

/// A proposal data part, numbered `n`.
fn part(n: u64) -> StreamMessage<ProposalPart> {
    StreamMessage::new(
        StreamId::new(Bytes::from(n.to_be_bytes().to_vec())),
        0,
        StreamContent::Data(ProposalPart::Data(vec![7; 1024])),
    )
}

/// Waits up to `within` for `rx` to yield `what`; other items are skipped.
async fn saw(rx: &mut mpsc::UnboundedReceiver<Seen>, what: Seen, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Some(seen) = rx.recv().await {
            if seen == what {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_are_forwarded_but_proposal_parts_the_application_has_not_judged_are_not() {
    const B: u16 = 29_811;
    let (b, mut at_b) = node(2, B, &[]).await;
    let (a, _) = node(1, 29_812, &[B]).await;
    let (c, mut at_c) = node(3, 29_813, &[B]).await;
    // Votes from A reach C through B once B's gossip mesh holds both: the
    // line is up and B forwards.
    let mut forwarded = false;
    for height in 1..=30 {
        a.cast(NetworkMsg::PublishConsensusMsg(vote(height)))
            .unwrap();
        if saw(&mut at_c, Seen::Vote, Duration::from_secs(1)).await {
            forwarded = true;
            break;
        }
    }
    assert!(forwarded, "no vote from A reached C through B in 30 s");
    // Parts from A reach B, and B does not pass them on.
    for n in 0..5 {
        a.cast(NetworkMsg::PublishProposalPart(part(n))).unwrap();
    }
    assert!(
        saw(&mut at_b, Seen::Part, Duration::from_secs(10)).await,
        "A's proposal parts did not reach B"
    );
    assert!(
        !saw(&mut at_c, Seen::Part, Duration::from_secs(4)).await,
        "B forwarded proposal parts its application had not judged"
    );
    // Votes still go through afterwards.
    a.cast(NetworkMsg::PublishConsensusMsg(vote(100))).unwrap();
    assert!(saw(&mut at_c, Seen::Vote, Duration::from_secs(10)).await);
    for network in [a, b, c] {
        network.stop(None);
    }
}
