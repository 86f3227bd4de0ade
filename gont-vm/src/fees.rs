//! The EIP-1559 base fee: a pure function of the parent block.
//!
//! GONT follows Ethereum's rule exactly: the gas target is half the gas
//! limit, and the base fee moves by at most one eighth per block towards
//! the target. The base fee is burned (revm credits the coinbase with the
//! priority fee only), so the supply shrinks with use; the proposer earns
//! the priority fees.

use gont_core::ExecutionFields;

/// The base fee of the first block after genesis: 1 gwei, as EIP-1559's
/// `INITIAL_BASE_FEE`.
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;

/// EIP-1559's `ELASTICITY_MULTIPLIER`: the gas limit is twice the target.
pub const ELASTICITY_MULTIPLIER: u64 = 2;

/// EIP-1559's `BASE_FEE_MAX_CHANGE_DENOMINATOR`.
pub const BASE_FEE_MAX_CHANGE_DENOMINATOR: u64 = 8;

/// The base fee of the block after one with `parent`'s gas fields, by the
/// EIP-1559 update rule (geth's `CalcBaseFee`).
pub fn next_base_fee(parent: &ExecutionFields) -> u64 {
    let target = parent.gas_limit / ELASTICITY_MULTIPLIER;
    let base = u128::from(parent.base_fee_per_gas);
    if target == 0 || parent.gas_used == target {
        return parent.base_fee_per_gas;
    }
    let target_wide = u128::from(target);
    let denominator = u128::from(BASE_FEE_MAX_CHANGE_DENOMINATOR);
    if parent.gas_used > target {
        let delta = base * u128::from(parent.gas_used - target) / target_wide / denominator;
        let next = base + delta.max(1);
        u64::try_from(next).unwrap_or(u64::MAX)
    } else {
        let delta = base * u128::from(target - parent.gas_used) / target_wide / denominator;
        // delta <= base / 8, so this neither underflows nor leaves u64.
        u64::try_from(base.saturating_sub(delta)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(gas_used: u64, gas_limit: u64, base_fee_per_gas: u64) -> ExecutionFields {
        ExecutionFields {
            gas_used,
            gas_limit,
            base_fee_per_gas,
            fee_recipient: gont_core::Address::ZERO,
        }
    }

    #[test]
    fn base_fee_follows_eip1559_known_values() {
        // (gas_used, gas_limit, base_fee, expected). The first three are
        // geth's `TestCalcBaseFee` vectors; the rest are worked by hand from
        // the EIP's formula, including the minimum increase of 1 wei.
        let cases = [
            (10_000_000, 20_000_000, 1_000_000_000, 1_000_000_000),
            (9_000_000, 20_000_000, 1_000_000_000, 987_500_000),
            (11_000_000, 20_000_000, 1_000_000_000, 1_012_500_000),
            (10_000_000, 10_000_000, 1_000_000_000, 1_125_000_000),
            (10_000_000, 12_000_000, 1_000_000_000, 1_083_333_333),
            (9_000_000, 12_000_000, 1_000_000_000, 1_062_500_000),
            (0, 18_000_000, 1_000_000_000, 875_000_000),
            (9_000_000, 18_000_000, 1_000_000_000, 1_000_000_000),
            (5_000_000, 10_000_000, 1_000_000_000, 1_000_000_000),
            (0, 10_000_000, 1_000_000_000, 875_000_000),
            (1, 30_000_000, 7, 7),
            (15_000_001, 30_000_000, 7, 8),
            (30_000_000, 30_000_000, 8, 9),
        ];
        for (used, limit, base, expected) in cases {
            assert_eq!(
                next_base_fee(&fields(used, limit, base)),
                expected,
                "gas_used {used}, gas_limit {limit}, base {base}"
            );
        }
    }

    #[test]
    fn base_fee_never_overflows_or_underflows() {
        assert_eq!(
            next_base_fee(&fields(u64::MAX, u64::MAX, u64::MAX)),
            u64::MAX
        );
        assert_eq!(next_base_fee(&fields(0, 2, 0)), 0);
        assert_eq!(next_base_fee(&fields(5, 0, 9)), 9);
    }
}
