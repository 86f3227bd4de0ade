//! Validator-set changes at epoch boundaries.
//!
//! Heights are grouped in epochs of `epoch_length` blocks: epoch `k` is
//! heights `k·L + 1 ..= (k+1)·L`. A change of a validator's power that is
//! decided at height `h` takes effect at the first height of the first epoch
//! that starts **at least two heights after `h`**:
//!
//! ```text
//! effective(h) = L · ⌊(h + L) / L⌋ + 1
//! ```
//!
//! so a change decided in the last block of an epoch waits one more epoch.
//! The delay guarantees that the block before the new set takes over was
//! built knowing that set, and so its header's `next_validators_hash`
//! announces it (what Tendermint light clients follow). The set never
//! changes inside an epoch, and so never within a height. Power zero
//! removes a validator; a change that would leave the set empty is refused.
//!
//! The simulation's sets follow a schedule fixed before the run. The driver
//! does not use it: a real chain's sets come from its staking contract,
//! through `ExecutionEngine::validator_set`.

use std::collections::BTreeMap;

use gont_core::{ConsensusKey, Validator, ValidatorSetError, VotingPower};

use crate::validators::ValidatorSet;

/// A new power for a validator (zero removes it; an unknown key with power
/// joins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerChange {
    /// The validator, with its new power.
    pub validator: Validator,
}

impl PowerChange {
    /// `key` (operated by `validator.operator`) gets `power`.
    pub const fn set(validator: Validator) -> Self {
        Self { validator }
    }

    /// The validator with this key leaves.
    pub fn remove(key: ConsensusKey) -> Self {
        Self {
            validator: Validator {
                consensus_key: key,
                operator: gont_core::Address::ZERO,
                power: VotingPower(0),
            },
        }
    }
}

/// Why a change cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpochError {
    /// Changes must be recorded in height order.
    #[error("changes at height {got} recorded after height {last}")]
    OutOfOrder {
        /// The latest height recorded.
        last: u64,
        /// The height given.
        got: u64,
    },
    /// The resulting set is not valid (for example empty).
    #[error(transparent)]
    Set(#[from] ValidatorSetError),
    /// Epochs have at least one block.
    #[error("epoch length must be at least 1")]
    ZeroEpoch,
}

/// The validator set in force at every height of one chain.
#[derive(Clone, Debug)]
pub struct ValidatorSchedule {
    epoch_length: u64,
    /// First height → the set in force from it.
    sets: BTreeMap<u64, ValidatorSet>,
    last_recorded: u64,
}

impl ValidatorSchedule {
    /// The genesis set, in force from height 1.
    pub fn new(genesis: ValidatorSet, epoch_length: u64) -> Result<Self, EpochError> {
        if epoch_length == 0 {
            return Err(EpochError::ZeroEpoch);
        }
        Ok(Self {
            epoch_length,
            sets: BTreeMap::from([(1, genesis)]),
            last_recorded: 0,
        })
    }

    /// Blocks per epoch.
    pub const fn epoch_length(&self) -> u64 {
        self.epoch_length
    }

    /// The first height at which a change decided at `height` is in force.
    pub const fn effective_height(&self, height: u64) -> u64 {
        let l = self.epoch_length;
        l.saturating_mul(height.saturating_add(l) / l)
            .saturating_add(1)
    }

    /// The set deciding `height`.
    pub fn set_at(&self, height: u64) -> &ValidatorSet {
        self.sets
            .range(..=height.max(1))
            .next_back()
            .or_else(|| self.sets.first_key_value())
            .map(|(_, set)| set)
            .unwrap_or_else(|| unreachable_no_set())
    }

    /// Records the power changes decided at `height`; returns the height at
    /// which they take effect.
    pub fn record(&mut self, height: u64, changes: &[PowerChange]) -> Result<u64, EpochError> {
        if height < self.last_recorded {
            return Err(EpochError::OutOfOrder {
                last: self.last_recorded,
                got: height,
            });
        }
        let effective = self.effective_height(height);
        if changes.is_empty() {
            self.last_recorded = height;
            return Ok(effective);
        }
        let base = self.set_at(effective);
        let mut members: BTreeMap<ConsensusKey, Validator> = base
            .core()
            .validators()
            .iter()
            .map(|v| (v.consensus_key, *v))
            .collect();
        for change in changes {
            let v = change.validator;
            if v.power.0 == 0 {
                members.remove(&v.consensus_key);
            } else {
                members.insert(v.consensus_key, v);
            }
        }
        let next = gont_core::ValidatorSet::new(members.into_values().collect())?;
        self.sets.insert(effective, ValidatorSet::new(next));
        self.last_recorded = height;
        Ok(effective)
    }
}

// The one panic: reaching it would mean the schedule lost its genesis set.
#[allow(clippy::panic)]
fn unreachable_no_set() -> ! {
    panic!("a schedule always holds the genesis set")
}
