//! Byzantine validators: what they send instead of, or beside, what the
//! protocol asks (the honest paths are in the parent module).

use gont_core::{ExecutionEngine, PayloadAttributes, RawTransaction, Timestamp};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamMessage};
use malachitebft_core_driver::Input;
use malachitebft_core_types::{self as mc, NilOrVal, Round, SignedVote};

use crate::commit;
use crate::context::GontContext;
use crate::driver::parts;
use crate::messages::{ProposalInit, ProposalPart};
use crate::signing::{PrivateKey, sign_vote};
use crate::types::{Address, Height, Value, ValueId};

use super::durable::forkchoice;
use super::{Dest, Effects, Msg, Node, peer_id};
use crate::sim::SIM_GENESIS_MS;
use crate::sim::engine::{POISON, SimEngine};

/// How a simulated validator behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Follows the protocol.
    Honest,
    /// Sends conflicting votes and proposals to different halves of the network.
    Equivocate,
    /// Never sends its votes.
    Withhold,
    /// Forgets its lock: prevotes every proposal it sees.
    Amnesia,
    /// Votes honestly, but as proposer streams many signed values in one
    /// round, and at every tick floods every peer with proposal parts:
    /// streams under fresh identities signed by fresh keys, and its own
    /// signed streams for later heights and rounds, left incomplete.
    Flood,
}

impl Node {
    /// Malachite's `GetValue`: the driver's value and its parts, published;
    /// an equivocator sends another block's to half the network, a
    /// flooder several blocks' to everyone.
    pub(super) fn get_value(&mut self, height: Height, round: Round, now: u64, fx: &mut Effects) {
        let value = match self.app.value_to_propose(height, round) {
            Ok(value) => value,
            Err(e) => return self.fail(&e, fx),
        };
        let parts = self.app.parts(&value, height, round, Round::Nil);
        fx.proposed.push(value.clone());
        match self.behavior {
            Behavior::Equivocate => {
                self.send_parts(Dest::Half(true), &parts, fx);
                if let Some(other) = self.build_other(height, round, now, 0) {
                    let others = self.app.parts(&other, height, round, Round::Nil);
                    fx.proposed.push(other);
                    self.send_parts(Dest::Half(false), &others, fx);
                }
            }
            Behavior::Flood => {
                self.send_parts(Dest::All, &parts, fx);
                for n in 1..=4 {
                    if let Some(other) = self.build_other(height, round, now, n) {
                        let others = self.app.parts(&other, height, round, Round::Nil);
                        fx.proposed.push(other);
                        self.send_parts(Dest::All, &others, fx);
                    }
                }
            }
            Behavior::Honest | Behavior::Withhold | Behavior::Amnesia => {
                self.send_parts(Dest::All, &parts, fx);
            }
        }
        self.own_parts = Some((round, parts));
        self.feed(Input::ProposeValue(round, value), now, fx);
    }

    pub(super) fn send_parts(
        &self,
        dest: Dest,
        parts: &[StreamMessage<ProposalPart>],
        fx: &mut Effects,
    ) {
        let me = self.peer();
        for part in parts {
            fx.send.push((dest, Msg::Part(me, part.clone())));
        }
    }

    /// A byzantine proposer's other block for `(height, round)`, built on
    /// an engine of its own: with the poison transaction honest engines
    /// refuse (`n` = 0), or another valid block (`n` > 0).
    fn build_other(&mut self, height: Height, round: Round, now: u64, n: u64) -> Option<Value> {
        let mut engine = SimEngine::new(self.ctx.chain_id(), self.schedule.clone());
        for (value, _) in &self.decided {
            engine.new_payload(value.block()).ok()?;
            engine.forkchoice_updated(forkchoice(value.id())).ok()?;
        }
        let mut txs = vec![RawTransaction(
            format!(
                "other h{} r{} v{} n{n}",
                height.0,
                round.as_i64(),
                self.index
            )
            .into_bytes()
            .into(),
        )];
        if n == 0 {
            txs.push(RawTransaction(POISON.to_vec().into()));
        }
        let parent = self.decided.last();
        let attributes = PayloadAttributes {
            timestamp: Timestamp(
                (SIM_GENESIS_MS + now).max(parent.map_or(0, |(v, _)| v.id().time.as_millis() + 1)),
            ),
            proposer: self.address.0,
            fee_recipient: gont_core::Address::ZERO,
            validators_hash: self.schedule.set_at(height.0).hash(),
            evidence: Vec::new(),
            last_commit: parent.and_then(|(_, cert)| {
                commit::to_core(cert, self.schedule.set_at(cert.height.0)).ok()
            }),
        };
        let block = engine
            .build_payload(parent.map(|(v, _)| v.id().block), attributes, &txs)
            .ok()?;
        Value::new(block).ok()
    }

    /// A flooder's tick: to every peer, parts of streams under fresh gossip
    /// identities, half signed by fresh keys naming themselves (never a
    /// proposer), half naming this validator for later heights and rounds
    /// (which a driver admits), a chunk of data each and never finished.
    pub(super) fn flood(&mut self, fx: &mut Effects) {
        let height = self.height();
        let chunk = vec![0xF1; FLOOD_CHUNK];
        for k in 0..FLOOD_STREAMS {
            let seed = self.rng.bytes32();
            let proposer = if k % 2 == 0 {
                Address(PrivateKey::from_seed(seed).public_key().address())
            } else {
                self.address
            };
            let ahead = self.rng.range(0, parts::HEIGHTS_AHEAD + 2);
            let init = ProposalInit {
                chain_id: self.ctx.chain_id(),
                height: Height(height.0 + ahead),
                round: Round::new(u32::try_from(self.rng.below(6)).unwrap_or(0)),
                pol_round: Round::Nil,
                proposer,
            };
            let id = parts::stream_id(&self.ctx, init.height, init.round);
            let author = peer_id(seed);
            for (seq, part) in [ProposalPart::Init(init), ProposalPart::Data(chunk.clone())]
                .into_iter()
                .enumerate()
            {
                let msg = StreamMessage::new(id.clone(), seq as u64, StreamContent::Data(part));
                fx.send.push((Dest::All, Msg::Part(author, msg)));
            }
        }
    }

    pub(super) fn send_vote(&mut self, signed: &SignedVote<GontContext>, fx: &mut Effects) {
        match self.behavior {
            Behavior::Withhold => {}
            Behavior::Equivocate => {
                let mut other = signed.message.clone();
                other.value = match other.value {
                    NilOrVal::Val(_) => NilOrVal::Nil,
                    NilOrVal::Nil => NilOrVal::Val(ValueId {
                        block: gont_core::BlockId(self.rng.bytes32()),
                        time: Timestamp(SIM_GENESIS_MS),
                    }),
                };
                let signature = sign_vote(&self.ctx, &self.key, &other);
                fx.send.push((Dest::Half(true), Msg::Vote(signed.clone())));
                fx.send.push((
                    Dest::Half(false),
                    Msg::Vote(mc::SignedMessage::new(other, signature)),
                ));
            }
            Behavior::Honest | Behavior::Amnesia | Behavior::Flood => {
                fx.send.push((Dest::All, Msg::Vote(signed.clone())));
            }
        }
    }
}

/// Streams a flooder starts per tick.
const FLOOD_STREAMS: usize = 12;

/// The data a flooder's stream carries.
const FLOOD_CHUNK: usize = 64 * 1024;
