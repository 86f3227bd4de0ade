//! Punishments, which only the node calls as the system: double signing
//! convicted by a block's evidence ([`punish`]), and downtime counted from
//! the previous block's commit ([`signatures`]). Both burn a share of the
//! offender's stake, jail it, and take it out of the stored set.

use gont_core::{Address, B256, U256, ValidatorSetHash};
use revm::context::{ContextTr, JournalTr};

use super::super::call::SystemCall;
use super::storage::{
    Slots, address_of, get_u64, of, put, slot, stored_set, to_validator_set, unbonding,
};
use super::{StakingConfig, Stop, Tag, kept, store_set};

/// Bits of the downtime record per storage slot.
const BITS_PER_SLOT: u64 = 256;

/// `share` of `amount`, in basis points.
fn share_of(amount: U256, bps: u32) -> U256 {
    amount.saturating_mul(U256::from(bps)) / U256::from(10_000u32)
}

/// Slashes and jails the operator of `key` for double signing at
/// `height`, and takes it out of the stored set; returns the stored set's
/// hash. A key without operator (it left since) is only recorded.
pub(super) fn punish<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    key: B256,
    height: u64,
) -> Result<ValidatorSetHash, Stop> {
    put(call, slot(Tag::PunishedAt, key.0, 0), U256::from(height))?;
    let operator = address_of(call.get(slot(Tag::KeyOwner, key.0, 0))?);
    if operator == Address::ZERO {
        return kept(call);
    }
    let who = of(operator);
    let bps = config.params.double_sign_slash_bps;
    let now = call.block_number();
    let mut burned = U256::ZERO;
    for (i, entry) in unbonding(call, operator)?.into_iter().enumerate() {
        let started = entry.endsAt.saturating_sub(config.unbonding_period_blocks);
        if started >= height && entry.endsAt > now {
            let cut = share_of(entry.amount, bps);
            burned = burned.saturating_add(cut);
            put(
                call,
                slot(Tag::UnbondingAmount, who, i as u64),
                entry.amount - cut,
            )?;
        }
    }
    burn(call, burned)?;
    match jail(config, call, operator, bps)? {
        Some(hash) => Ok(hash),
        None => kept(call),
    }
}

/// Records, for each member of the previous block's set (`keys`, in set
/// order), whether it signed that block's commit (`signed`), and jails
/// those that missed more of the last `signed_blocks_window` blocks they
/// were in the set for than `min_signed_bps` allows, burning
/// `downtime_slash_bps` of their bonded stake. Returns the hash of the
/// stored set if a validator left it, else zero.
///
/// Each operator's record is a ring of one bit per block it was in the
/// set for (set: missed), its count of such blocks and of the bits set,
/// as the Cosmos SDK's `x/slashing` keeps it; the record starts again when
/// it is jailed.
pub(super) fn signatures<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    keys: &[B256],
    signed: &[bool],
) -> Result<B256, Stop> {
    let window = config.params.signed_blocks_window.max(1);
    let min_signed = u128::from(window) * u128::from(config.params.min_signed_bps) / 10_000;
    let max_missed = window.saturating_sub(u64::try_from(min_signed).unwrap_or(window));
    let mut changed = None;
    for (key, signed) in keys.iter().zip(signed) {
        let operator = address_of(call.get(slot(Tag::KeyOwner, key.0, 0))?);
        if operator == Address::ZERO {
            continue;
        }
        let who = of(operator);
        if get_u64(call, slot(Tag::JailedUntil, who, 0))? != 0 {
            continue;
        }
        let observed = get_u64(call, slot(Tag::Observed, who, 0))?;
        let index = observed % window;
        let word = slot(Tag::MissedBits, who, index / BITS_PER_SLOT);
        let bit = (index % BITS_PER_SLOT) as usize;
        let mut bits = call.get(word)?;
        let was_missed = bits.bit(bit);
        let mut missed = get_u64(call, slot(Tag::Missed, who, 0))?;
        if was_missed == *signed {
            bits.set_bit(bit, !*signed);
            put(call, word, bits)?;
            missed = if *signed {
                missed.saturating_sub(1)
            } else {
                missed.saturating_add(1)
            };
            put(call, slot(Tag::Missed, who, 0), U256::from(missed))?;
        }
        put(call, slot(Tag::Observed, who, 0), U256::from(observed + 1))?;
        if observed + 1 >= window
            && missed > max_missed
            && let Some(hash) = jail(config, call, operator, config.params.downtime_slash_bps)?
        {
            changed = Some(hash);
        }
    }
    Ok(changed.map_or(B256::ZERO, |h| B256::from(h.0)))
}

/// Burns `bps` of `operator`'s bonded stake, jails it for `jail_blocks`,
/// starts its downtime record again and takes it out of the stored set
/// (unless it is the last member); returns the stored set's new hash if it
/// left it.
fn jail<CTX: ContextTr>(
    config: &StakingConfig,
    call: &mut SystemCall<'_, CTX>,
    operator: Address,
    bps: u32,
) -> Result<Option<ValidatorSetHash>, Stop> {
    let who = of(operator);
    let bonded = call.get(slot(Tag::Stake, who, 0))?;
    let burned = share_of(bonded, bps);
    put(call, slot(Tag::Stake, who, 0), bonded - burned)?;
    burn(call, burned)?;
    let jailed_until = call
        .block_number()
        .saturating_add(config.params.jail_blocks);
    put(
        call,
        slot(Tag::JailedUntil, who, 0),
        U256::from(jailed_until),
    )?;
    let observed = get_u64(call, slot(Tag::Observed, who, 0))?;
    let window = config.params.signed_blocks_window.max(1);
    let words = observed.min(window).div_ceil(BITS_PER_SLOT);
    for i in 0..words {
        put(call, slot(Tag::MissedBits, who, i), U256::ZERO)?;
    }
    put(call, slot(Tag::Observed, who, 0), U256::ZERO)?;
    put(call, slot(Tag::Missed, who, 0), U256::ZERO)?;
    let stored = stored_set(call)?;
    let rest: Vec<_> = stored
        .iter()
        .copied()
        .filter(|(o, _, _)| *o != operator)
        .collect();
    if rest.len() == stored.len() || rest.is_empty() {
        return Ok(None);
    }
    let set = to_validator_set(&rest)
        .map_err(|e| Stop::Fatal(format!("the staking contract's set is invalid: {e}")))?;
    store_set(call, &set, stored.len() as u64)?;
    Ok(Some(set.hash()))
}

/// Removes `amount` wei from the contract's balance: slashed stake leaves
/// the supply.
fn burn<CTX: ContextTr>(call: &mut SystemCall<'_, CTX>, amount: U256) -> Result<(), Stop> {
    use revm::context_interface::journaled_state::account::JournaledAccountTr;
    if amount.is_zero() {
        return Ok(());
    }
    let mut account = call
        .ctx
        .journal_mut()
        .load_account_mut(super::STAKING)
        .map_err(|e| Stop::Fatal(e.to_string()))?;
    if !account.data.decr_balance(amount) {
        return Err(Stop::Fatal(format!(
            "the staking contract holds less than the {amount} wei it burns"
        )));
    }
    Ok(())
}
