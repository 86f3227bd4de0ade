//! Evidence in the running node: the votes Malachite's network actor
//! receives are tapped ([`tap`]) and fed to an [`EvidenceDetector`], as
//! are the proposal streams the application verified; what
//! it finds waits in the [`EvidencePool`] until a block carries it. This
//! validator's proposals include the pool ([`EvidencePool::pending`]); the
//! execution engine leaves out what does not hold or is punished already.

use gont_core::{Block, Evidence};
use malachitebft_core_types::SignedVote as MalachiteSignedVote;
use malachitebft_engine::network::{Msg as NetworkMsg, NetworkEvent, NetworkRef};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;

use crate::context::GontContext;
use crate::evidence::{EvidenceDetector, SignedProposal, SignedVote};
use crate::types::Height;
use crate::validators::ValidatorSet;

/// A vote as Malachite's network delivers it.
pub(crate) type NetworkVote = MalachiteSignedVote<GontContext>;

/// Votes waiting for the application loop; more are dropped (evidence is
/// best effort: the other validators see the same votes).
const TAP_CAPACITY: usize = 4_096;

/// The most pieces of evidence waiting for a block.
const POOL_CAPACITY: usize = 64;

/// What the tap actor receives from the network actor's output port.
pub(super) struct TapMsg(Option<NetworkVote>);

impl From<NetworkEvent<GontContext>> for TapMsg {
    fn from(event: NetworkEvent<GontContext>) -> Self {
        match event {
            NetworkEvent::Vote(_, vote) => Self(Some(vote)),
            _ => Self(None),
        }
    }
}

/// Forwards received votes to the application loop.
struct VoteTap;

#[async_trait::async_trait]
impl Actor for VoteTap {
    type Msg = TapMsg;
    type State = mpsc::Sender<NetworkVote>;
    type Arguments = mpsc::Sender<NetworkVote>;

    async fn pre_start(
        &self,
        _: ActorRef<TapMsg>,
        sender: mpsc::Sender<NetworkVote>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(sender)
    }

    async fn handle(
        &self,
        _: ActorRef<TapMsg>,
        msg: TapMsg,
        sender: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let TapMsg(Some(vote)) = msg {
            // Full: the loop is behind; dropping a vote loses at most one
            // node's view of one double sign.
            let _ = sender.try_send(vote);
        }
        Ok(())
    }
}

/// Subscribes a tap, supervised by `engine` (it stops with it), to
/// `network`'s events; returns the receiving end of the votes.
pub(super) async fn tap(
    network: &NetworkRef<GontContext>,
    engine: &ractor::ActorCell,
) -> Result<mpsc::Receiver<NetworkVote>, String> {
    let (sender, receiver) = mpsc::channel(TAP_CAPACITY);
    let (actor, _) = Actor::spawn_linked(None, VoteTap, sender, engine.clone())
        .await
        .map_err(|e| format!("the vote tap does not start: {e}"))?;
    network
        .cast(NetworkMsg::Subscribe(Box::new(actor)))
        .map_err(|e| format!("the network actor does not take a subscriber: {e}"))?;
    Ok(receiver)
}

/// Double signs found and not yet in a block.
#[derive(Debug)]
pub(super) struct EvidencePool {
    detector: EvidenceDetector,
    pending: Vec<Evidence>,
    max_age: u64,
}

impl EvidencePool {
    /// A pool for the chain of `ctx`; evidence older than its unbonding
    /// period is dropped, as the engine would refuse it.
    pub(super) fn new(ctx: &GontContext) -> Self {
        Self {
            detector: EvidenceDetector::new(ctx),
            pending: Vec::new(),
            max_age: ctx.params().unbonding_period_blocks,
        }
    }

    /// Watches `vote`, cast at a height whose set is `set`.
    pub(super) fn observe(&mut self, vote: NetworkVote, set: &ValidatorSet) {
        let vote = SignedVote {
            vote: vote.message,
            signature: vote.signature,
        };
        let found = self.detector.observe(vote, set);
        self.keep(found, "double signing detected");
    }

    /// Watches a proposal whose stream signature verified, made at a
    /// height whose set is `set`.
    pub(super) fn observe_proposal(&mut self, proposal: SignedProposal, set: &ValidatorSet) {
        let found = self.detector.observe_proposal(proposal, set);
        self.keep(found, "double proposing detected");
    }

    fn keep(&mut self, found: Option<Evidence>, what: &str) {
        let Some(evidence) = found else {
            return;
        };
        tracing::warn!(
            offender = %evidence.offender(),
            height = %evidence.height(),
            "{what}"
        );
        if self.pending.len() < POOL_CAPACITY && !self.pending.contains(&evidence) {
            self.pending.push(evidence);
        }
    }

    /// What a block this validator proposes should carry.
    pub(super) fn pending(&self) -> Vec<Evidence> {
        self.pending.clone()
    }

    /// Forgets what `block` carries, any offence of the same offenders at
    /// or below those heights (punished already), votes below `watch_from`,
    /// and evidence too old for a block after `block`.
    pub(super) fn committed(&mut self, block: &Block, watch_from: Height) {
        let carried = &block.body.evidence;
        let next = block.header.height.0.saturating_add(1);
        self.pending.retain(|e| {
            let punished = carried
                .iter()
                .any(|c| c.offender() == e.offender() && c.height() >= e.height());
            !punished && next - e.height().0.min(next) <= self.max_age
        });
        self.detector.prune_below(watch_from);
    }
}
