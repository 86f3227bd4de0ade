//! The commands that make, read and repair a node's home: `gont init`,
//! `gont keys create|list|show` for its validator keys, and `gont
//! rollback`.

use std::path::Path;

use anyhow::{Context, Result};
use gont_core::{ChainId, ConsensusKey};
use gont_node::config::{NodeConfig, files};
use gont_node::{home, keystore};

use crate::{KeysCommand, Passphrase};
use gont_node::wall_clock as now;

/// Whether the node of `home` validates any chain (and so needs the
/// passphrase of its keystores).
pub(crate) fn needs_passphrase(home: &Path) -> Result<bool> {
    let config = NodeConfig::load(home)?;
    Ok(config.relayer.is_some() || config.chains.iter().any(|c| c.validator_key.is_some()))
}

pub(crate) fn init(
    home: &Path,
    genesis: Option<&Path>,
    moniker: String,
    passphrase: &Passphrase,
) -> Result<()> {
    let genesis = match genesis {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(
                gont_core::Genesis::from_json(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    // A joining node needs no key until it is made a validator.
    let passphrase = if genesis.is_none() {
        passphrase.read()?
    } else {
        String::new()
    };
    let config = home::init(home::InitOptions {
        home,
        genesis,
        moniker,
        passphrase: &passphrase,
        now: now(),
    })?;
    println!(
        "initialised {} (moniker {})",
        home.display(),
        config.moniker
    );
    for chain in &config.chains {
        let role = if chain.validator_key.is_some() {
            "validator"
        } else {
            "full node"
        };
        println!("  chain {}: {role}", chain.chain_id);
    }
    println!(
        "node key: {}",
        gont_net::NodeKey::load_or_create(home)?.id()
    );
    Ok(())
}

/// `gont keys create|list|show`: the validator keys of a node home.
/// `gont rollback`: prints what was done and what the next start does.
pub(crate) fn rollback(home: &Path, chain: u64, height: u64, hard: bool) -> Result<()> {
    let chain = ChainId(chain);
    let rolled = gont_node::rollback::rollback(home, chain, gont_core::Height(height), hard)?;
    println!("chain {chain}: head {} -> {}", rolled.from, rolled.to);
    match rolled.decided {
        Some(decided) if decided > rolled.to => println!(
            "heights {}..={decided} stay decided: the next start executes and commits them again from this node's disk",
            rolled.to.get() + 1
        ),
        _ if hard => println!(
            "no decision above height {} is kept (consensus write-ahead log removed): the next start takes the blocks from peers",
            rolled.to
        ),
        _ => {}
    }
    Ok(())
}

pub(crate) fn keys(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Create {
            home,
            chain,
            passphrase,
        } => {
            let chain = ChainId(chain);
            let rel = home::validator_key_path(chain);
            let path = home.join(&rel);
            std::fs::create_dir_all(home.join(files::KEYSTORE))
                .with_context(|| format!("creating {}", home.display()))?;
            let mut seed = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::getrandom(seed.as_mut_slice())
                .map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let passphrase = zeroize::Zeroizing::new(passphrase.read()?);
            keystore::write(&path, &seed, &passphrase, "gont-validator")?;
            let key = ConsensusKey::of(&ed25519_consensus::SigningKey::from(*seed));
            println!("created {}", path.display());
            println!("  consensus key {key}\n  address       {}", key.address());
            println!(
                "add `validator_key = \"{}\"` to chain {chain} in {}",
                rel.display(),
                home.join(files::CONFIG).display()
            );
            Ok(())
        }
        KeysCommand::List { home } => {
            let node_key = home.join(gont_net::NODE_KEY_FILE);
            if node_key.exists() {
                println!(
                    "node key   {}  ({})",
                    gont_net::NodeKey::load_or_create(&home)?.id(),
                    node_key.display()
                );
            } else {
                println!(
                    "node key   none yet ({} is created at first start)",
                    node_key.display()
                );
            }
            let dir = home.join(files::KEYSTORE);
            let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
                Ok(rd) => rd
                    .filter_map(std::result::Result::ok)
                    .map(|e| e.path())
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
            };
            entries.sort();
            let config = NodeConfig::load(&home).ok();
            for path in entries {
                // Account keystores (`gont keys account --home`) share the
                // directory; their address field tells them apart.
                if let Ok(address) = keystore::account::address_of(&path) {
                    println!("account    {address}  {}", path.display());
                    continue;
                }
                let used = config.as_ref().is_some_and(|c| {
                    c.chains.iter().any(|ch| {
                        ch.validator_key
                            .as_ref()
                            .is_some_and(|k| home.join(k) == path)
                    })
                });
                println!(
                    "validator  {}{}",
                    path.display(),
                    if used { "  (in use)" } else { "" }
                );
            }
            Ok(())
        }
        KeysCommand::Account { command } => super::keys::run(command),
        KeysCommand::Show {
            home,
            chain,
            passphrase,
        } => {
            let path = home.join(home::validator_key_path(ChainId(chain)));
            let seed = keystore::read(&path, &zeroize::Zeroizing::new(passphrase.read()?))?;
            let key = ConsensusKey::of(&ed25519_consensus::SigningKey::from(*seed));
            println!(
                "chain {chain}\n  consensus key {key}\n  address       {}",
                key.address()
            );
            Ok(())
        }
    }
}
