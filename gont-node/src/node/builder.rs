//! [`NodeBuilder`]: a node of one's own, built as `gont start` builds its
//! own: the same home (`config.toml`, `genesis.json`, keys), plus what an
//! integrator adds to the chains it runs: native contracts (precompiles of
//! their own), JSON-RPC methods, and the order in which the pool offers
//! transactions to the node's proposals.
//!
//! ```no_run
//! # async fn run() -> Result<(), gont_node::node::NodeError> {
//! use gont_node::node::{Chains, NodeBuilder};
//! # #[derive(Debug)] struct MyPrecompile;
//! # impl gont_vm::NativeContract for MyPrecompile {
//! #     fn call(&self, _: &[u8], _: u64) -> gont_vm::NativeOutcome { gont_vm::NativeOutcome::Halt }
//! # }
//! let node = NodeBuilder::new("/path/to/home")
//!     .passphrase("validator key passphrase")
//!     .native_contract(Chains::All, gont_core::Address::repeat_byte(0x01), MyPrecompile)
//!     .rpc_methods(|chain| {
//!         let mut module = jsonrpsee::RpcModule::new(());
//!         let id = chain.chain_id;
//!         module.register_method("myapp_chain", move |_, _, _| id.get())?;
//!         Ok(module)
//!     })
//!     .launch()
//!     .await?;
//! node.run_until_signal().await
//! # }
//! ```
//!
//! Every node of a chain must run the same native contracts at the same
//! addresses, or their blocks differ: like the genesis, they are the
//! chain's rules. RPC methods are each node's own business.

use std::path::PathBuf;
use std::sync::Arc;

use gont_core::{Address, ChainId};
use gont_vm::{EngineConfig, NativeContract};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

use super::{Node, NodeError};
use crate::backend::ChainBackend;
use crate::config::NodeConfig;
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

/// A change to the loaded `config.toml`.
type ConfigChange = Box<dyn FnOnce(&mut NodeConfig) + Send>;

/// Builds the extra JSON-RPC methods of one chain.
type RpcExtension =
    Arc<dyn Fn(&ChainRpc) -> Result<RpcModule<()>, RegisterMethodError> + Send + Sync>;

/// What an integrator adds to the chains of a node.
#[derive(Clone, Default)]
pub(crate) struct Extensions {
    native: Vec<(Chains, Address, Arc<dyn NativeContract>)>,
    rpc: Vec<RpcExtension>,
    ordering: Vec<(Chains, Arc<dyn TxOrdering>)>,
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

    /// The extra methods of `chain`, in one module.
    pub(crate) fn rpc_methods(&self, chain: &ChainRpc) -> Result<RpcModule<()>, NodeError> {
        let refused = |e: RegisterMethodError| NodeError::RpcExtension {
            chain: chain.chain_id,
            reason: e.to_string(),
        };
        let mut methods = RpcModule::new(());
        for extension in &self.rpc {
            methods
                .merge(extension(chain).map_err(refused)?)
                .map_err(refused)?;
        }
        Ok(methods)
    }
}

/// A node of one's own: `gont start` is `NodeBuilder::new(home)` with the
/// command line's passphrase and overrides, and nothing added.
#[must_use = "a builder does nothing until launched"]
pub struct NodeBuilder {
    home: PathBuf,
    passphrase: Option<String>,
    configure: Vec<ConfigChange>,
    extensions: Extensions,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("home", &self.home)
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

impl NodeBuilder {
    /// A node of the home directory `home` (as `gont init` makes it).
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            passphrase: None,
            configure: Vec::new(),
            extensions: Extensions::default(),
        }
    }

    /// The passphrase of the home's encrypted validator keys.
    pub fn passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.passphrase = Some(passphrase.into());
        self
    }

    /// Changes the home's `config.toml` as loaded, before the node starts
    /// (the file itself is not written).
    pub fn configure(mut self, change: impl FnOnce(&mut NodeConfig) + Send + 'static) -> Self {
        self.configure.push(Box::new(change));
        self
    }

    /// Runs `contract` at `address` in the EVM of `chains`, beside
    /// Ethereum's precompiles and the system contracts: for blocks built
    /// and checked, and for `eth_call`, `eth_estimateGas` and the tracers.
    /// A later contract at the same address replaces an earlier one.
    pub fn native_contract(
        mut self,
        chains: Chains,
        address: Address,
        contract: impl NativeContract + 'static,
    ) -> Self {
        self.extensions
            .native
            .push((chains, address, Arc::new(contract)));
        self
    }

    /// Orders the pool of `chains` by `ordering` when this node proposes
    /// (instead of by tip, [`crate::mempool::ByTip`]); each sender's
    /// transactions stay in nonce order. A later ordering for a chain
    /// replaces an earlier one. Other nodes may order as they like: a
    /// proposer's order is its own.
    pub fn tx_ordering(mut self, chains: Chains, ordering: impl TxOrdering + 'static) -> Self {
        self.extensions.ordering.push((chains, Arc::new(ordering)));
        self
    }

    /// Adds the methods `build` makes to the JSON-RPC of every chain the
    /// node serves one for (called once per chain). A method named as
    /// another extension's stops the launch with
    /// [`NodeError::RpcExtension`], one named as the node's own with
    /// [`NodeError::Rpc`].
    pub fn rpc_methods(
        mut self,
        build: impl Fn(&ChainRpc) -> Result<RpcModule<()>, RegisterMethodError> + Send + Sync + 'static,
    ) -> Self {
        self.extensions.rpc.push(Arc::new(build));
        self
    }

    /// Starts the node: every chain of its `config.toml`, with what was
    /// added.
    pub async fn launch(self) -> Result<Node, NodeError> {
        let configure = self.configure;
        Node::start_extended(
            &self.home,
            self.passphrase.as_deref(),
            move |config| {
                for change in configure {
                    change(config);
                }
            },
            self.extensions,
        )
        .await
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
