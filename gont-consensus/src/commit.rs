//! Commit certificates in two shapes, and conversion between them:
//! Malachite's (the precommit signatures that formed the quorum) and
//! gont-core's [`gont_core::CommitCertificate`] (one entry per validator,
//! in set order, as Tendermint's). `gont_core::light` turns the latter into
//! tendermint-rs's `SignedHeader` for the light-client verifier.
//!
//! Every precommit for a block carries the block's header time (see
//! [`crate::signing`]), so the conversion is exact in both directions.

use gont_core::{CommitCertificate, CommitSig, Timestamp};
use malachitebft_core_types as mc;
use mc::Round;

use crate::context::GontContext;
use crate::types::{Address, Height, ValueId};
use crate::validators::ValidatorSet;

/// Malachite's commit certificate for the GONT context.
pub type MalachiteCommit = mc::CommitCertificate<GontContext>;

/// Why a commit does not convert or verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// A signer is not in the validator set.
    #[error("signer {0} is not in the validator set")]
    UnknownSigner(Address),
    /// A validator signed twice.
    #[error("validator {0} signed twice")]
    DuplicateSigner(Address),
    /// The commit does not hold: a signature, or the quorum.
    #[error(transparent)]
    Invalid(#[from] gont_core::block::CommitError),
    /// The commit has one entry per validator, and this many entries.
    #[error("commit has {got} entries for a set of {expected}")]
    Length {
        /// Entries expected (the set's size).
        expected: usize,
        /// Entries found.
        got: usize,
    },
    /// A `ForBlock` entry's time is not the block's header time.
    #[error("precommit time {0:?} is not the block time")]
    Timestamp(Timestamp),
    /// The round is nil.
    #[error("commit round is nil")]
    NilRound,
}

/// gont-core's form of a Malachite commit: one entry per member of `set`,
/// in set order, absent where the member did not sign.
pub fn to_core(
    cert: &MalachiteCommit,
    set: &ValidatorSet,
) -> Result<CommitCertificate, CommitError> {
    let mut entries = vec![CommitSig::Absent; set.members().len()];
    for sig in &cert.commit_signatures {
        let (index, _) = set
            .position(&sig.address)
            .ok_or(CommitError::UnknownSigner(sig.address))?;
        let slot = entries
            .get_mut(index)
            .ok_or(CommitError::UnknownSigner(sig.address))?;
        if !matches!(slot, CommitSig::Absent) {
            return Err(CommitError::DuplicateSigner(sig.address));
        }
        *slot = CommitSig::ForBlock {
            validator: sig.address.0,
            timestamp: cert.value_id.time,
            signature: sig.signature,
        };
    }
    Ok(CommitCertificate {
        height: cert.height.to_core(),
        round: cert.round.as_u32().ok_or(CommitError::NilRound)?,
        block_id: cert.value_id.block,
        signatures: entries,
    })
}

/// Malachite's form of a gont-core commit of a block whose header time is
/// `time` (nil precommits are dropped: Malachite's certificate holds only
/// the precommits for the block).
pub fn from_core(
    commit: &CommitCertificate,
    time: Timestamp,
) -> Result<MalachiteCommit, CommitError> {
    let mut signatures = Vec::new();
    for entry in &commit.signatures {
        if let CommitSig::ForBlock {
            validator,
            timestamp,
            signature,
        } = entry
        {
            if *timestamp != time {
                return Err(CommitError::Timestamp(*timestamp));
            }
            signatures.push(mc::CommitSignature::new(Address(*validator), *signature));
        }
    }
    Ok(mc::CommitCertificate {
        height: Height(commit.height.0),
        round: Round::new(commit.round),
        value_id: ValueId {
            block: commit.block_id,
            time,
        },
        commit_signatures: signatures,
    })
}

/// Checks a Malachite commit against `set`: every signer a member, once
/// ([`to_core`]), then what [`gont_core::CommitCertificate::verify`]
/// checks of every commit (signatures over the canonical precommit, more
/// than two thirds of the power). Returns the power that signed.
pub fn verify(
    ctx: &GontContext,
    cert: &MalachiteCommit,
    set: &ValidatorSet,
) -> Result<u64, CommitError> {
    let signed = to_core(cert, set)?.verify(ctx.chain_id(), set.core())?;
    Ok(set
        .core()
        .validators()
        .iter()
        .zip(signed)
        .filter(|(_, signed)| *signed)
        .fold(0u64, |power, (v, _)| power.saturating_add(v.power.0)))
}

/// Checks that a gont-core commit has one entry per member of `set`.
pub fn check_shape(commit: &CommitCertificate, set: &ValidatorSet) -> Result<(), CommitError> {
    if commit.signatures.len() != set.members().len() {
        return Err(CommitError::Length {
            expected: set.members().len(),
            got: commit.signatures.len(),
        });
    }
    Ok(())
}
