//! Creating a home directory (`gont init`) and managing its keys
//! (`gont keys`).

use std::path::{Path, PathBuf};

use gont_core::genesis::{DevnetChain, devnet_validator_key};
use gont_core::{ChainId, ConsensusKey, Genesis, Timestamp};

use crate::config::{ChainConfig, ConsensusNetConfig, NodeConfig, P2pConfig, files};
use crate::keystore;

/// Why a home could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The directory already holds a node.
    #[error("{0} already holds a node (config.toml exists); refusing to overwrite it")]
    Exists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The genesis is not valid.
    #[error("{path}: {message}")]
    Genesis {
        /// The genesis file.
        path: PathBuf,
        /// Every mistake, with its JSON path.
        message: String,
    },
    /// A keystore failed.
    #[error(transparent)]
    Keystore(#[from] keystore::KeystoreError),
    /// The node key failed.
    #[error(transparent)]
    NodeKey(#[from] gont_net::IdentityError),
    /// A chain that the genesis does not have.
    #[error("chain {0} is neither GONT Space nor a service in the genesis")]
    UnknownChain(ChainId),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HomeError + '_ {
    move |source| HomeError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads and validates `<home>/genesis.json` against the clock `now`.
pub fn load_genesis(home: &Path, now: Timestamp) -> Result<Genesis, HomeError> {
    let path = home.join(files::GENESIS);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let genesis = Genesis::from_json(&text).map_err(|e| HomeError::Genesis {
        path: path.clone(),
        message: e.to_string(),
    })?;
    genesis.validate(now).map_err(|e| HomeError::Genesis {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(genesis)
}

/// The keystore file of a chain's validator key, relative to the home.
pub fn validator_key_path(chain: ChainId) -> PathBuf {
    Path::new(files::KEYSTORE).join(format!("validator-{chain}.json"))
}

/// What `gont init` writes.
pub struct InitOptions<'a> {
    /// The home directory (created).
    pub home: &'a Path,
    /// The genesis to use; `None` for a one-validator local network whose
    /// only validator is this node.
    pub genesis: Option<Genesis>,
    /// The node's name.
    pub moniker: String,
    /// The passphrase of the validator keystores.
    pub passphrase: &'a str,
    /// The clock, to validate the genesis.
    pub now: Timestamp,
}

/// Writes genesis, configuration and keys into a new home; refuses an
/// existing one. Returns the configuration written.
pub fn init(options: InitOptions<'_>) -> Result<NodeConfig, HomeError> {
    let home = options.home;
    if home.join(files::CONFIG).exists() {
        return Err(HomeError::Exists(home.to_owned()));
    }
    std::fs::create_dir_all(home.join(files::KEYSTORE)).map_err(io(home))?;
    gont_net::NodeKey::load_or_create(home)?;
    let genesis = match options.genesis {
        Some(g) => g,
        None => {
            // A local network of one: this node validates the Space with a
            // fresh key, and the development accounts are funded.
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed)
                .map_err(|e| keystore::KeystoreError::Random(e.to_string()))?;
            let key = ed25519_consensus::SigningKey::from(seed);
            let mut g = Genesis::devnet(1, 0);
            g.genesis_time = options.now;
            if let Some(v) = g.validators.first_mut() {
                v.consensus_key = ConsensusKey::of(&key);
                v.name.clone_from(&options.moniker);
            }
            keystore::write(
                &home.join(validator_key_path(g.chain_id)),
                &key.to_bytes(),
                options.passphrase,
                "gont-validator",
            )?;
            g
        }
    };
    genesis
        .validate(options.now)
        .map_err(|e| HomeError::Genesis {
            path: home.join(files::GENESIS),
            message: e.to_string(),
        })?;
    let genesis_path = home.join(files::GENESIS);
    std::fs::write(&genesis_path, genesis.to_json()).map_err(io(&genesis_path))?;
    let space_key = validator_key_path(genesis.chain_id);
    let config = NodeConfig {
        moniker: options.moniker,
        p2p: P2pConfig {
            listen: "/ip4/0.0.0.0/tcp/26656".into(),
            bootstrap: Vec::new(),
        },
        metrics: None,
        storage: crate::config::StorageConfig::default(),
        txpool: crate::mempool::MempoolConfig::default(),
        rpc: crate::rpc::RpcLimits::default(),
        relayer: None,
        chains: vec![ChainConfig {
            chain_id: genesis.chain_id,
            rpc: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8545))),
            rpc_cors: Vec::new(),
            rpc_allow_unprotected_txs: false,
            validator_key: home.join(&space_key).exists().then_some(space_key),
            consensus: ConsensusNetConfig {
                listen: "/ip4/0.0.0.0/tcp/27000".into(),
                peers: Vec::new(),
            },
        }],
    };
    let config_path = home.join(files::CONFIG);
    std::fs::write(&config_path, config.to_toml()).map_err(io(&config_path))?;
    Ok(config)
}

/// The keystore file of the relayer key, relative to the home.
pub fn relayer_key_path() -> PathBuf {
    Path::new(files::KEYSTORE).join("relayer.json")
}

/// Writes the deterministic devnet relayer key of node `index` into the
/// home's keystore.
pub fn write_devnet_relayer_key(
    home: &Path,
    index: usize,
    passphrase: &str,
) -> Result<PathBuf, HomeError> {
    let rel = relayer_key_path();
    let key = gont_core::genesis::devnet_relayer_key(index);
    keystore::write_with_cost(&home.join(&rel), &key.0, passphrase, "gont-relayer", 12)?;
    Ok(rel)
}

/// Writes the deterministic devnet validator key of node `index` for
/// `chain` into the home's keystore.
pub fn write_devnet_key(
    home: &Path,
    chain: DevnetChain,
    chain_id: ChainId,
    index: usize,
    passphrase: &str,
) -> Result<PathBuf, HomeError> {
    let rel = validator_key_path(chain_id);
    let key = devnet_validator_key(chain, index);
    // The devnet's keys are public by construction; a low scrypt cost keeps
    // a many-node devnet quick to start.
    keystore::write_with_cost(
        &home.join(&rel),
        &key.to_bytes(),
        passphrase,
        "gont-validator",
        12,
    )?;
    Ok(rel)
}
