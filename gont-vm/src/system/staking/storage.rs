//! The staking contract's storage: where each value lives, reading it
//! during a call or from a committed state, and the genesis layout.

use gont_core::{
    Address, B256, ConsensusKey, GenesisValidator, StateReader, U256, Validator, ValidatorSet,
    VotingPower, encode,
};
use revm::context::ContextTr;

use super::super::call::{Fatal, SystemCall, keyed_slot};
use super::{IStaking, MAX_CANDIDATES, MAX_UNBONDING_ENTRIES, STAKING, StakingError, Stop};

/// What each slot holds; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Tag {
    /// How many candidates there are.
    CandidateCount = 0,
    /// Candidate `index`'s operator.
    Candidate = 1,
    /// An operator's consensus key.
    Key = 2,
    /// An operator's bonded stake.
    Stake = 3,
    /// An operator's position in the candidate list, plus one.
    Index = 4,
    /// An operator's number of unbonding entries.
    UnbondingCount = 5,
    /// An operator's unbonding entry `index`: amount.
    UnbondingAmount = 6,
    /// An operator's unbonding entry `index`: the height it ends.
    UnbondingEnd = 7,
    /// A consensus key's operator.
    KeyOwner = 8,
    /// How many validators the set has.
    SetCount = 9,
    /// Set member `index`'s operator.
    SetOperator = 10,
    /// Set member `index`'s key.
    SetKey = 11,
    /// Set member `index`'s voting power.
    SetPower = 12,
    /// A jailed operator's first height of `unjail`; zero when not jailed.
    JailedUntil = 13,
    /// The height of the latest offence a consensus key was punished for.
    PunishedAt = 14,
    /// Blocks an operator's validator was in the set for since its
    /// downtime record started.
    Observed = 15,
    /// How many of the last `signed_blocks_window` of those it missed.
    Missed = 16,
    /// Word `index` of its ring of missed-block bits (256 per word).
    MissedBits = 17,
}

/// The slot of `tag` for `who` (an operator or key; zero for globals) and
/// `index` (zero unless the tag is a list's).
pub fn slot(tag: Tag, who: [u8; 32], index: u64) -> U256 {
    keyed_slot("gont staking slot v1", &encode(&(tag as u8, who, index)))
}

pub(super) fn of(operator: Address) -> [u8; 32] {
    B256::left_padding_from(operator.as_slice()).0
}

pub(super) fn global(tag: Tag) -> U256 {
    slot(tag, [0; 32], 0)
}

pub(super) fn address_of(word: U256) -> Address {
    Address::from_word(B256::from(word))
}

/// Reading the contract's slots: during a call (metered, through revm's
/// journal) or from a committed state (the node's views).
pub(super) trait Slots {
    type Error;
    fn get(&mut self, slot: U256) -> Result<U256, Self::Error>;
}

impl<CTX: ContextTr> Slots for SystemCall<'_, CTX> {
    type Error = Stop;

    fn get(&mut self, slot: U256) -> Result<U256, Stop> {
        match self.sload::<StakingError>(slot) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Stop::Refused(e)),
            Err(Fatal(e)) => Err(Stop::Fatal(e)),
        }
    }
}

struct StateSlots<'a, R>(&'a R);

impl<R: StateReader> Slots for StateSlots<'_, R> {
    type Error = R::Error;

    fn get(&mut self, slot: U256) -> Result<U256, R::Error> {
        self.0.storage(STAKING, slot)
    }
}

pub(super) fn put<CTX: ContextTr>(
    call: &mut SystemCall<'_, CTX>,
    slot: U256,
    value: U256,
) -> Result<(), Stop> {
    match call.sstore::<StakingError>(slot, value) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Stop::Refused(e)),
        Err(Fatal(e)) => Err(Stop::Fatal(e)),
    }
}

pub(super) fn get_u64<S: Slots>(s: &mut S, slot: U256) -> Result<u64, S::Error> {
    Ok(s.get(slot)?.saturating_to())
}

pub(super) fn unbonding<S: Slots>(
    s: &mut S,
    operator: Address,
) -> Result<Vec<IStaking::Unbonding>, S::Error> {
    let count = get_u64(s, slot(Tag::UnbondingCount, of(operator), 0))?.min(MAX_UNBONDING_ENTRIES);
    (0..count)
        .map(|i| {
            Ok(IStaking::Unbonding {
                amount: s.get(slot(Tag::UnbondingAmount, of(operator), i))?,
                endsAt: get_u64(s, slot(Tag::UnbondingEnd, of(operator), i))?,
            })
        })
        .collect()
}

/// The stored set: (operator, key, power), in stored order.
pub(super) fn stored_set<S: Slots>(s: &mut S) -> Result<Vec<(Address, B256, u64)>, S::Error> {
    let count =
        get_u64(s, global(Tag::SetCount))?.min(u64::from(gont_core::genesis::MAX_VALIDATORS));
    (0..count)
        .map(|i| {
            Ok((
                address_of(s.get(slot(Tag::SetOperator, [0; 32], i))?),
                B256::from(s.get(slot(Tag::SetKey, [0; 32], i))?),
                get_u64(s, slot(Tag::SetPower, [0; 32], i))?,
            ))
        })
        .collect()
}

pub(super) fn candidates<S: Slots>(s: &mut S) -> Result<Vec<Address>, S::Error> {
    let count = get_u64(s, global(Tag::CandidateCount))?.min(MAX_CANDIDATES);
    (0..count)
        .map(|i| Ok(address_of(s.get(slot(Tag::Candidate, [0; 32], i))?)))
        .collect()
}

pub(super) fn validator<S: Slots>(
    s: &mut S,
    operator: Address,
    set: &[(Address, B256, u64)],
) -> Result<IStaking::Validator, S::Error> {
    let key = B256::from(s.get(slot(Tag::Key, of(operator), 0))?);
    let stake = s.get(slot(Tag::Stake, of(operator), 0))?;
    let unbonding = unbonding(s, operator)?;
    let power = set
        .iter()
        .find(|(o, _, _)| *o == operator)
        .map(|(_, _, p)| *p);
    let jailed_until = get_u64(s, slot(Tag::JailedUntil, of(operator), 0))?;
    let missed = get_u64(s, slot(Tag::Missed, of(operator), 0))?;
    let status = if jailed_until != 0 {
        3
    } else if !stake.is_zero() {
        1
    } else if !unbonding.is_empty() {
        2
    } else {
        0
    };
    Ok(IStaking::Validator {
        operator: if key.is_zero() {
            Address::ZERO
        } else {
            operator
        },
        consensusKey: key,
        stake,
        status,
        inSet: power.is_some(),
        power: power.unwrap_or(0),
        unbonding,
        jailedUntil: jailed_until,
        missedBlocks: missed,
    })
}

/// Why the stored set could not be read from a state.
#[derive(Debug, thiserror::Error)]
pub enum SetReadError<E: std::error::Error + 'static> {
    /// The state could not be read.
    #[error("state: {0}")]
    State(#[source] E),
    /// The stored set is not a valid validator set (a bug, or a state that
    /// is not a GONT chain's).
    #[error("the staking contract's set is invalid: {0}")]
    Invalid(String),
}

/// The validator set stored in `state` (the set of the block after it);
/// `None` if the contract holds none (a chain without staking).
pub fn validator_set<R: StateReader>(
    state: &R,
) -> Result<Option<ValidatorSet>, SetReadError<R::Error>> {
    let stored = stored_set(&mut StateSlots(state)).map_err(SetReadError::State)?;
    if stored.is_empty() {
        return Ok(None);
    }
    to_validator_set(&stored)
        .map(Some)
        .map_err(SetReadError::Invalid)
}

pub(super) fn to_validator_set(stored: &[(Address, B256, u64)]) -> Result<ValidatorSet, String> {
    let members = stored
        .iter()
        .map(|(operator, key, power)| {
            Ok(Validator {
                consensus_key: ConsensusKey::from_bytes(key.0).map_err(|e| e.to_string())?,
                operator: *operator,
                power: VotingPower(*power),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    ValidatorSet::new(members).map_err(|e| e.to_string())
}

/// The height of the latest offence `key` was punished for in `state`
/// (zero if never): evidence of an offence at or below it is refused.
pub fn punished_at<R: StateReader>(state: &R, key: &ConsensusKey) -> Result<u64, R::Error> {
    get_u64(
        &mut StateSlots(state),
        slot(Tag::PunishedAt, *key.as_bytes(), 0),
    )
}

/// Every candidate in `state`, as `validators()` returns them.
pub fn validators<R: StateReader>(state: &R) -> Result<Vec<IStaking::Validator>, R::Error> {
    let mut slots = StateSlots(state);
    let set = stored_set(&mut slots)?;
    candidates(&mut slots)?
        .into_iter()
        .map(|operator| validator(&mut slots, operator, &set))
        .collect()
}

/// The genesis storage of the contract for `validators`: each a candidate
/// with its stake, all of them the set of height 1. Returns the slots and
/// the balance the contract holds (their stake).
pub fn genesis_storage(validators: &[GenesisValidator]) -> (Vec<(U256, U256)>, U256) {
    let mut slots = Vec::new();
    let mut balance = U256::ZERO;
    let set = ValidatorSet::new(
        validators
            .iter()
            .filter_map(GenesisValidator::to_validator)
            .collect(),
    )
    .map(|set| set.validators().to_vec())
    .unwrap_or_default();
    for (i, v) in validators.iter().enumerate() {
        let i = i as u64;
        let who = of(v.operator);
        let stake = U256::from(v.stake.0);
        balance = balance.saturating_add(stake);
        let key = U256::from_be_bytes(*v.consensus_key.as_bytes());
        slots.extend([
            (slot(Tag::Candidate, [0; 32], i), U256::from_be_bytes(who)),
            (slot(Tag::Key, who, 0), key),
            (slot(Tag::Stake, who, 0), stake),
            (slot(Tag::Index, who, 0), U256::from(i + 1)),
            (
                slot(Tag::KeyOwner, *v.consensus_key.as_bytes(), 0),
                U256::from_be_bytes(who),
            ),
        ]);
    }
    slots.push((global(Tag::CandidateCount), U256::from(validators.len())));
    for (i, v) in set.iter().enumerate() {
        let i = i as u64;
        slots.extend([
            (
                slot(Tag::SetOperator, [0; 32], i),
                U256::from_be_bytes(of(v.operator)),
            ),
            (
                slot(Tag::SetKey, [0; 32], i),
                U256::from_be_bytes(*v.consensus_key.as_bytes()),
            ),
            (slot(Tag::SetPower, [0; 32], i), U256::from(v.power.0)),
        ]);
    }
    slots.push((global(Tag::SetCount), U256::from(set.len())));
    (slots, balance)
}
