//! Native contracts: code of an integrator's own (Rust), run at a fixed
//! address of a chain's EVM as a precompile, beside Ethereum's precompiles
//! and the chain's system contracts ([`crate::system`]).
//!
//! A native contract sees only its input and the call's gas limit, as
//! Ethereum's precompiles do: no state, no logs, no value. Every node of a
//! chain must run the same ones at the same addresses, or their blocks
//! differ: they are part of the chain's rules, chosen when the node is
//! built (`gont_node::node::NodeBuilder::native_contract`).

use std::fmt;
use std::sync::Arc;

use gont_core::{Address, Bytes};
use revm::interpreter::{Gas, InstructionResult, InterpreterResult};

/// Native code at an address. It must be deterministic: the same input and
/// gas limit give the same outcome on every node.
pub trait NativeContract: Send + Sync + fmt::Debug {
    /// Runs one call with `input`, which may use up to `gas_limit` gas.
    fn call(&self, input: &[u8], gas_limit: u64) -> NativeOutcome;
}

/// What a call to a native contract did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NativeOutcome {
    /// It returned `output`, having used `gas_used`.
    Return {
        /// The return data.
        output: Bytes,
        /// The gas it used, at most the limit it was given.
        gas_used: u64,
    },
    /// It reverted with `output` (a revert reason, say), having used
    /// `gas_used`; the caller keeps the rest.
    Revert {
        /// The revert data.
        output: Bytes,
        /// The gas it used, at most the limit it was given.
        gas_used: u64,
    },
    /// It failed: the call consumes all its gas, as a failed Ethereum
    /// precompile's does (out of gas, input it cannot take).
    Halt,
}

/// The native contracts of one chain, by address.
#[derive(Clone, Default)]
pub struct NativeContracts(Vec<(Address, Arc<dyn NativeContract>)>);

impl NativeContracts {
    /// No native contracts.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// `contract` at `address`, in place of any there before.
    pub fn insert(&mut self, address: Address, contract: Arc<dyn NativeContract>) {
        self.0.retain(|(a, _)| *a != address);
        self.0.push((address, contract));
    }

    /// The contract at `address`.
    pub fn get(&self, address: &Address) -> Option<&Arc<dyn NativeContract>> {
        self.0.iter().find(|(a, _)| a == address).map(|(_, c)| c)
    }

    /// Their addresses.
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.0.iter().map(|(a, _)| *a)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for NativeContracts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(a, c)| (a, c)))
            .finish()
    }
}

/// Equal when the same contracts (the same instances) sit at the same
/// addresses.
impl PartialEq for NativeContracts {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().all(|(address, contract)| {
                other
                    .get(address)
                    .is_some_and(|theirs| Arc::ptr_eq(contract, theirs))
            })
    }
}

impl Eq for NativeContracts {}

/// A call's outcome as revm takes it, for a call given `gas_limit`: a
/// contract that claims more gas than it was given has run out of gas.
pub(crate) fn interpreter_result(outcome: NativeOutcome, gas_limit: u64) -> InterpreterResult {
    let mut gas = Gas::new(gas_limit);
    let (result, output, gas_used) = match outcome {
        NativeOutcome::Return { output, gas_used } => (InstructionResult::Return, output, gas_used),
        NativeOutcome::Revert { output, gas_used } => (InstructionResult::Revert, output, gas_used),
        NativeOutcome::Halt => {
            gas.spend_all();
            return InterpreterResult::new(InstructionResult::PrecompileError, Bytes::new(), gas);
        }
    };
    if gas_used > gas_limit {
        gas.spend_all();
        return InterpreterResult::new(InstructionResult::PrecompileOOG, Bytes::new(), gas);
    }
    let _ = gas.record_regular_cost(gas_used);
    InterpreterResult::new(result, output, gas)
}
