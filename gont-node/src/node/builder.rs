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

use gont_core::Address;
use gont_vm::NativeContract;
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

use super::{Node, NodeError};
use crate::config::NodeConfig;
use crate::extend::Extensions;
pub use crate::extend::{ChainRpc, Chains};
use crate::mempool::TxOrdering;

/// A change to the loaded `config.toml`.
type ConfigChange = Box<dyn FnOnce(&mut NodeConfig) + Send>;

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

impl Extensions {
    /// The extra methods of `chain` for a node; one refused is
    /// [`NodeError::RpcExtension`].
    pub(super) fn node_rpc_methods(&self, chain: &ChainRpc) -> Result<RpcModule<()>, NodeError> {
        self.rpc_methods(chain)
            .map_err(|e| NodeError::RpcExtension {
                chain: chain.chain_id,
                reason: e.to_string(),
            })
    }
}
