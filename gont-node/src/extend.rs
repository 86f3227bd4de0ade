//! What an integrator adds to the chains a node runs, for both builders:
//! `node::NodeBuilder` (the `masternode` placement) and
//! [`crate::standalone::StandaloneBuilder`] (the VM alone, `abi`): native
//! contracts, JSON-RPC methods and the pool's ordering.

use std::sync::Arc;

use gont_core::{Address, ChainId};
use gont_vm::{EngineConfig, NativeContract};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

use crate::backend::ChainBackend;
use crate::mempool::{Mempool, MempoolConfig, TxOrdering};

/// The chains an addition applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chains {
    /// Every chain the node runs: GONT Space and its services.
    All,
    /// One chain, by its chain id.
    Only(ChainId),
}

impl Chains {
    fn contain(self, chain: ChainId) -> bool {
        match self {
            Self::All => true,
            Self::Only(only) => only == chain,
        }
    }
}

/// What an RPC extension is told about the chain it serves.
pub struct ChainRpc {
    /// The chain.
    pub chain_id: ChainId,
    /// Its store, pool and execution, as the node's own methods use them.
    pub backend: Arc<ChainBackend>,
}

impl std::fmt::Debug for ChainRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainRpc")
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

/// Builds the extra JSON-RPC methods of one chain.
pub(crate) type RpcExtension =
    Arc<dyn Fn(&ChainRpc) -> Result<RpcModule<()>, RegisterMethodError> + Send + Sync>;

/// What an integrator adds to the chains of a node.
#[derive(Clone, Default)]
pub(crate) struct Extensions {
    pub(crate) native: Vec<(Chains, Address, Arc<dyn NativeContract>)>,
    pub(crate) rpc: Vec<RpcExtension>,
    pub(crate) ordering: Vec<(Chains, Arc<dyn TxOrdering>)>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("native", &self.native)
            .field("rpc", &self.rpc.len())
            .field("ordering", &self.ordering)
            .finish()
    }
}

impl Extensions {
    /// `config` (chain `chain`'s, from the genesis) with the native
    /// contracts that apply to it.
    pub(crate) fn engine_config(&self, chain: ChainId, mut config: EngineConfig) -> EngineConfig {
        for (chains, address, contract) in &self.native {
            if chains.contain(chain) {
                config
                    .chain
                    .system
                    .native
                    .insert(*address, contract.clone());
            }
        }
        config
    }

    /// The pool of `chain`: by tip, or in the last order given for it.
    pub(crate) fn mempool(&self, chain: ChainId, config: MempoolConfig) -> Mempool {
        let pool = Mempool::new(config);
        match self
            .ordering
            .iter()
            .rev()
            .find(|(chains, _)| chains.contain(chain))
        {
            Some((_, ordering)) => pool.with_ordering(ordering.clone()),
            None => pool,
        }
    }

    /// The extra methods of `chain`, in one module; an error if an
    /// extension could not register a method, or two named one alike.
    pub(crate) fn rpc_methods(
        &self,
        chain: &ChainRpc,
    ) -> Result<RpcModule<()>, RegisterMethodError> {
        let mut methods = RpcModule::new(());
        for extension in &self.rpc {
            methods.merge(extension(chain)?)?;
        }
        Ok(methods)
    }
}

#[cfg(test)]
mod tests {
    use gont_core::{RawTransaction, Timestamp, U256};

    use super::*;
    use crate::mempool::PoolTransaction;

    /// Oldest admission first.
    #[derive(Debug)]
    struct FirstCome;

    impl TxOrdering for FirstCome {
        fn priority(&self, tx: &PoolTransaction, _: u128) -> Option<u128> {
            Some(u128::MAX - u128::from(tx.admitted.0))
        }
    }

    fn tx(sender: u8, tip: u128, admitted: u64) -> PoolTransaction {
        let raw = RawTransaction(vec![sender].into());
        PoolTransaction {
            hash: raw.hash(),
            raw,
            sender: Address::repeat_byte(sender),
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: 1_000,
            max_priority_fee_per_gas: tip,
            cost: U256::ZERO,
            admitted: Timestamp(admitted),
        }
    }

    #[test]
    fn a_chains_pool_takes_the_ordering_given_for_it_and_others_keep_ordering_by_tip() {
        let mut extensions = Extensions::default();
        extensions
            .ordering
            .push((Chains::Only(ChainId(7)), Arc::new(FirstCome)));
        let order = |chain| {
            let mut pool = extensions.mempool(ChainId(chain), MempoolConfig::default());
            // Sender 1 tips more; sender 2 came first.
            pool.admit(tx(1, 50, 2_000), 0, U256::MAX).unwrap();
            pool.admit(tx(2, 10, 1_000), 0, U256::MAX).unwrap();
            pool.select(0, u64::MAX, usize::MAX, |_| 0)
                .iter()
                .map(|raw| raw.0.first().copied())
                .collect::<Vec<_>>()
        };
        assert_eq!(order(7), [Some(2), Some(1)]);
        assert_eq!(order(8), [Some(1), Some(2)]);
    }
}
