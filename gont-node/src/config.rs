//! A node's home directory and its `config.toml`.
//!
//! ```text
//! <home>/
//!   config.toml          this file: what the node runs and where it listens
//!   genesis.json         the network's genesis (GONT Space and its services)
//!   node_key             the libp2p identity (not a validator key)
//!   keystore/            validator keys, Web3 Secret Storage v3, one per chain
//!   data/gont.redb       every chain's blocks and state
//!   data/consensus/<id>/ each chain's consensus write-ahead log
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gont_core::ChainId;
use serde::{Deserialize, Serialize};

/// The file names inside a home directory.
pub mod files {
    /// The node's configuration.
    pub const CONFIG: &str = "config.toml";
    /// The network's genesis.
    pub const GENESIS: &str = "genesis.json";
    /// Validator keystores.
    pub const KEYSTORE: &str = "keystore";
    /// Chain data.
    pub const DATA: &str = "data";
}

/// `config.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// A name for people and logs.
    pub moniker: String,
    /// The node's libp2p network (transactions, sync, discovery).
    pub p2p: P2pConfig,
    /// Prometheus metrics; absent to serve none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
    /// The node's store; absent for the defaults (archive).
    #[serde(default)]
    pub storage: StorageConfig,
    /// Every chain's transaction pool (`[txpool]`): limits, fee floor,
    /// expiry and journal, geth's defaults when absent.
    #[serde(default)]
    pub txpool: crate::mempool::MempoolConfig,
    /// Every chain's JSON-RPC server (`[rpc]`): request and response
    /// sizes, batches, connections, log queries, the gas cap, the
    /// estimation budget, the execution timeout and turns.
    #[serde(default)]
    pub rpc: crate::rpc::RpcLimits,
    /// The account that submits this node's services' checkpoints to GONT
    /// Space's anchor registry; absent to submit none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayer: Option<RelayerConfig>,
    /// The chains this node runs: GONT Space and any services.
    #[serde(rename = "chain")]
    pub chains: Vec<ChainConfig>,
}

/// `[relayer]`: a node that runs a service and GONT Space submits the
/// service's checkpoint every `checkpoint_interval` blocks (a service
/// parameter of the genesis) as an ordinary Space transaction from this
/// account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayerConfig {
    /// The account's secp256k1 key: a keystore relative to the home,
    /// under the validator keys' passphrase.
    pub keystore: PathBuf,
}

/// The node's libp2p network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// Listen multiaddress, e.g. `/ip4/0.0.0.0/tcp/26656`.
    pub listen: String,
    /// Peers to dial at start (multiaddresses with `/p2p/<id>`).
    #[serde(default)]
    pub bootstrap: Vec<String>,
}

/// Prometheus metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served.
    pub listen: SocketAddr,
}

/// The node's store (`[storage]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// How much state history to keep: `"archive"` (every height, the
    /// default) or `{ keep_last = N }` (the newest N heights; older state
    /// reads are refused, blocks, receipts and logs stay). N must exceed
    /// the unbonding period of every chain the node runs: evidence that
    /// old is checked against the state of its height.
    #[serde(default)]
    pub pruning: PruningConfig,
}

/// `pruning = "archive"` or `pruning = { keep_last = N }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, expecting = "\"archive\" or { keep_last = N } with N > 0")]
pub enum PruningConfig {
    /// `"archive"`.
    Mode(PruningMode),
    /// `{ keep_last = N }`.
    KeepLast {
        /// How many of the newest heights' state stay readable.
        keep_last: std::num::NonZeroU64,
    },
}

/// The named pruning modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruningMode {
    /// Keep every height's state.
    Archive,
}

impl Default for PruningConfig {
    fn default() -> Self {
        Self::Mode(PruningMode::Archive)
    }
}

impl From<PruningConfig> for gont_storage::Pruning {
    fn from(p: PruningConfig) -> Self {
        match p {
            PruningConfig::Mode(PruningMode::Archive) => Self::Archive,
            PruningConfig::KeepLast { keep_last } => Self::KeepLast(keep_last),
        }
    }
}

/// One chain this node runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's EIP-155 id (GONT Space's or a service's, from genesis).
    pub chain_id: ChainId,
    /// Ethereum JSON-RPC (HTTP and WebSocket); absent to serve none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<SocketAddr>,
    /// Origins allowed to call the JSON-RPC from a browser (CORS): `["*"]`
    /// for any, or origins such as `"http://localhost:3000"`; none when
    /// empty. `gont start --rpc-cors` overrides it for every chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpc_cors: Vec<String>,
    /// Whether the JSON-RPC admits legacy transactions without EIP-155
    /// replay protection (default: refused, as geth refuses them unless
    /// `--rpc.allow-unprotected-txs`). `gont start
    /// --rpc-allow-unprotected-txs` sets it for every chain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rpc_allow_unprotected_txs: bool,
    /// The validator keystore, relative to the home; absent for a full node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_key: Option<PathBuf>,
    /// The chain's consensus network.
    pub consensus: ConsensusNetConfig,
}

/// A chain's consensus network (Malachite's own libp2p network).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusNetConfig {
    /// Listen multiaddress.
    pub listen: String,
    /// Peers of this chain (multiaddresses), dialled and re-dialled.
    /// Proposal parts are not relayed from peer to peer, so a node hears a
    /// round's proposal only from a proposer it is connected to: list the
    /// chain's validators, or the node learns each block once decided, by
    /// value sync.
    #[serde(default)]
    pub peers: Vec<String>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for a node configuration.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The configuration contradicts itself or the genesis.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl NodeConfig {
    /// Reads `<home>/config.toml`.
    pub fn load(home: &Path) -> Result<Self, ConfigError> {
        let path = home.join(files::CONFIG);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Self::from_toml(&text, &path)
    }

    /// Parses and checks the TOML of a `config.toml`; `path` names it in
    /// errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.check(path)?;
        Ok(config)
    }

    /// The TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        if self.chains.is_empty() {
            return Err(invalid(
                "no [[chain]] configured: a node runs at least one chain".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.chains {
            if !seen.insert(c.chain_id) {
                return Err(invalid(format!("chain {} is configured twice", c.chain_id)));
            }
            crate::rpc::cors::layer(&c.rpc_cors)
                .map_err(|e| invalid(format!("chain {}: rpc_cors: {e}", c.chain_id)))?;
        }
        Ok(())
    }

    /// The configuration of one chain.
    pub fn chain(&self, id: ChainId) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.chain_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeConfig {
        NodeConfig {
            moniker: "node0".into(),
            p2p: P2pConfig {
                listen: "/ip4/127.0.0.1/tcp/26656".into(),
                bootstrap: vec![],
            },
            metrics: Some(MetricsConfig {
                listen: "127.0.0.1:9615".parse().unwrap(),
            }),
            storage: StorageConfig::default(),
            txpool: crate::mempool::MempoolConfig::default(),
            rpc: crate::rpc::RpcLimits::default(),
            relayer: None,
            chains: vec![ChainConfig {
                chain_id: ChainId(31337),
                rpc: Some("127.0.0.1:8545".parse().unwrap()),
                rpc_cors: Vec::new(),
                rpc_allow_unprotected_txs: false,
                validator_key: Some("keystore/31337.json".into()),
                consensus: ConsensusNetConfig {
                    listen: "/ip4/127.0.0.1/tcp/27000".into(),
                    peers: vec![],
                },
            }],
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(files::CONFIG), sample().to_toml()).unwrap();
        assert_eq!(NodeConfig::load(dir.path()).unwrap(), sample());
    }

    #[test]
    fn pruning_is_archive_or_keep_last_n() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(files::CONFIG);
        let with = |storage: &str| {
            let text = sample()
                .to_toml()
                .replace("[storage]\npruning = \"archive\"", storage);
            std::fs::write(&path, text).unwrap();
            NodeConfig::load(dir.path())
        };
        assert!(
            sample()
                .to_toml()
                .contains("[storage]\npruning = \"archive\"")
        );
        assert_eq!(
            with("").unwrap().storage.pruning,
            PruningConfig::default(),
            "archive when absent"
        );
        assert_eq!(
            with("[storage]\npruning = { keep_last = 10 }")
                .unwrap()
                .storage
                .pruning,
            PruningConfig::KeepLast {
                keep_last: std::num::NonZeroU64::new(10).unwrap()
            }
        );
        for bad in ["\"sometimes\"", "{ keep_last = 0 }", "{ keep = 5 }"] {
            let e = with(&format!("[storage]\npruning = {bad}"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("config.toml") && e.contains("keep_last = N"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn txpool_and_rpc_limits_take_each_field_alone_and_refuse_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(files::CONFIG);
        let text = sample().to_toml();
        assert!(
            text.contains("[txpool]") && text.contains("[rpc]"),
            "{text}"
        );
        assert!(text.contains("max_transaction_bytes = 131072"), "{text}");
        assert!(text.contains("evm_timeout_ms = 5000"), "{text}");
        let base = text;
        let cut = base.find("[txpool]").unwrap();
        let end = base.find("[[chain]]").unwrap();
        let with = |sections: &str| {
            let text = format!("{}{sections}\n{}", &base[..cut], &base[end..]);
            std::fs::write(&path, text).unwrap();
            NodeConfig::load(dir.path())
        };
        let loaded = with("[txpool]\nmin_tip_wei = 7\n[rpc]\nevm_timeout_ms = 250\n").unwrap();
        assert_eq!(loaded.txpool.min_tip_wei, 7);
        assert_eq!(loaded.txpool.max_account_slots, 64, "the rest default");
        assert_eq!(loaded.rpc.evm_timeout_ms, 250);
        assert_eq!(loaded.rpc.call_gas_cap, 50_000_000);
        let absent = with("").unwrap();
        assert_eq!(absent.txpool, crate::mempool::MempoolConfig::default());
        assert_eq!(absent.rpc, crate::rpc::RpcLimits::default());
        let e = with("[rpc]\nevm_timeout = 5\n").unwrap_err().to_string();
        assert!(e.contains("evm_timeout"), "{e}");
    }

    #[test]
    fn typos_and_duplicates_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(files::CONFIG);
        std::fs::write(&path, sample().to_toml().replace("moniker", "monicker")).unwrap();
        let e = NodeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("monicker"), "{e}");
        let mut twice = sample();
        twice.chains.push(twice.chains[0].clone());
        std::fs::write(&path, twice.to_toml()).unwrap();
        let e = NodeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("chain 31337 is configured twice"), "{e}");
    }
}
