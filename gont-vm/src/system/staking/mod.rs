//! The staking contract of every GONT chain, at [`STAKING`]: a chain's
//! validators are whoever stakes its own coin here. Its Solidity interface
//! is `gont-vm/contracts/IStaking.sol`.
//!
//! - `stake(key)` with value makes the sender the operator of a candidate
//!   validator with that ed25519 key, or adds to its stake; the coins stay
//!   in the contract's balance.
//! - `unstake(amount)` moves bonded stake into an unbonding entry that
//!   `withdraw()` pays back from `unbonding_period_blocks` later (at most
//!   [`MAX_UNBONDING_ENTRIES`] at once, as the Cosmos SDK's `MaxEntries`).
//! - At the end of every block whose height is a multiple of
//!   `epoch_length`, the node calls the contract's `endBlock()` as the
//!   system ([`end_block_call`], through revm's system call from
//!   EIP-4788's system address): the candidates with at least
//!   `min_stake`, most stake first (ties: lower key), at most
//!   `max_validators`, become the set stored in the contract, with one
//!   unit of voting power per whole token, and the call returns its hash. That set decides every block from the next
//!   height on: the engine announces the hash in the block's
//!   `next_validators_hash`. If no candidate is eligible the set stays as
//!   it is (a chain never has an empty set).
//!
//! - A block's evidence of double signing (checked by the engine) is
//!   executed before its transactions, by the system's `punish(key,
//!   height)` ([`punish_call`]): the offender's bonded stake, and its
//!   unbonding entries that started at or after the offence and have not
//!   ended, lose `double_sign_slash_bps` (burned from the contract's
//!   balance); it is jailed for `jail_blocks` and leaves the stored set at
//!   once, so that the next height's set is without it (unless it was the
//!   last member). A jailed candidate is never chosen; `unjail()` after
//!   the jail ends makes it a candidate again, if it still has
//!   `min_stake` bonded. A system call has no receipt, so a punishment
//!   shows in the offender's `validator(operator)` view (status jailed,
//!   stake, `jailedUntil`), not in a log.
//!
//! Genesis validators start as candidates with their genesis stake, and
//! the genesis set is stored as the set of height 1.
//!
//! - After the evidence, the system's `signatures(keys, signed)`
//!   ([`signatures_call`]) records who of the parent's set signed the
//!   parent's commit, which the block carries (checked by the engine): a
//!   validator that has been in the set for `signed_blocks_window` blocks
//!   and missed more of the last window than `min_signed_bps` allows loses
//!   `downtime_slash_bps` of its bonded stake (burned) and is jailed as
//!   above. `missedBlocks` in its view counts the window's misses.
//!
//! Storage: every value is one slot of the contract's account, at
//! [`slot`]`(tag, who, index)`: blake3 (keyed to "gont staking slot v1") of
//! the borsh `(tag: u8, who: [u8; 32], index: u64)`, where `who` is an
//! operator address (left-padded) or a consensus key.

mod punish;
mod storage;

use alloy_sol_types::{SolCall, SolValue, sol};
use gont_core::{
    Address, B256, ConsensusKey, ConsensusParams, StakingParams, U256, ValidatorSetHash,
};
use revm::context::{ContextTr, JournalTr};
use revm::handler::SYSTEM_ADDRESS;
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::primitives::{Bytes, address};

use super::call::{Refusal, SystemCall, finish, selector};
pub use storage::{
    SetReadError, Tag, genesis_storage, punished_at, slot, validator_set, validators,
};
use storage::{
    Slots, address_of, candidates, get_u64, global, of, put, stored_set, to_validator_set,
    unbonding, validator,
};

sol!("contracts/IStaking.sol");

sol! {
    /// What only the node calls, as the system.
    interface IStakingSystem {
        /// Computes the next validator set (end of an epoch's last block).
        function endBlock() external;
        /// Slashes and jails the validator with `consensusKey` for double
        /// signing at `infractionHeight`; returns the hash of the next set.
        function punish(bytes32 consensusKey, uint64 infractionHeight) external returns (bytes32);
        /// Records who of the previous block's set (`keys`, in set order)
        /// signed its commit, and jails who was down too long; returns the
        /// hash of the next set if one left it, else zero.
        function signatures(bytes32[] keys, bool[] signed) external returns (bytes32);
    }
}

/// The staking contract's address on every GONT chain.
pub const STAKING: Address = address!("0x0000000000000000000000000000000000001000");

/// The most candidates one chain's contract holds: what bounds the work of
/// computing a set.
pub const MAX_CANDIDATES: u64 = 1_000;

/// The most unbonding entries one operator has at once.
pub const MAX_UNBONDING_ENTRIES: u64 = 7;

/// Gas of any call.
const BASE_GAS: u64 = 20_000;

/// Wei per unit of voting power.
const WEI_PER_POWER: u128 = gont_core::primitives::STAKE_PER_POWER;

/// One chain's staking rules, from its consensus parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StakingConfig {
    /// Minimum stake and set size.
    pub params: StakingParams,
    /// Blocks per epoch.
    pub epoch_length: u64,
    /// Blocks from `unstake` to `withdraw`.
    pub unbonding_period_blocks: u64,
}

impl StakingConfig {
    /// The rules of a chain with `params`.
    pub const fn of(params: &ConsensusParams) -> Self {
        Self {
            params: params.staking,
            epoch_length: params.epoch_length,
            unbonding_period_blocks: params.unbonding_period_blocks,
        }
    }

    /// Whether the set is computed at the end of block `height`.
    pub const fn is_epoch_end(&self, height: u64) -> bool {
        self.epoch_length > 0 && height > 0 && height.is_multiple_of(self.epoch_length)
    }
}

/// Why a call was refused: the revert reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakingError {
    /// The call is not one of the interface's.
    #[error("unknown function selector")]
    UnknownFunction,
    /// The arguments do not decode.
    #[error("malformed call: {0}")]
    MalformedCall(String),
    /// Value sent to a function that takes none.
    #[error("this function takes no value")]
    Payable,
    /// A write in a static call, or a call through DELEGATECALL/CALLCODE.
    #[error("the staking contract must be called directly, not static or delegated")]
    CallKind,
    /// `stake` without value, or `unstake(0)`.
    #[error("the amount must be positive")]
    ZeroAmount,
    /// The key is no ed25519 point.
    #[error("consensus key {0} is not an ed25519 public key")]
    InvalidKey(B256),
    /// The key belongs to another operator.
    #[error("consensus key {key} is already used by operator {operator}")]
    KeyTaken {
        /// The key.
        key: B256,
        /// Its operator.
        operator: Address,
    },
    /// The sender already validates with another key.
    #[error("operator {operator} already validates with key {key}")]
    OtherKey {
        /// The sender.
        operator: Address,
        /// Its key.
        key: B256,
    },
    /// No room for another candidate.
    #[error("the chain has {MAX_CANDIDATES} candidates, the most it holds")]
    TooManyCandidates,
    /// More than the bonded stake.
    #[error("cannot unstake {amount} wei: {bonded} wei bonded")]
    Insufficient {
        /// Asked.
        amount: U256,
        /// Bonded.
        bonded: U256,
    },
    /// Too many unbonding entries.
    #[error("{MAX_UNBONDING_ENTRIES} unbonding entries already; withdraw or wait")]
    TooManyUnbonding,
    /// Nothing has finished unbonding.
    #[error("nothing to withdraw before height {0}")]
    NotYet(u64),
    /// `withdraw` without unbonding entries.
    #[error("nothing is unbonding")]
    NothingUnbonding,
    /// `endBlock` or `punish` by another caller than the system.
    #[error("only the system may end a block or punish")]
    NotSystem,
    /// `unjail` by an operator that is not jailed.
    #[error("not jailed")]
    NotJailed,
    /// `unjail` before the jail ends.
    #[error("jailed until height {0}")]
    StillJailed(u64),
    /// `unjail` with less than the minimum stake bonded.
    #[error("{bonded} wei bonded, less than the minimum stake {min} wei")]
    BelowMinimum {
        /// Bonded.
        bonded: U256,
        /// The chain's minimum.
        min: U256,
    },
    /// The gas given does not cover the work.
    #[error("out of gas")]
    OutOfGas,
}

impl Refusal for StakingError {
    fn out_of_gas() -> Self {
        Self::OutOfGas
    }

    fn is_out_of_gas(&self) -> bool {
        matches!(self, Self::OutOfGas)
    }
}

/// A stopped call: refused (revert) or failed (database).
enum Stop {
    Refused(StakingError),
    Fatal(String),
}

impl From<StakingError> for Stop {
    fn from(e: StakingError) -> Self {
        Self::Refused(e)
    }
}

/// The calldata of the system's end-of-epoch call.
pub fn end_block_call() -> Bytes {
    IStakingSystem::endBlockCall {}.abi_encode().into()
}

/// The calldata of the system's punishment of `key` for double signing at
/// `height`.
pub fn punish_call(key: &ConsensusKey, height: u64) -> Bytes {
    IStakingSystem::punishCall {
        consensusKey: B256::from(*key.as_bytes()),
        infractionHeight: height,
    }
    .abi_encode()
    .into()
}

/// The calldata of the system's record of who signed the previous block:
/// `signed[i]` for member `i` of its set.
pub fn signatures_call(keys: &[ConsensusKey], signed: &[bool]) -> Bytes {
    IStakingSystem::signaturesCall {
        keys: keys.iter().map(|k| B256::from(*k.as_bytes())).collect(),
        signed: signed.to_vec(),
    }
    .abi_encode()
    .into()
}

/// The set hash the end-of-epoch and punishment calls return.
pub fn end_block_output(output: &[u8]) -> Option<ValidatorSetHash> {
    B256::abi_decode(output).ok().map(|h| ValidatorSetHash(h.0))
}

/// Runs a call to the contract. `Err` only for a database failure, which
/// aborts the block; every refusal is a revert with its reason.
pub(crate) fn run<CTX: ContextTr>(
    config: &StakingConfig,
    ctx: &mut CTX,
    inputs: &CallInputs,
) -> Result<InterpreterResult, String> {
    let input = inputs.input.as_bytes(ctx).to_vec();
    // The system's call is the node's own work, bounded by MAX_CANDIDATES
    // and max_validators, not metered.
    let limit = if inputs.caller == SYSTEM_ADDRESS {
        u64::MAX
    } else {
        inputs.gas_limit
    };
    let mut call = SystemCall::new(ctx, STAKING, limit);
    let outcome = match dispatch(config, &mut call, inputs, &input) {
        Ok(output) => Ok(output),
        Err(Stop::Refused(e)) => Err(e),
        Err(Stop::Fatal(e)) => return Err(e),
    };
    let used = if inputs.caller == SYSTEM_ADDRESS {
        0
    } else {
        call.gas_used
    };
    Ok(finish(outcome, used, inputs))
}

fn dispatch<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    inputs: &CallInputs,
    input: &[u8],
) -> Result<Bytes, Stop> {
    call.charge::<StakingError>(BASE_GAS)?;
    if inputs.target_address != STAKING {
        return Err(StakingError::CallKind.into());
    }
    let selector = selector(input).ok_or(StakingError::UnknownFunction)?;
    let value = inputs.value.get();
    let malformed = |e: alloy_sol_types::Error| StakingError::MalformedCall(e.to_string());
    let write = |payable: bool| -> Result<(), StakingError> {
        if inputs.is_static {
            return Err(StakingError::CallKind);
        }
        if !payable && !value.is_zero() {
            return Err(StakingError::Payable);
        }
        Ok(())
    };
    let sender = inputs.caller;
    match selector {
        IStaking::stakeCall::SELECTOR => {
            write(true)?;
            let args = IStaking::stakeCall::abi_decode(input).map_err(malformed)?;
            stake(call, sender, args.consensusKey, value)?;
            Ok(Bytes::new())
        }
        IStaking::unstakeCall::SELECTOR => {
            write(false)?;
            let args = IStaking::unstakeCall::abi_decode(input).map_err(malformed)?;
            unstake(config, call, sender, args.amount)?;
            Ok(Bytes::new())
        }
        IStaking::withdrawCall::SELECTOR => {
            write(false)?;
            let amount = withdraw(call, sender)?;
            Ok(amount.abi_encode().into())
        }
        IStaking::unjailCall::SELECTOR => {
            write(false)?;
            unjail(config, call, sender)?;
            Ok(Bytes::new())
        }
        IStaking::validatorCall::SELECTOR => {
            let args = IStaking::validatorCall::abi_decode(input).map_err(malformed)?;
            let set = stored_set(call)?;
            Ok(validator(call, args.operator, &set)?.abi_encode().into())
        }
        IStaking::validatorsCall::SELECTOR => {
            let set = stored_set(call)?;
            let all = candidates(call)?
                .into_iter()
                .map(|operator| validator(call, operator, &set))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(all.abi_encode().into())
        }
        IStaking::validatorSetCall::SELECTOR => {
            let set = stored_set(call)?;
            let operators: Vec<Address> = set.iter().map(|(o, _, _)| *o).collect();
            let keys: Vec<B256> = set.iter().map(|(_, k, _)| *k).collect();
            let powers: Vec<u64> = set.iter().map(|(_, _, p)| *p).collect();
            Ok((operators, keys, powers).abi_encode_params().into())
        }
        IStaking::paramsCall::SELECTOR => Ok(IStaking::Params {
            minStake: U256::from(config.params.min_stake.0),
            maxValidators: config.params.max_validators,
            epochLength: config.epoch_length,
            unbondingPeriod: config.unbonding_period_blocks,
            doubleSignSlashBps: config.params.double_sign_slash_bps,
            jailBlocks: config.params.jail_blocks,
            downtimeSlashBps: config.params.downtime_slash_bps,
            signedBlocksWindow: config.params.signed_blocks_window,
            minSignedBps: config.params.min_signed_bps,
        }
        .abi_encode()
        .into()),
        IStakingSystem::endBlockCall::SELECTOR => {
            if sender != SYSTEM_ADDRESS {
                return Err(StakingError::NotSystem.into());
            }
            let hash = end_block(config, call)?;
            Ok(B256::from(hash.0).abi_encode().into())
        }
        IStakingSystem::punishCall::SELECTOR => {
            if sender != SYSTEM_ADDRESS {
                return Err(StakingError::NotSystem.into());
            }
            let args = IStakingSystem::punishCall::abi_decode(input).map_err(malformed)?;
            let hash = punish::punish(config, call, args.consensusKey, args.infractionHeight)?;
            Ok(B256::from(hash.0).abi_encode().into())
        }
        IStakingSystem::signaturesCall::SELECTOR => {
            if sender != SYSTEM_ADDRESS {
                return Err(StakingError::NotSystem.into());
            }
            let args = IStakingSystem::signaturesCall::abi_decode(input).map_err(malformed)?;
            if args.keys.len() != args.signed.len() {
                return Err(
                    StakingError::MalformedCall("one signed flag per key".to_owned()).into(),
                );
            }
            let hash = punish::signatures(config, call, &args.keys, &args.signed)?;
            Ok(hash.abi_encode().into())
        }
        _ => Err(StakingError::UnknownFunction.into()),
    }
}

fn stake<CTX: ContextTr>(
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
    key: B256,
    amount: U256,
) -> Result<(), Stop> {
    if amount.is_zero() {
        return Err(StakingError::ZeroAmount.into());
    }
    ConsensusKey::from_bytes(key.0).map_err(|_| StakingError::InvalidKey(key))?;
    let owner = address_of(call.get(slot(Tag::KeyOwner, key.0, 0))?);
    if owner != Address::ZERO && owner != operator {
        return Err(StakingError::KeyTaken {
            key,
            operator: owner,
        }
        .into());
    }
    let who = of(operator);
    let own = B256::from(call.get(slot(Tag::Key, who, 0))?);
    if !own.is_zero() && own != key {
        return Err(StakingError::OtherKey { operator, key: own }.into());
    }
    if own.is_zero() {
        let count = get_u64(call, global(Tag::CandidateCount))?;
        if count >= MAX_CANDIDATES {
            return Err(StakingError::TooManyCandidates.into());
        }
        put(
            call,
            slot(Tag::Candidate, [0; 32], count),
            U256::from_be_bytes(who),
        )?;
        put(call, global(Tag::CandidateCount), U256::from(count + 1))?;
        put(call, slot(Tag::Index, who, 0), U256::from(count + 1))?;
        put(call, slot(Tag::Key, who, 0), U256::from_be_bytes(key.0))?;
        put(
            call,
            slot(Tag::KeyOwner, key.0, 0),
            U256::from_be_bytes(who),
        )?;
    }
    let total = call.get(slot(Tag::Stake, who, 0))?.saturating_add(amount);
    put(call, slot(Tag::Stake, who, 0), total)?;
    call.emit(&IStaking::Staked {
        operator,
        consensusKey: key,
        amount,
        total,
    });
    Ok(())
}

fn unstake<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
    amount: U256,
) -> Result<(), Stop> {
    if amount.is_zero() {
        return Err(StakingError::ZeroAmount.into());
    }
    let who = of(operator);
    let bonded = call.get(slot(Tag::Stake, who, 0))?;
    if amount > bonded {
        return Err(StakingError::Insufficient { amount, bonded }.into());
    }
    let entries = get_u64(call, slot(Tag::UnbondingCount, who, 0))?;
    if entries >= MAX_UNBONDING_ENTRIES {
        return Err(StakingError::TooManyUnbonding.into());
    }
    let ends = call
        .block_number()
        .saturating_add(config.unbonding_period_blocks);
    put(call, slot(Tag::UnbondingAmount, who, entries), amount)?;
    put(
        call,
        slot(Tag::UnbondingEnd, who, entries),
        U256::from(ends),
    )?;
    put(
        call,
        slot(Tag::UnbondingCount, who, 0),
        U256::from(entries + 1),
    )?;
    put(call, slot(Tag::Stake, who, 0), bonded - amount)?;
    call.emit(&IStaking::Unstaked {
        operator,
        amount,
        endsAt: ends,
    });
    Ok(())
}

fn withdraw<CTX: ContextTr>(
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
) -> Result<U256, Stop> {
    let who = of(operator);
    let entries = unbonding(call, operator)?;
    if entries.is_empty() {
        return Err(StakingError::NothingUnbonding.into());
    }
    let now = call.block_number();
    let (done, left): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.endsAt <= now);
    if done.is_empty() {
        let first = left.iter().map(|e| e.endsAt).min().unwrap_or(now);
        return Err(StakingError::NotYet(first).into());
    }
    let amount = done
        .iter()
        .fold(U256::ZERO, |sum, e| sum.saturating_add(e.amount));
    for (i, entry) in left.iter().enumerate() {
        let i = i as u64;
        put(call, slot(Tag::UnbondingAmount, who, i), entry.amount)?;
        put(
            call,
            slot(Tag::UnbondingEnd, who, i),
            U256::from(entry.endsAt),
        )?;
    }
    for i in left.len()..left.len() + done.len() {
        let i = i as u64;
        put(call, slot(Tag::UnbondingAmount, who, i), U256::ZERO)?;
        put(call, slot(Tag::UnbondingEnd, who, i), U256::ZERO)?;
    }
    put(
        call,
        slot(Tag::UnbondingCount, who, 0),
        U256::from(left.len()),
    )?;
    if left.is_empty() && call.get(slot(Tag::Stake, who, 0))?.is_zero() {
        remove_candidate(call, operator)?;
    }
    match call.ctx.journal_mut().transfer(STAKING, operator, amount) {
        Ok(None) => {}
        Ok(Some(e)) => {
            return Err(Stop::Fatal(format!(
                "the staking contract cannot pay {amount} wei: {e:?}"
            )));
        }
        Err(e) => return Err(Stop::Fatal(e.to_string())),
    }
    call.emit(&IStaking::Withdrawn { operator, amount });
    Ok(amount)
}

fn unjail<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
) -> Result<(), Stop> {
    let who = of(operator);
    let until = get_u64(call, slot(Tag::JailedUntil, who, 0))?;
    if until == 0 {
        return Err(StakingError::NotJailed.into());
    }
    if call.block_number() < until {
        return Err(StakingError::StillJailed(until).into());
    }
    let bonded = call.get(slot(Tag::Stake, who, 0))?;
    let min = U256::from(config.params.min_stake.0);
    if bonded < min {
        return Err(StakingError::BelowMinimum { bonded, min }.into());
    }
    put(call, slot(Tag::JailedUntil, who, 0), U256::ZERO)?;
    call.emit(&IStaking::Unjailed { operator });
    Ok(())
}

/// Drops a candidate with nothing bonded or unbonding, freeing its key.
fn remove_candidate<CTX: ContextTr>(
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
) -> Result<(), Stop> {
    let who = of(operator);
    let index = get_u64(call, slot(Tag::Index, who, 0))?;
    let count = get_u64(call, global(Tag::CandidateCount))?;
    if index == 0 || count == 0 {
        return Ok(());
    }
    let last = count - 1;
    if index - 1 != last {
        let moved = call.get(slot(Tag::Candidate, [0; 32], last))?;
        put(call, slot(Tag::Candidate, [0; 32], index - 1), moved)?;
        put(
            call,
            slot(Tag::Index, of(address_of(moved)), 0),
            U256::from(index),
        )?;
    }
    put(call, slot(Tag::Candidate, [0; 32], last), U256::ZERO)?;
    put(call, global(Tag::CandidateCount), U256::from(last))?;
    let key = B256::from(call.get(slot(Tag::Key, who, 0))?);
    put(call, slot(Tag::KeyOwner, key.0, 0), U256::ZERO)?;
    put(call, slot(Tag::Key, who, 0), U256::ZERO)?;
    put(call, slot(Tag::Index, who, 0), U256::ZERO)?;
    Ok(())
}

/// The hash of the stored set, kept as it is.
fn kept<CTX: ContextTr>(call: &mut SystemCall<'_, CTX>) -> Result<ValidatorSetHash, Stop> {
    let stored = stored_set(call)?;
    to_validator_set(&stored)
        .map(|set| set.hash())
        .map_err(|e| Stop::Fatal(format!("the staking contract's set is invalid: {e}")))
}

/// The end of an epoch: stores the set of the next height and returns its
/// hash (the old set's if no candidate is eligible).
fn end_block<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
) -> Result<ValidatorSetHash, Stop> {
    let min = U256::from(config.params.min_stake.0);
    let mut eligible = Vec::new();
    for operator in candidates(call)? {
        let who = of(operator);
        let stake = call.get(slot(Tag::Stake, who, 0))?;
        let jailed = !call.get(slot(Tag::JailedUntil, who, 0))?.is_zero();
        if stake >= min && !jailed {
            let key = B256::from(call.get(slot(Tag::Key, who, 0))?);
            eligible.push((operator, key, stake));
        }
    }
    if eligible.is_empty() {
        return kept(call);
    }
    eligible.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    eligible.truncate(config.params.max_validators as usize);
    let chosen: Vec<(Address, B256, u64)> = eligible
        .into_iter()
        .map(|(operator, key, stake)| {
            let power = stake / U256::from(WEI_PER_POWER);
            (operator, key, power.saturating_to())
        })
        .collect();
    // A set Tendermint cannot take (total power beyond its bound) keeps
    // the old one.
    let Ok(set) = to_validator_set(&chosen) else {
        return kept(call);
    };
    let old = get_u64(call, global(Tag::SetCount))?;
    store_set(call, &set, old)?;
    Ok(set.hash())
}

/// Stores `set` as the set of the next height over one of `old` members.
fn store_set<CTX: ContextTr>(
    call: &mut SystemCall<'_, CTX>,
    set: &gont_core::ValidatorSet,
    old: u64,
) -> Result<(), Stop> {
    let members = set.validators();
    for (i, v) in members.iter().enumerate() {
        let i = i as u64;
        put(
            call,
            slot(Tag::SetOperator, [0; 32], i),
            U256::from_be_bytes(of(v.operator)),
        )?;
        put(
            call,
            slot(Tag::SetKey, [0; 32], i),
            U256::from_be_bytes(*v.consensus_key.as_bytes()),
        )?;
        put(call, slot(Tag::SetPower, [0; 32], i), U256::from(v.power.0))?;
    }
    for i in members.len() as u64..old {
        for tag in [Tag::SetOperator, Tag::SetKey, Tag::SetPower] {
            put(call, slot(tag, [0; 32], i), U256::ZERO)?;
        }
    }
    put(call, global(Tag::SetCount), U256::from(members.len()))?;
    Ok(())
}
