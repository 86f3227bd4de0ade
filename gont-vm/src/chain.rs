//! Which rules a chain runs and the context of one block, and their mapping
//! onto revm's `CfgEnv` and `BlockEnv`.

use gont_core::{Address, B256, ChainId, Hash, Height, Timestamp};
use revm::context::{BlockEnv, CfgEnv};
use revm::primitives::hardfork::SpecId;

use crate::native::NativeContracts;
use crate::system::{GontPrecompiles, SystemContracts};

/// The Ethereum rule sets gont-vm executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fork {
    /// Cancun: transaction types 0–3, transient storage, `MCOPY`, blobs.
    Cancun,
    /// Prague: Cancun plus type 4 (EIP-7702), BLS12-381 precompiles and the
    /// calldata floor price (EIP-7623).
    Prague,
}

impl Fork {
    /// revm's id of this rule set.
    pub const fn spec_id(self) -> SpecId {
        match self {
            Self::Cancun => SpecId::CANCUN,
            Self::Prague => SpecId::PRAGUE,
        }
    }

    /// The most blobs one transaction may carry (EIP-4844, EIP-7691).
    pub const fn max_blobs_per_tx(self) -> usize {
        match self {
            Self::Cancun => 6,
            Self::Prague => 9,
        }
    }
}

/// The rules of one chain: what every node of it must agree on to execute
/// its blocks identically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// The EIP-155 chain id that signed transactions must carry.
    pub chain_id: ChainId,
    /// The Ethereum rule set.
    pub fork: Fork,
    /// Whether type-3 blob transactions are accepted. GONT chains carry no
    /// blob sidecars, so they refuse them; the conformance runner accepts
    /// them to check the EVM's Cancun rules in full.
    pub blob_transactions: bool,
    /// The chain's system contracts (see [`crate::system`]).
    pub system: SystemContracts,
}

impl ChainConfig {
    /// The rules of a GONT chain (the Space or a service): Prague, types 0,
    /// 1, 2 and 4, no blob transactions, no system contracts (see
    /// [`crate::EngineConfig::from_genesis`] for the Space's).
    pub const fn gont(chain_id: ChainId) -> Self {
        Self {
            chain_id,
            fork: Fork::Prague,
            blob_transactions: false,
            system: SystemContracts {
                staking: None,
                anchor: None,
                native: NativeContracts::new(),
            },
        }
    }

    /// The precompile provider of this chain's EVM.
    pub fn precompiles(&self) -> GontPrecompiles {
        GontPrecompiles::new(self.fork.spec_id(), &self.system)
    }

    /// Whether transactions of this EIP-2718 type are accepted.
    pub const fn accepts_type(&self, ty: u8) -> bool {
        match ty {
            0..=2 => true,
            3 => self.blob_transactions,
            4 => matches!(self.fork, Fork::Prague),
            _ => false,
        }
    }

    /// revm's configuration for this chain.
    pub fn cfg_env(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(self.fork.spec_id());
        cfg.chain_id = self.chain_id.0;
        cfg
    }
}

/// The context one block executes in: what the EVM's block opcodes see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// `NUMBER`: the block's height.
    pub height: Height,
    /// `TIMESTAMP`, in whole seconds.
    pub timestamp: u64,
    /// `GASLIMIT`: the most gas the block's transactions may use together.
    pub gas_limit: u64,
    /// `BASEFEE`: the EIP-1559 base fee per gas, in wei.
    pub base_fee: u64,
    /// `COINBASE`: the account that receives priority fees.
    pub coinbase: Address,
    /// `PREVRANDAO`. GONT has no randomness beacon: see [`prevrandao`].
    pub prevrandao: B256,
    /// EIP-4844 excess blob gas; always 0 on GONT chains.
    pub excess_blob_gas: u64,
}

impl BlockContext {
    /// revm's block environment.
    pub fn block_env(&self, fork: Fork) -> BlockEnv {
        let mut env = BlockEnv {
            number: revm::primitives::U256::from(self.height.0),
            beneficiary: self.coinbase,
            timestamp: revm::primitives::U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: revm::primitives::U256::ZERO,
            prevrandao: Some(self.prevrandao),
            ..BlockEnv::default()
        };
        let fraction = match fork {
            Fork::Cancun => revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
            Fork::Prague => revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
        };
        env.set_blob_excess_gas_and_price(self.excess_blob_gas, fraction);
        env
    }

    /// The blob base fee per blob gas that follows from the excess blob gas.
    pub fn blob_base_fee(&self, fork: Fork) -> u128 {
        self.block_env(fork)
            .blob_excess_gas_and_price
            .map_or(1, |b| b.blob_gasprice)
    }
}

/// The `PREVRANDAO` of a block: the id of its parent, or the genesis hash
/// for the first block. GONT has no randomness beacon; this value is fixed
/// by the parent, so it is known to the proposer in advance and must not be
/// used as a source of unpredictable randomness (the same caveat Ethereum
/// documents for `PREVRANDAO` one block ahead).
pub fn prevrandao(parent: Option<gont_core::BlockId>, genesis_hash: Hash) -> B256 {
    B256::from(parent.map_or(genesis_hash.0, |p| p.0))
}

/// `TIMESTAMP` for a GONT time: whole seconds, rounded down.
pub const fn evm_timestamp(time: Timestamp) -> u64 {
    time.as_secs()
}
