//! Transaction validity against a sender's account and a block, as pure
//! functions: the executor calls them before revm runs a transaction, and
//! the mempool and the JSON-RPC call them to refuse a transaction early with
//! the same words.

use alloy_consensus::{Transaction, TxEnvelope, Typed2718};
use gont_core::{AccountState, Address, U256};
use revm::context_interface::cfg::GasParams;

use crate::chain::{BlockContext, ChainConfig};
use crate::error::TxError;

/// EIP-3860's limit on creation code: twice the EIP-170 code size limit.
pub const MAX_INITCODE_SIZE: usize = 2 * 24_576;

/// The gas a transaction costs before any code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntrinsicGas {
    /// Base cost, calldata, creation, access list and authorizations.
    pub initial: u64,
    /// EIP-7623's floor for calldata-heavy transactions (0 before Prague).
    pub floor: u64,
}

/// The intrinsic gas of `tx` under `chain`'s rules.
pub fn intrinsic_gas(tx: &TxEnvelope, chain: &ChainConfig) -> IntrinsicGas {
    let (accounts, slots) = tx.access_list().map_or((0, 0), |list| {
        let slots: usize = list.iter().map(|item| item.storage_keys.len()).sum();
        (list.len(), slots)
    });
    let authorizations = tx.authorization_list().map_or(0, <[_]>::len);
    let gas = GasParams::new_spec(chain.fork.spec_id()).initial_tx_gas(
        tx.input(),
        tx.is_create(),
        u64::try_from(accounts).unwrap_or(u64::MAX),
        u64::try_from(slots).unwrap_or(u64::MAX),
        u64::try_from(authorizations).unwrap_or(u64::MAX),
        None,
    );
    IntrinsicGas {
        initial: gas
            .initial_regular_gas
            .saturating_add(gas.initial_state_gas),
        floor: if chain.fork == crate::Fork::Prague {
            gas.floor_gas
        } else {
            0
        },
    }
}

/// The checks that need neither state nor block: type, chain id, fee
/// fields, blob and authorization shape, intrinsic gas and creation code
/// size. Returns the intrinsic gas. This is what Ethereum's
/// TransactionTests check.
pub fn check_stateless(tx: &TxEnvelope, chain: &ChainConfig) -> Result<IntrinsicGas, TxError> {
    let ty = tx.ty();
    if !chain.accepts_type(ty) {
        return Err(TxError::TypeNotSupported(ty));
    }
    if let Some(id) = tx.chain_id()
        && id != chain.chain_id.0
    {
        return Err(TxError::InvalidChainId {
            have: id,
            want: chain.chain_id.0,
        });
    }
    // EIP-2681: a nonce must leave room for the next one.
    if tx.nonce() == u64::MAX {
        return Err(TxError::NonceMax {
            sender: Address::ZERO,
            nonce: tx.nonce(),
        });
    }
    if let Some(tip) = tx.max_priority_fee_per_gas()
        && tip > tx.max_fee_per_gas()
    {
        return Err(TxError::TipAboveFeeCap {
            sender: Address::ZERO,
            tip,
            fee_cap: tx.max_fee_per_gas(),
        });
    }
    if let Some(hashes) = tx.blob_versioned_hashes() {
        if hashes.is_empty() {
            return Err(TxError::MissingBlobHashes);
        }
        let max = chain.fork.max_blobs_per_tx();
        if hashes.len() > max {
            return Err(TxError::TooManyBlobs {
                have: hashes.len(),
                max,
            });
        }
        if let Some(index) = hashes
            .iter()
            .position(|h| h.first() != Some(&revm::primitives::eip4844::VERSIONED_HASH_VERSION_KZG))
        {
            return Err(TxError::InvalidBlobHashVersion { index });
        }
    }
    if tx.authorization_list().is_some_and(<[_]>::is_empty) {
        return Err(TxError::EmptyAuthList);
    }
    let gas = intrinsic_gas(tx, chain);
    if tx.gas_limit() < gas.initial {
        return Err(TxError::IntrinsicGas {
            have: tx.gas_limit(),
            want: gas.initial,
        });
    }
    if tx.gas_limit() < gas.floor {
        return Err(TxError::FloorDataGas {
            have: tx.gas_limit(),
            want: gas.floor,
        });
    }
    if tx.is_create() && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(TxError::MaxInitCodeSize {
            size: tx.input().len(),
            limit: MAX_INITCODE_SIZE,
        });
    }
    Ok(gas)
}

/// The most a transaction can cost its sender: `gas * fee cap + value`,
/// plus `blob gas * blob fee cap`; `None` past 256 bits.
pub fn max_cost(tx: &TxEnvelope) -> Option<U256> {
    let mut cost = U256::from(tx.gas_limit()).checked_mul(U256::from(tx.max_fee_per_gas()))?;
    cost = cost.checked_add(tx.value())?;
    if let (Some(hashes), Some(fee)) = (tx.blob_versioned_hashes(), tx.max_fee_per_blob_gas()) {
        let blob_gas = U256::from(hashes.len())
            .checked_mul(U256::from(revm::primitives::eip4844::GAS_PER_BLOB))?;
        cost = cost.checked_add(blob_gas.checked_mul(U256::from(fee))?)?;
    }
    Some(cost)
}

/// Whether `tx`, sent by `sender` whose account is `account` (the default,
/// all zero with no code, for an account that does not exist), can be
/// included in a block with context `block` on `chain`. Checks, in geth's
/// order: the stateless checks, the nonce, the block's gas limit, the fee
/// caps against the base fees, then the balance. The sender-has-code check
/// (EIP-3607, with EIP-7702 delegations allowed) needs the code and is left
/// to the EVM, which reports it as [`TxError::SenderNotEoa`].
pub fn validate_transaction(
    tx: &TxEnvelope,
    sender: Address,
    account: &AccountState,
    block: &BlockContext,
    chain: &ChainConfig,
) -> Result<(), TxError> {
    validate(tx, sender, account, block, chain, Nonce::Next)
}

/// [`validate_transaction`] as a transaction pool applies it before
/// admitting `tx` for a block with context `block`: every check is the
/// same but the nonce's, which may lie ahead of the account's (the pool
/// holds it until the gap fills) and is refused only if already used.
pub fn validate_pooled_transaction(
    tx: &TxEnvelope,
    sender: Address,
    account: &AccountState,
    block: &BlockContext,
    chain: &ChainConfig,
) -> Result<(), TxError> {
    validate(tx, sender, account, block, chain, Nonce::NotUsed)
}

/// Which nonces [`validate`] accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nonce {
    /// Exactly the account's next one (a block).
    Next,
    /// Any not yet used (a pool).
    NotUsed,
}

fn validate(
    tx: &TxEnvelope,
    sender: Address,
    account: &AccountState,
    block: &BlockContext,
    chain: &ChainConfig,
    rule: Nonce,
) -> Result<(), TxError> {
    check_stateless(tx, chain).map_err(|e| with_sender(e, sender))?;
    let nonce = tx.nonce();
    if nonce > account.nonce && rule == Nonce::Next {
        return Err(TxError::NonceTooHigh {
            sender,
            tx: nonce,
            state: account.nonce,
        });
    }
    if nonce < account.nonce {
        return Err(TxError::NonceTooLow {
            sender,
            tx: nonce,
            state: account.nonce,
        });
    }
    if account.nonce == u64::MAX {
        return Err(TxError::NonceMax { sender, nonce });
    }
    if tx.gas_limit() > block.gas_limit {
        return Err(TxError::GasLimitReached {
            gas: tx.gas_limit(),
            available: block.gas_limit,
        });
    }
    let fee_cap = tx.max_fee_per_gas();
    if fee_cap < u128::from(block.base_fee) {
        return Err(TxError::FeeCapTooLow {
            sender,
            fee_cap,
            base_fee: block.base_fee,
        });
    }
    if let Some(blob_fee_cap) = tx.max_fee_per_blob_gas() {
        let blob_base_fee = block.blob_base_fee(chain.fork);
        if blob_fee_cap < blob_base_fee {
            return Err(TxError::BlobFeeCapTooLow {
                sender,
                fee_cap: blob_fee_cap,
                blob_base_fee,
            });
        }
    }
    match max_cost(tx) {
        Some(want) if want <= account.balance => {}
        want => {
            return Err(TxError::InsufficientFunds {
                sender,
                have: account.balance,
                want: want.unwrap_or(U256::MAX),
            });
        }
    }
    Ok(())
}

fn with_sender(error: TxError, sender: Address) -> TxError {
    match error {
        TxError::TipAboveFeeCap { tip, fee_cap, .. } => TxError::TipAboveFeeCap {
            sender,
            tip,
            fee_cap,
        },
        TxError::NonceMax { nonce, .. } => TxError::NonceMax { sender, nonce },
        other => other,
    }
}
