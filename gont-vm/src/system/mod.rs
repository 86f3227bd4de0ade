//! System contracts: contracts at fixed addresses whose code is the node's
//! own (Rust, executed inside the EVM call like a precompile, with the
//! call's gas, the Space block's time and the registry's own storage), with
//! a Solidity interface in `gont-vm/contracts/` so that contracts and tools
//! call them as any contract.
//!
//! - [`staking`]: every chain's staking contract ([`STAKING`]), whose set
//!   of validators decides the chain's blocks;
//! - [`anchor`]: GONT Space's anchor registry ([`ANCHOR_REGISTRY`]).
//!
//! [`GontPrecompiles`] is revm's precompile provider of every GONT EVM:
//! Ethereum's precompiles, plus the chain's system contracts, plus any
//! native contracts an integrator added ([`crate::native`]).

pub mod anchor;
mod call;
pub mod staking;

use std::sync::Arc;

use gont_core::Address;
use revm::context::{Cfg, ContextTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;

use crate::native::{self, NativeContracts};

pub use anchor::{ANCHOR_REGISTRY, AnchorConfig, AnchorError, ServiceAnchorConfig};
pub use staking::{STAKING, StakingConfig, StakingError};

/// The system contracts one chain has. Every GONT chain has the staking
/// contract; GONT Space also has the anchor registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemContracts {
    /// The staking contract and its rules.
    pub staking: Option<StakingConfig>,
    /// The anchor registry (GONT Space only).
    pub anchor: Option<Arc<AnchorConfig>>,
    /// An integrator's native contracts ([`crate::native`]): precompiles
    /// of their own, which have no account at genesis.
    pub native: NativeContracts,
}

impl SystemContracts {
    /// The system contracts' addresses; their accounts exist from genesis
    /// (nonce 1), so that EIP-161 never clears their storage.
    pub fn addresses(&self) -> Vec<Address> {
        let staking = self.staking.iter().map(|_| STAKING);
        let anchor = self.anchor.iter().map(|_| ANCHOR_REGISTRY);
        staking.chain(anchor).collect()
    }
}

/// Ethereum's precompiles and the chain's system contracts.
#[derive(Debug, Clone)]
pub struct GontPrecompiles {
    eth: EthPrecompiles,
    system: SystemContracts,
    warm: AddressSet,
}

impl GontPrecompiles {
    /// The provider for `spec` with `system`.
    pub fn new(spec: SpecId, system: &SystemContracts) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_of(&eth, system);
        Self {
            eth,
            system: system.clone(),
            warm,
        }
    }

    fn warm_of(eth: &EthPrecompiles, system: &SystemContracts) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(system.addresses());
        warm.extend(system.native.addresses());
        warm
    }
}

impl<CTX: ContextTr> PrecompileProvider<CTX> for GontPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = Self::warm_of(&self.eth, &self.system);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<Self::Output>, String> {
        if inputs.bytecode_address == STAKING
            && let Some(config) = &self.system.staking
        {
            return staking::run(config, context, inputs).map(Some);
        }
        if inputs.bytecode_address == ANCHOR_REGISTRY
            && let Some(config) = &self.system.anchor
        {
            return anchor::run(config, context, inputs).map(Some);
        }
        if let Some(contract) = self.system.native.get(&inputs.bytecode_address) {
            let input = inputs.input.as_bytes(context);
            let outcome = contract.call(&input, inputs.gas_limit);
            return Ok(Some(native::interpreter_result(outcome, inputs.gas_limit)));
        }
        <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, context, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}
