//! Calls that change nothing: `eth_call` and `eth_estimateGas`.
//!
//! A call executes one message on a state, in the context of the block
//! that would follow it, and throws the changes away. As geth does: the
//! nonce is not checked; a call that names no gas price runs with a base
//! fee of zero, so that an account without funds can call a view
//! function; without a gas limit it gets the block's.

use alloy_eips::eip2930::AccessList;
use gont_core::{Address, Bytes, StateReader, U256};
use revm::context::result::{EVMError, InvalidTransaction};
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::primitives::TxKind;
use revm::{ExecuteEvm, MainBuilder, MainContext};

use crate::chain::{BlockContext, ChainConfig};
use crate::db::StateDb;

/// The least gas of any transaction.
const TX_BASE_GAS: u64 = 21_000;

/// A message to execute without a signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// The caller; the zero address when absent.
    pub from: Option<Address>,
    /// The callee; a contract creation when absent.
    pub to: Option<Address>,
    /// The gas limit; the block's when absent.
    pub gas: Option<u64>,
    /// Legacy gas price.
    pub gas_price: Option<u128>,
    /// EIP-1559 fee cap.
    pub max_fee_per_gas: Option<u128>,
    /// EIP-1559 tip cap.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Value sent.
    pub value: Option<U256>,
    /// Call data or creation code.
    pub input: Bytes,
    /// EIP-2930 access list.
    pub access_list: Option<AccessList>,
}

/// What a call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// Whether it succeeded.
    pub success: bool,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Gas used.
    pub gas_used: u64,
}

/// Why a call could not be executed (as opposed to one that reverted).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The message is not executable (funds, gas, fees), in geth's words.
    #[error("{0}")]
    Invalid(String),
    /// The call reverted at every gas limit tried (estimation only).
    #[error("execution reverted")]
    Reverted {
        /// The revert data.
        output: Bytes,
    },
    /// The call ran out of gas or halted at the highest gas limit allowed.
    #[error("gas required exceeds allowance ({0})")]
    GasExceedsAllowance(u64),
    /// Reading state failed.
    #[error("state: {0}")]
    State(String),
}

fn tx_env(request: &CallRequest, gas_limit: u64, chain_id: u64) -> TxEnv {
    let dynamic = request.max_fee_per_gas.is_some() || request.max_priority_fee_per_gas.is_some();
    TxEnv {
        tx_type: if dynamic {
            2
        } else if request.access_list.is_some() {
            1
        } else {
            0
        },
        caller: request.from.unwrap_or(Address::ZERO),
        gas_limit,
        gas_price: request.max_fee_per_gas.or(request.gas_price).unwrap_or(0),
        gas_priority_fee: if dynamic {
            request.max_priority_fee_per_gas.or(Some(0))
        } else {
            None
        },
        kind: request.to.map_or(TxKind::Create, TxKind::Call),
        value: request.value.unwrap_or_default(),
        data: request.input.clone(),
        nonce: 0,
        chain_id: Some(chain_id),
        access_list: request.access_list.clone().unwrap_or_default(),
        ..TxEnv::default()
    }
}

/// Executes `request` on `state` in the context `block`, keeping nothing.
pub fn call<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
) -> Result<CallResult, CallError> {
    run(
        state,
        chain,
        block,
        request,
        request.gas.unwrap_or(block.gas_limit).min(block.gas_limit),
    )
}

/// revm's environments for executing `request` with `gas_limit` as a
/// call: the nonce unchecked, and a base fee of zero when the request names
/// no price.
pub(crate) fn call_env(
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
    gas_limit: u64,
) -> (CfgEnv, BlockEnv, TxEnv) {
    let mut cfg = chain.cfg_env();
    cfg.disable_nonce_check = true;
    let mut block_env = block.block_env(chain.fork);
    let priced = request.gas_price.is_some() || request.max_fee_per_gas.is_some();
    if !priced {
        block_env.basefee = 0;
    }
    (cfg, block_env, tx_env(request, gas_limit, chain.chain_id.0))
}

/// revm's refusal to execute a call, as a [`CallError`].
pub(crate) fn call_error<E: std::fmt::Display>(
    error: EVMError<E, InvalidTransaction>,
    sender: Option<Address>,
) -> CallError {
    match error {
        EVMError::Transaction(invalid) => CallError::Invalid(
            crate::executor::tx_error(invalid, sender.unwrap_or(Address::ZERO)).to_string(),
        ),
        EVMError::Database(e) => CallError::State(e.to_string()),
        other => CallError::Invalid(other.to_string()),
    }
}

fn run<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
    gas_limit: u64,
) -> Result<CallResult, CallError> {
    let mut db = StateDb::new(state);
    let (cfg, block_env, tx) = call_env(chain, block, request, gas_limit);
    let mut evm = Context::mainnet()
        .with_db(&mut db)
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet()
        .with_precompiles(chain.precompiles());
    let result = evm
        .transact(tx)
        .map_err(|e| call_error(e, request.from))?
        .result;
    Ok(CallResult {
        success: result.is_success(),
        output: result.output().cloned().unwrap_or_default(),
        gas_used: result.tx_gas_used(),
    })
}

/// The least gas limit with which `request` succeeds on `state`, found by
/// bisection between the transaction floor and the block gas limit (or the
/// request's own limit). The runs together may use at most `budget` gas:
/// once they have, the search stops at the least limit found to succeed
/// so far, which is still a limit the call succeeds with.
pub fn estimate_gas<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
    budget: u64,
) -> Result<u64, CallError> {
    let cap = request.gas.unwrap_or(block.gas_limit).min(block.gas_limit);
    let first = run(state, chain, block, request, cap)?;
    if !first.success {
        if first.output.is_empty() {
            return Err(CallError::GasExceedsAllowance(cap));
        }
        return Err(CallError::Reverted {
            output: first.output,
        });
    }
    let mut spent = first.gas_used;
    // The gas used is a lower bound (refunds and the 63/64 rule can make
    // the needed limit higher); bisect between it and the cap.
    let mut lo = first.gas_used.max(TX_BASE_GAS).saturating_sub(1);
    let mut hi = cap;
    // A common case first: the used gas plus the 1/64 retained by calls.
    let guess = first.gas_used.saturating_mul(64) / 63 + 1;
    let bisect = |lo: u64, hi: u64| (lo + 1 < hi).then(|| lo + (hi - lo) / 2);
    let mut next = if guess < hi {
        Some(guess)
    } else {
        bisect(lo, hi)
    };
    while let Some(limit) = next {
        if spent >= budget {
            break;
        }
        let (success, used) = succeeds(state, chain, block, request, limit)?;
        spent = spent.saturating_add(used);
        if success {
            hi = limit;
        } else {
            lo = limit;
        }
        next = bisect(lo, hi);
    }
    Ok(hi)
}

/// Whether the call succeeds with `gas_limit`, and the gas it used; a
/// limit below the intrinsic gas is a failure, not an error.
fn succeeds<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
    gas_limit: u64,
) -> Result<(bool, u64), CallError> {
    match run(state, chain, block, request, gas_limit) {
        Ok(result) => Ok((result.success, result.gas_used)),
        Err(CallError::Invalid(_)) => Ok((false, 0)),
        Err(e) => Err(e),
    }
}
