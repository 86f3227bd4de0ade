//! Light-client verification of GONT chains, with tendermint-rs's
//! production verifier (`ProdVerifier`) unchanged: a GONT header and commit
//! map onto Tendermint's (see [`crate::header`]), so a decided block is a
//! Tendermint [`LightBlock`].
//!
//! - [`light_block`]: a decided block, its commit and its validator sets as
//!   a [`LightBlock`] (the form `gont_getSignedHeader` serves, CometBFT's
//!   JSON shape).
//! - [`LightClient`]: a trusted state (a chain's genesis, or a block trusted
//!   by its hash) advanced by adjacent or skipping verification with a trust
//!   threshold of 1/3. The verified block's [`state_root`] is what state
//!   proofs (`crate::state_proof`) are checked against.
//!
//! Pure: the caller passes the time (`now`) and fetches the blocks.

use std::time::Duration;

use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{
    PeerId, TrustThreshold, TrustedBlockState, UntrustedBlockState,
};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};

pub use tendermint_light_client_verifier::errors::VerificationErrorDetail;
pub use tendermint_light_client_verifier::types::LightBlock;

use crate::block::{CommitCertificate, CommitSig};
use crate::header::{Header, HeaderError};
use crate::primitives::{BlockId, ChainId, Hash, Height, Timestamp};
use crate::validator_set::ValidatorSet;

/// Why a block could not be verified or converted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LightError {
    /// The header does not map onto Tendermint's.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The commit is for another block or height than the header.
    #[error("the commit is for block {commit} at height {commit_height}, not the header's")]
    CommitMismatch {
        /// The block the commit signs.
        commit: BlockId,
        /// The height the commit is for.
        commit_height: Height,
    },
    /// A value tendermint-rs refuses (time, round, signature, commit shape).
    #[error("not representable in Tendermint: {0}")]
    Tendermint(&'static str),
    /// The block is of another chain than the trusted state.
    #[error("the block is of chain {got}, the trusted state of {expected}")]
    WrongChain {
        /// The trusted chain.
        expected: String,
        /// The block's chain.
        got: String,
    },
    /// The block is not above the trusted height.
    #[error("height {got} is not above the trusted height {trusted}")]
    NotAbove {
        /// The trusted height.
        trusted: u64,
        /// The block's height.
        got: u64,
    },
    /// The block's hash is not the one trusted.
    #[error("block {got} at height {height} is not the trusted block {expected}")]
    WrongHash {
        /// The height.
        height: u64,
        /// The trusted hash.
        expected: BlockId,
        /// The block's hash.
        got: BlockId,
    },
    /// The validators that signed held no more than the trust threshold of
    /// the trusted set, so the block cannot be reached in one skip.
    #[error("not enough trust: {0}")]
    NotEnoughTrust(String),
    /// tendermint-rs's verifier refused the block: no quorum, a bad
    /// signature, a validator set that does not match the header, an
    /// expired trusted state, a header from the future, …
    #[error("{0}")]
    Invalid(Box<VerificationErrorDetail>),
    /// A source did not deliver a block the verification needed.
    #[error("fetching height {height}: {reason}")]
    Fetch {
        /// The height asked for.
        height: u64,
        /// Why it failed.
        reason: String,
    },
}

pub use crate::header::{tendermint_block_id, tendermint_time};

/// A decided header with its commit as tendermint-rs's `SignedHeader`.
pub fn signed_header(
    header: &Header,
    commit: &CommitCertificate,
) -> Result<tendermint::block::signed_header::SignedHeader, LightError> {
    let id = header.id()?;
    if commit.height != header.height || commit.block_id != id {
        return Err(LightError::CommitMismatch {
            commit: commit.block_id,
            commit_height: commit.height,
        });
    }
    let tm_header = header.to_tendermint()?;
    let signatures = commit
        .signatures
        .iter()
        .map(|entry| {
            let (validator, timestamp, signature, for_block) = match entry {
                CommitSig::Absent => return Ok(tendermint::block::CommitSig::BlockIdFlagAbsent),
                CommitSig::ForBlock {
                    validator,
                    timestamp,
                    signature,
                } => (validator, timestamp, signature, true),
                CommitSig::ForNil {
                    validator,
                    timestamp,
                    signature,
                } => (validator, timestamp, signature, false),
            };
            let validator_address = tendermint::account::Id::new(validator.0);
            let timestamp = tendermint_time(*timestamp).ok_or(LightError::Tendermint("time"))?;
            let signature = tendermint::Signature::try_from(signature.0.as_slice())
                .map_err(|_| LightError::Tendermint("signature"))?;
            Ok(if for_block {
                tendermint::block::CommitSig::BlockIdFlagCommit {
                    validator_address,
                    timestamp,
                    signature: Some(signature),
                }
            } else {
                tendermint::block::CommitSig::BlockIdFlagNil {
                    validator_address,
                    timestamp,
                    signature: Some(signature),
                }
            })
        })
        .collect::<Result<Vec<_>, LightError>>()?;
    let tm_commit = tendermint::block::Commit {
        height: tm_header.height,
        round: tendermint::block::Round::try_from(commit.round)
            .map_err(|_| LightError::Tendermint("round"))?,
        block_id: tendermint_block_id(commit.block_id),
        signatures,
    };
    tendermint::block::signed_header::SignedHeader::new(tm_header, tm_commit)
        .map_err(|_| LightError::Tendermint("commit shape"))
}

/// A decided block as a light block: its signed header, the set that
/// decided it and the set that decides the next block. `provider` is left
/// empty (this crate knows no peers).
pub fn light_block(
    header: &Header,
    commit: &CommitCertificate,
    validators: &ValidatorSet,
    next_validators: &ValidatorSet,
) -> Result<LightBlock, LightError> {
    Ok(LightBlock::new(
        signed_header(header, commit)?,
        validators.to_tendermint(),
        next_validators.to_tendermint(),
        PeerId::new([0; 20]),
    ))
}

/// The block id of a light block's header (Tendermint's header hash).
pub fn block_id(block: &LightBlock) -> BlockId {
    match block.signed_header.header.hash() {
        tendermint::Hash::Sha256(bytes) => BlockId(bytes),
        tendermint::Hash::None => BlockId([0; 32]),
    }
}

/// The state root a light block's header commits to (its `app_hash`).
pub fn state_root(block: &LightBlock) -> Option<Hash> {
    let bytes: [u8; 32] = block
        .signed_header
        .header
        .app_hash
        .as_bytes()
        .try_into()
        .ok()?;
    Some(Hash(bytes))
}

/// How long a trusted state may be used, and how far ahead of `now` a
/// header's time may be. The trust threshold is Tendermint's 1/3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustOptions {
    /// How long after its time a trusted block may start a verification;
    /// it must be shorter than the chain's unbonding period.
    pub trusting_period: Duration,
    /// The most a header's time may be ahead of `now`.
    pub clock_drift: Duration,
}

impl Default for TrustOptions {
    /// Two weeks of trust (ibc-go's usual two thirds of a three-week
    /// unbonding period), 10 s of drift.
    fn default() -> Self {
        Self {
            trusting_period: Duration::from_secs(14 * 24 * 3600),
            clock_drift: Duration::from_secs(10),
        }
    }
}

impl TrustOptions {
    fn tendermint(self) -> Options {
        Options {
            trust_threshold: TrustThreshold::ONE_THIRD,
            trusting_period: self.trusting_period,
            clock_drift: self.clock_drift,
        }
    }
}

/// What a light client trusts.
#[derive(Clone, Debug, PartialEq)]
enum Trusted {
    /// A chain's genesis: its first validator set, trusted from the genesis
    /// file, at height 0.
    Genesis {
        chain_id: tendermint::chain::Id,
        time: tendermint::Time,
        validators: tendermint::validator::Set,
    },
    /// A verified (or hash-trusted) block.
    Block(Box<LightBlock>),
}

/// A light client of one chain. See the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct LightClient {
    trusted: Trusted,
    options: TrustOptions,
}

impl LightClient {
    /// A client that trusts `chain`'s genesis: `validators` decide height 1,
    /// whose time must follow `time`.
    pub fn from_genesis(
        chain: ChainId,
        time: Timestamp,
        validators: &ValidatorSet,
        options: TrustOptions,
    ) -> Result<Self, LightError> {
        let chain_id = tendermint::chain::Id::try_from(chain.tendermint_id())
            .map_err(|_| LightError::Tendermint("chain id"))?;
        let time = tendermint_time(time).ok_or(LightError::Tendermint("time"))?;
        Ok(Self {
            trusted: Trusted::Genesis {
                chain_id,
                time,
                validators: validators.to_tendermint(),
            },
            options,
        })
    }

    /// A client that trusts `block` because its hash is `expected` (a
    /// hash obtained out of band), after checking that the block's
    /// validator sets are the ones its header names.
    pub fn from_trusted_block(
        block: LightBlock,
        expected: BlockId,
        options: TrustOptions,
    ) -> Result<Self, LightError> {
        let got = block_id(&block);
        if got != expected {
            return Err(LightError::WrongHash {
                height: block.height().value(),
                expected,
                got,
            });
        }
        let untrusted = block.as_untrusted_state();
        match ProdVerifier::default().verify_validator_sets(&untrusted) {
            Verdict::Success => {}
            Verdict::NotEnoughTrust(tally) => {
                return Err(LightError::NotEnoughTrust(tally.to_string()));
            }
            Verdict::Invalid(detail) => return Err(LightError::Invalid(Box::new(detail))),
        }
        Ok(Self {
            trusted: Trusted::Block(Box::new(block)),
            options,
        })
    }

    /// The trusted height (0 at genesis).
    pub fn height(&self) -> u64 {
        match &self.trusted {
            Trusted::Genesis { .. } => 0,
            Trusted::Block(block) => block.height().value(),
        }
    }

    /// The trusted block; `None` while only the genesis is trusted.
    pub fn trusted_block(&self) -> Option<&LightBlock> {
        match &self.trusted {
            Trusted::Genesis { .. } => None,
            Trusted::Block(block) => Some(block),
        }
    }

    fn trusted_state(&self) -> TrustedBlockState<'_> {
        match &self.trusted {
            Trusted::Genesis {
                chain_id,
                time,
                validators,
            } => TrustedBlockState {
                chain_id,
                header_time: *time,
                // Height 0, so that block 1 is adjacent (tendermint-rs's
                // `Height::default()` is 1).
                height: tendermint::block::Height::from(0_u32),
                next_validators: validators,
                next_validators_hash: validators.hash(),
            },
            Trusted::Block(block) => block.as_trusted_state(),
        }
    }

    /// Verifies `block` from the trusted state in one step (adjacent, or
    /// skipping with 1/3 of the trusted set's power among its signers).
    /// Changes nothing; see [`Self::update`].
    pub fn verify(&self, block: &LightBlock, now: Timestamp) -> Result<(), LightError> {
        verify_tendermint(self.trusted_state(), block, now, self.options)
    }

    /// Verifies `block` in one step and, if it verifies, trusts it.
    pub fn update(&mut self, block: LightBlock, now: Timestamp) -> Result<(), LightError> {
        self.verify(&block, now)?;
        self.trusted = Trusted::Block(Box::new(block));
        Ok(())
    }

    /// Advances the trusted state to `target`, fetching blocks with
    /// `fetch`, as tendermint-rs's light client does: it tries the target
    /// in one skip, and when too little of the trusted set signed it
    /// (validator sets changed: [`LightError::NotEnoughTrust`]) it first
    /// verifies the block halfway there, and so on (bisection). Every
    /// block verified on the way is trusted in turn; at most
    /// [`MAX_FETCHES`] blocks are fetched.
    pub fn advance_to<E: std::fmt::Display>(
        &mut self,
        target: u64,
        now: Timestamp,
        mut fetch: impl FnMut(u64) -> Result<LightBlock, E>,
    ) -> Result<&LightBlock, LightError> {
        let mut pending = vec![target];
        let mut fetches = 0;
        while let Some(&next) = pending.last() {
            if next <= self.height() {
                pending.pop();
                continue;
            }
            fetches += 1;
            if fetches > MAX_FETCHES {
                return Err(LightError::Fetch {
                    height: next,
                    reason: format!("bisection needs more than {MAX_FETCHES} blocks"),
                });
            }
            let block = fetch(next).map_err(|e| LightError::Fetch {
                height: next,
                reason: e.to_string(),
            })?;
            if block.height().value() != next {
                return Err(LightError::Fetch {
                    height: next,
                    reason: format!("the source answered with height {}", block.height()),
                });
            }
            match self.update(block, now) {
                Ok(()) => {
                    pending.pop();
                }
                // An adjacent block never lacks trust: it is checked
                // against the trusted next-validators hash.
                Err(LightError::NotEnoughTrust(_)) if next > self.height() + 1 => {
                    pending.push(self.height() + (next - self.height()) / 2);
                }
                Err(e) => return Err(e),
            }
        }
        self.trusted_block().ok_or(LightError::NotAbove {
            trusted: 0,
            got: target,
        })
    }
}

/// The most blocks [`LightClient::advance_to`] fetches for one target.
pub const MAX_FETCHES: u32 = 256;

/// A trusted point in GONT terms: what the Space's anchor registry keeps of
/// an anchored checkpoint (or of a service's genesis, at height 0).
#[derive(Clone, Copy, Debug)]
pub struct TrustedState<'a> {
    /// The chain.
    pub chain_id: ChainId,
    /// The trusted height (0: the genesis).
    pub height: Height,
    /// Its header time (the genesis time at 0).
    pub time: Timestamp,
    /// The set that decides the height after it; the caller has checked it
    /// against the hash it trusts.
    pub next_validators: &'a ValidatorSet,
}

/// Verifies `block` from `trusted` in one step, as [`LightClient::verify`]
/// does.
pub fn verify_from(
    trusted: &TrustedState<'_>,
    block: &LightBlock,
    now: Timestamp,
    options: TrustOptions,
) -> Result<(), LightError> {
    let chain_id = tendermint::chain::Id::try_from(trusted.chain_id.tendermint_id())
        .map_err(|_| LightError::Tendermint("chain id"))?;
    let height = tendermint::block::Height::try_from(trusted.height.0)
        .map_err(|_| LightError::Tendermint("height"))?;
    let header_time = tendermint_time(trusted.time).ok_or(LightError::Tendermint("time"))?;
    let next_validators = trusted.next_validators.to_tendermint();
    verify_tendermint(
        TrustedBlockState {
            chain_id: &chain_id,
            header_time,
            height,
            next_validators: &next_validators,
            next_validators_hash: next_validators.hash(),
        },
        block,
        now,
        options,
    )
}

fn verify_tendermint(
    trusted: TrustedBlockState<'_>,
    block: &LightBlock,
    now: Timestamp,
    options: TrustOptions,
) -> Result<(), LightError> {
    let header = &block.signed_header.header;
    if header.chain_id != *trusted.chain_id {
        return Err(LightError::WrongChain {
            expected: trusted.chain_id.to_string(),
            got: header.chain_id.to_string(),
        });
    }
    if header.height <= trusted.height {
        return Err(LightError::NotAbove {
            trusted: trusted.height.value(),
            got: header.height.value(),
        });
    }
    let now = tendermint_time(now).ok_or(LightError::Tendermint("time"))?;
    let verdict = ProdVerifier::default().verify_update_header(
        UntrustedBlockState {
            signed_header: &block.signed_header,
            validators: &block.validators,
            next_validators: Some(&block.next_validators),
        },
        trusted,
        &options.tendermint(),
        now,
    );
    match verdict {
        Verdict::Success => Ok(()),
        Verdict::NotEnoughTrust(tally) => Err(LightError::NotEnoughTrust(tally.to_string())),
        Verdict::Invalid(detail) => Err(LightError::Invalid(Box::new(detail))),
    }
}
