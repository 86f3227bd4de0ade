//! Signing with ed25519 validator keys, and what exactly is signed.
//!
//! - A **vote** signs Tendermint's length-prefixed protobuf `CanonicalVote`
//!   (type, height, round, block id with an empty part-set header,
//!   timestamp, chain id): the bytes `tendermint::vote::Vote::into_signable_vec`
//!   produces. A vote for a value carries the value's header time as its
//!   timestamp; a nil vote carries the Unix epoch. Sign bytes are thus a pure
//!   function of the vote (Malachite rebuilds votes from certificates), and
//!   a precommit is, byte for byte, a Tendermint precommit: commits convert
//!   to tendermint-rs `Commit`s one to one (see [`crate::commit`]).
//! - A **proposal** signs `"gont proposal v1" ‖ borsh(chain id, height,
//!   round, value id, pol round, proposer)`.
//! - A **proposal stream** is signed once, in its `Fin` part: Tendermint's
//!   length-prefixed protobuf `CanonicalProposal` of the streamed block
//!   ([`stream_sign_bytes`]), so that two streams of different blocks for
//!   one round are evidence anyone can check
//!   ([`gont_core::evidence::DuplicateProposal`]). The data is bound through
//!   the block id: a receiver checks that the header commits to the body it
//!   reassembled ([`gont_core::Block::check_body`]).
//!
//! The scheme type is ours rather than Malachite's ed25519 crate so that its
//! signature and key types can implement borsh (the orphan rule).

use borsh::BorshSerialize;
use gont_core::evidence::{self, VoteKind};
use gont_core::{ConsensusKey, Signature};
use malachitebft_core_types as mc;
use mc::{NilOrVal, Round, SignedMessage, VoteType};

use crate::context::GontContext;
use crate::messages::{Proposal, ProposalInit, ProposalPart, Vote};
use crate::types::{Height, ValueId};

/// The ed25519 signing scheme with GONT's key and signature types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519;

/// A private validator key.
#[derive(Clone)]
pub struct PrivateKey(ed25519_consensus::SigningKey);

impl PrivateKey {
    /// From a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_consensus::SigningKey::from(seed))
    }

    /// The 32-byte seed (for the libp2p identity).
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> ConsensusKey {
        ConsensusKey::of(&self.0)
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public_key())
    }
}

/// A signature of the wrong length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an ed25519 signature is 64 bytes, got {0}")]
pub struct SignatureLengthError(pub usize);

impl mc::SigningScheme for Ed25519 {
    type DecodingError = SignatureLengthError;
    type Signature = Signature;
    type PublicKey = ConsensusKey;
    type PrivateKey = PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, SignatureLengthError> {
        <[u8; 64]>::try_from(bytes)
            .map(Signature)
            .map_err(|_| SignatureLengthError(bytes.len()))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }
}

/// The bytes a vote signs: Tendermint's canonical vote
/// ([`gont_core::evidence::vote_sign_bytes`], which evidence is checked
/// with). `None` when the height, round or time is outside Tendermint's
/// range (no such vote can be signed or verified).
pub fn vote_sign_bytes(
    chain: &tendermint::chain::Id,
    typ: VoteType,
    height: Height,
    round: Round,
    value: &NilOrVal<ValueId>,
) -> Option<Vec<u8>> {
    let kind = match typ {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    };
    let value = match value {
        NilOrVal::Val(id) => Some((id.block, id.time)),
        NilOrVal::Nil => None,
    };
    evidence::vote_sign_bytes(chain, kind, height.to_core(), round.as_u32()?, value)
}

#[derive(BorshSerialize)]
struct ProposalSignBytes<'a> {
    domain: &'static str,
    chain_id: gont_core::ChainId,
    height: Height,
    round: Round,
    value_id: ValueId,
    pol_round: Round,
    proposer: &'a crate::types::Address,
}

/// The bytes a proposal signs.
pub fn proposal_sign_bytes(ctx: &GontContext, proposal: &Proposal) -> Vec<u8> {
    borsh::to_vec(&ProposalSignBytes {
        domain: "gont proposal v1",
        chain_id: ctx.chain_id(),
        height: proposal.height,
        round: proposal.round,
        value_id: proposal.value.id(),
        pol_round: proposal.pol_round,
        proposer: &proposal.validator_address,
    })
    .unwrap_or_default()
}

/// What the `Fin` part of a stream proposing the block `value` with `init`
/// signs on `ctx`'s chain: [`gont_core::evidence::proposal_sign_bytes`].
/// `None` when the height, a round or the time is outside Tendermint's
/// range.
pub fn stream_sign_bytes(
    ctx: &GontContext,
    init: &ProposalInit,
    value: ValueId,
) -> Option<Vec<u8>> {
    evidence::proposal_sign_bytes(
        ctx.tendermint_chain_id(),
        init.height.to_core(),
        init.round.as_u32()?,
        init.pol_round.as_u32(),
        (value.block, value.time),
    )
}

/// Signs the stream proposing `value` with `init`.
pub fn sign_stream(
    ctx: &GontContext,
    key: &PrivateKey,
    init: &ProposalInit,
    value: ValueId,
) -> Signature {
    match stream_sign_bytes(ctx, init, value) {
        Some(bytes) => key.sign(&bytes),
        None => key.sign(UNSIGNABLE),
    }
}

fn part_sign_bytes(ctx: &GontContext, part: &ProposalPart) -> Vec<u8> {
    let mut out = b"gont proposal part v1".to_vec();
    out.extend_from_slice(&ctx.chain_id().0.to_le_bytes());
    out.extend_from_slice(&borsh::to_vec(part).unwrap_or_default());
    out
}

/// A validator's message may not be signed (out of Tendermint's ranges): it
/// signs this instead, which matches no verifiable message.
const UNSIGNABLE: &[u8] = b"gont: unsignable message";

/// Signs and verifies one chain's consensus messages with one key.
#[derive(Clone, Debug)]
pub struct Signer {
    ctx: GontContext,
    key: PrivateKey,
}

impl Signer {
    /// A signer for `ctx`'s chain.
    pub const fn new(ctx: GontContext, key: PrivateKey) -> Self {
        Self { ctx, key }
    }

    /// The public key.
    pub fn public_key(&self) -> ConsensusKey {
        self.key.public_key()
    }

    /// The private key.
    pub const fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// The chain.
    pub const fn context(&self) -> &GontContext {
        &self.ctx
    }
}

/// Whether `signature` is `key`'s signature of `vote` on `ctx`'s chain.
pub fn verify_vote(
    ctx: &GontContext,
    vote: &Vote,
    signature: &Signature,
    key: &ConsensusKey,
) -> bool {
    vote_sign_bytes(
        ctx.tendermint_chain_id(),
        vote.typ,
        vote.height,
        vote.round,
        &vote.value,
    )
    .is_some_and(|bytes| key.verify(&bytes, &signature.0))
}

/// Signs `vote` with `key` on `ctx`'s chain.
pub fn sign_vote(ctx: &GontContext, key: &PrivateKey, vote: &Vote) -> Signature {
    match vote_sign_bytes(
        ctx.tendermint_chain_id(),
        vote.typ,
        vote.height,
        vote.round,
        &vote.value,
    ) {
        Some(bytes) => key.sign(&bytes),
        None => key.sign(UNSIGNABLE),
    }
}

impl mc::SigningProvider<GontContext> for Signer {
    fn sign_vote(&self, vote: Vote) -> SignedMessage<GontContext, Vote> {
        let signature = sign_vote(&self.ctx, &self.key, &vote);
        SignedMessage::new(vote, signature)
    }

    fn verify_signed_vote(&self, vote: &Vote, signature: &Signature, key: &ConsensusKey) -> bool {
        verify_vote(&self.ctx, vote, signature, key)
    }

    fn sign_proposal(&self, proposal: Proposal) -> SignedMessage<GontContext, Proposal> {
        let signature = self.key.sign(&proposal_sign_bytes(&self.ctx, &proposal));
        SignedMessage::new(proposal, signature)
    }

    fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        key: &ConsensusKey,
    ) -> bool {
        key.verify(&proposal_sign_bytes(&self.ctx, proposal), &signature.0)
    }

    fn sign_proposal_part(&self, part: ProposalPart) -> SignedMessage<GontContext, ProposalPart> {
        let signature = self.key.sign(&part_sign_bytes(&self.ctx, &part));
        SignedMessage::new(part, signature)
    }

    fn verify_signed_proposal_part(
        &self,
        part: &ProposalPart,
        signature: &Signature,
        key: &ConsensusKey,
    ) -> bool {
        key.verify(&part_sign_bytes(&self.ctx, part), &signature.0)
    }

    fn sign_vote_extension(&self, extension: ()) -> SignedMessage<GontContext, ()> {
        let signature = self.key.sign(b"gont: vote extensions are not used");
        SignedMessage::new(extension, signature)
    }

    fn verify_signed_vote_extension(
        &self,
        _extension: &(),
        _signature: &Signature,
        _key: &ConsensusKey,
    ) -> bool {
        // GONT uses no vote extensions; any extension is refused.
        false
    }
}
