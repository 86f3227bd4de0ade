//! What every system contract does the same way: metering gas, reading and
//! writing its own storage through revm's journal, emitting events, and
//! turning the outcome into revm's `InterpreterResult` (a refusal becomes
//! a revert with its reason as `Error(string)`).

use alloy_sol_types::{SolError, SolEvent};
use gont_core::{Address, U256};
use revm::context::{Block, ContextTr, JournalTr};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::{Bytes, Log};

/// A failure that is not the caller's: the database. It aborts the block.
pub(crate) struct Fatal(pub(crate) String);

/// A call's result: `Err(Fatal)` aborts the block, `Ok(Err(refusal))`
/// reverts the call.
pub(crate) type Outcome<T, E> = Result<Result<T, E>, Fatal>;

/// A contract's refusals: a revert reason, one of which is running out of
/// gas.
pub(crate) trait Refusal: std::fmt::Display {
    /// The refusal for a call whose gas does not cover its work.
    fn out_of_gas() -> Self;
    /// Whether this is that refusal.
    fn is_out_of_gas(&self) -> bool;
}

/// Unwraps an [`Outcome`], returning a refusal or fatal error at once.
macro_rules! tri {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}
pub(crate) use tri;

/// Gas per slot read.
pub(crate) const SLOAD_GAS: u64 = 2_100;
/// Gas per slot written.
pub(crate) const SSTORE_GAS: u64 = 22_100;

/// One call into a system contract at `address`.
pub(crate) struct SystemCall<'a, CTX> {
    pub(crate) ctx: &'a mut CTX,
    pub(crate) address: Address,
    pub(crate) gas_used: u64,
    pub(crate) gas_limit: u64,
}

impl<'a, CTX: ContextTr> SystemCall<'a, CTX> {
    pub(crate) fn new(ctx: &'a mut CTX, address: Address, gas_limit: u64) -> Self {
        Self {
            ctx,
            address,
            gas_used: 0,
            gas_limit,
        }
    }

    /// Spends `gas`, refusing once the limit is passed.
    pub(crate) fn charge<E: Refusal>(&mut self, gas: u64) -> Result<(), E> {
        self.gas_used = self.gas_used.saturating_add(gas);
        if self.gas_used > self.gas_limit {
            return Err(E::out_of_gas());
        }
        Ok(())
    }

    /// The contract's slot `slot`.
    pub(crate) fn sload<E: Refusal>(&mut self, slot: U256) -> Outcome<U256, E> {
        if let Err(e) = self.charge(SLOAD_GAS) {
            return Ok(Err(e));
        }
        self.ctx
            .journal_mut()
            .sload(self.address, slot)
            .map(|v| Ok(v.data))
            .map_err(|e| Fatal(e.to_string()))
    }

    /// Writes the contract's slot `slot`.
    pub(crate) fn sstore<E: Refusal>(&mut self, slot: U256, value: U256) -> Outcome<(), E> {
        if let Err(e) = self.charge(SSTORE_GAS) {
            return Ok(Err(e));
        }
        self.ctx
            .journal_mut()
            .sstore(self.address, slot, value)
            .map(|_| Ok(()))
            .map_err(|e| Fatal(e.to_string()))
    }

    /// Emits `event` from the contract.
    pub(crate) fn emit(&mut self, event: &impl SolEvent) {
        let topics = event.encode_topics().into_iter().map(|t| t.0).collect();
        if let Some(data) = revm::primitives::LogData::new(topics, event.encode_data().into()) {
            self.ctx.journal_mut().log(Log {
                address: self.address,
                data,
            });
        }
    }

    /// The block's number.
    pub(crate) fn block_number(&self) -> u64 {
        self.ctx.block().number().saturating_to()
    }

    /// The block's time, in seconds.
    pub(crate) fn block_timestamp(&self) -> u64 {
        self.ctx.block().timestamp().saturating_to()
    }
}

/// The call's result as revm takes it: the output on success; a revert
/// with the reason for a refusal; all gas spent when it ran out.
pub(crate) fn finish<E: Refusal>(
    outcome: Result<Bytes, E>,
    gas_used: u64,
    inputs: &CallInputs,
) -> InterpreterResult {
    let mut gas = Gas::new(inputs.gas_limit);
    match outcome {
        Ok(output) => {
            let _ = gas.record_regular_cost(gas_used);
            InterpreterResult::new(InstructionResult::Return, output, gas)
        }
        Err(refusal) if refusal.is_out_of_gas() => {
            gas.spend_all();
            InterpreterResult::new(InstructionResult::PrecompileOOG, Bytes::new(), gas)
        }
        Err(refusal) => {
            let _ = gas.record_regular_cost(gas_used.min(inputs.gas_limit));
            let reason = alloy_sol_types::Revert::from(refusal.to_string()).abi_encode();
            InterpreterResult::new(InstructionResult::Revert, reason.into(), gas)
        }
    }
}

/// A system contract's storage slot: blake3, keyed to `context`, of
/// `key` (the borsh encoding of what names the slot).
pub(crate) fn keyed_slot(context: &str, key: &[u8]) -> U256 {
    U256::from_be_bytes(gont_core::Hash::digest_in(context, key).0)
}

/// The first four bytes of `input`, if it has them.
pub(crate) fn selector(input: &[u8]) -> Option<[u8; 4]> {
    input.get(..4).and_then(|s| s.try_into().ok())
}
