//! `gont`: the GONT node.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

/// The GONT node.
#[derive(Parser)]
#[command(name = "gont", version, about = "The GONT node: GONT Space and its services", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[cfg(feature = "masternode")]
    /// Write genesis, node configuration and keys into a new home directory.
    Init {
        /// The home directory; refused if it already holds a node.
        #[arg(long)]
        home: PathBuf,
        /// A genesis file to join; without it, a one-validator local network
        /// whose validator is this node.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// The node's name.
        #[arg(long, default_value = "gont")]
        moniker: String,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    #[cfg_attr(
        feature = "masternode",
        doc = "Node and validator keys of a home, and Ethereum accounts."
    )]
    #[cfg_attr(not(feature = "masternode"), doc = "Ethereum accounts in keystores.")]
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    #[cfg(feature = "masternode")]
    /// Run a node: GONT Space and the services its config lists, as
    /// validator or follower, until Ctrl-C or SIGTERM.
    Start {
        /// The home directory (see `gont init`).
        #[arg(long)]
        home: PathBuf,
        #[command(flatten)]
        passphrase: Passphrase,
        /// Log lines as text, or as one JSON object each.
        #[arg(long, value_enum, default_value_t)]
        log_format: cmd::LogFormat,
        /// Origins allowed to call the JSON-RPC from a browser, comma
        /// separated (`*` for any, or `http://localhost:3000,…`); overrides
        /// every chain's `rpc_cors` in config.toml. Default: the config's,
        /// which is none.
        #[arg(long, value_delimiter = ',')]
        rpc_cors: Option<Vec<String>>,
        /// Admit legacy transactions without EIP-155 replay protection on
        /// every chain's JSON-RPC (refused by default, as geth does);
        /// overrides `rpc_allow_unprotected_txs` in config.toml.
        #[arg(long)]
        rpc_allow_unprotected_txs: bool,
    },
    #[cfg(feature = "masternode")]
    /// Run a local network: N validator processes on loopback, GONT Space
    /// plus example services, the development accounts funded.
    Devnet {
        /// Validators (one node process each).
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Example services, each validated by a subset of the nodes.
        #[arg(long, default_value_t = 1)]
        services: usize,
        /// Extra nodes that follow every chain with a validator key outside
        /// the genesis sets; follower i validates once account 10 + i
        /// stakes for its key.
        #[arg(long, default_value_t = 0)]
        followers: usize,
        /// Blocks per epoch on every chain (the validator set changes at
        /// epoch ends); default 20.
        #[arg(long)]
        epoch_length: Option<u64>,
        /// Blocks from `unstake` to `withdraw` on every chain; default
        /// 10000.
        #[arg(long)]
        unbonding_blocks: Option<u64>,
        /// The downtime window on every chain: a validator that signs
        /// fewer than half of the last this many blocks it was in the set
        /// for is slashed 1 % and jailed; default 100.
        #[arg(long)]
        signed_blocks_window: Option<u64>,
        /// Every chain's target block time in milliseconds: validators
        /// start a height this long after its parent's time.
        #[arg(long, default_value_t = gont_node::devnet_plan::DEVNET_BLOCK_TIME_MS)]
        block_time_ms: u64,
        /// The nodes' log format in their `node.log`.
        #[arg(long, value_enum, default_value_t)]
        log_format: cmd::LogFormat,
        /// Data directory; run again with the same one to continue.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Delete the data directory first.
        #[arg(long)]
        fresh: bool,
        /// GONT Space's JSON-RPC port; service s gets this port + s.
        #[arg(long, default_value_t = gont_node::devnet_plan::SPACE_RPC_PORT)]
        rpc_port: u16,
        /// First port of the nodes' p2p, consensus and metrics ports
        /// (node i uses 100 i more).
        #[arg(long, default_value_t = gont_node::devnet_plan::BASE_PORT)]
        base_port: u16,
    },
    #[cfg(feature = "masternode")]
    /// Roll one chain of a stopped node back to an earlier height (as
    /// `cometbft rollback`). The blocks above it stay decided and are
    /// executed again on the next start; with --hard they are removed and
    /// taken from peers again (refused for a chain this node validates).
    Rollback {
        /// The home directory.
        #[arg(long)]
        home: PathBuf,
        /// The chain (GONT Space's or a service's chain id).
        #[arg(long)]
        chain: u64,
        /// The height that becomes the chain's head.
        #[arg(long)]
        height: u64,
        /// Remove the decided blocks above the height too, with the
        /// chain's consensus write-ahead log.
        #[arg(long)]
        hard: bool,
    },
    /// The GONT VM alone, with no consensus and no network.
    #[cfg(feature = "abi")]
    Vm {
        #[command(subcommand)]
        command: cmd::vm::VmCommand,
    },
    /// Check a service's state against GONT Space alone: a light client of
    /// the Space, the service's anchored checkpoint, and a state proof.
    Verify {
        #[command(subcommand)]
        command: VerifyCommand,
    },
    /// Height, peers, validators and sync state per chain of a running node.
    Status {
        /// The node's home (its first JSON-RPC address is asked).
        #[arg(long, conflicts_with = "rpc")]
        home: Option<PathBuf>,
        /// A JSON-RPC address to ask.
        #[arg(long, default_value = "127.0.0.1:8545")]
        rpc: std::net::SocketAddr,
    },
}

#[derive(Subcommand)]
enum VerifyCommand {
    /// An account (balance, nonce, code hash) and storage slots of a
    /// service, proven at its latest checkpoint anchored in GONT Space.
    Account {
        /// The account.
        address: gont_core::Address,
        /// The service, by name or id.
        #[arg(long)]
        service: String,
        /// A storage slot to prove too (repeatable).
        #[arg(long = "slot")]
        slots: Vec<gont_core::U256>,
        /// GONT Space's JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        space: String,
        /// The service's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// Trust this Space block (HEIGHT:HASH) instead of the Space
        /// genesis served by --space.
        #[arg(long)]
        trust: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    #[cfg(feature = "masternode")]
    /// Create a validator key for a chain, encrypted with a passphrase.
    Create {
        /// The home directory.
        #[arg(long)]
        home: PathBuf,
        /// The chain the key validates (GONT Space's or a service's chain id).
        #[arg(long)]
        chain: u64,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    #[cfg(feature = "masternode")]
    /// List the node key, the validator keystores and the account
    /// keystores of a home.
    List {
        /// The home directory.
        #[arg(long)]
        home: PathBuf,
    },
    #[cfg(feature = "masternode")]
    /// Show a chain's validator public key and address (needs the passphrase).
    Show {
        /// The home directory.
        #[arg(long)]
        home: PathBuf,
        /// The chain.
        #[arg(long)]
        chain: u64,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    /// Ethereum accounts in a keystore directory (geth's layout, which
    /// geth and MetaMask import): new, import, list, export-address.
    Account {
        #[command(subcommand)]
        command: cmd::keys::AccountCommand,
    },
}

/// Where the keystore passphrase comes from: a file, or the environment.
#[derive(clap::Args)]
struct Passphrase {
    /// A file holding the passphrase (its first line).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

/// The environment variable read when no passphrase file is given.
const PASSPHRASE_ENV: &str = "GONT_PASSPHRASE";

impl Passphrase {
    fn read(&self) -> Result<String> {
        if let Some(path) = &self.passphrase_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading passphrase file {}", path.display()))?;
            return Ok(text.lines().next().unwrap_or_default().to_owned());
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(p) if !p.is_empty() => Ok(p),
            _ => bail!("no passphrase: pass --passphrase-file FILE or set {PASSPHRASE_ENV}"),
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        #[cfg(feature = "masternode")]
        Command::Init {
            home,
            genesis,
            moniker,
            passphrase,
        } => cmd::home::init(&home, genesis.as_deref(), moniker, &passphrase),
        Command::Keys {
            command: KeysCommand::Account { command },
        } => cmd::keys::run(command),
        #[cfg(feature = "masternode")]
        Command::Keys { command } => cmd::home::keys(command),
        #[cfg(feature = "masternode")]
        Command::Start {
            home,
            passphrase,
            log_format,
            rpc_cors,
            rpc_allow_unprotected_txs,
        } => {
            let passphrase = if cmd::home::needs_passphrase(&home)? {
                Some(passphrase.read()?)
            } else {
                None
            };
            cmd::start::run(
                &home,
                passphrase.as_deref(),
                log_format,
                &cmd::start::Overrides {
                    rpc_cors,
                    rpc_allow_unprotected_txs,
                },
            )
        }
        #[cfg(feature = "masternode")]
        Command::Devnet {
            validators,
            services,
            followers,
            epoch_length,
            unbonding_blocks,
            signed_blocks_window,
            block_time_ms,
            log_format,
            dir,
            fresh,
            rpc_port,
            base_port,
        } => cmd::devnet::run(&cmd::devnet::Options {
            dir: dir.unwrap_or_else(cmd::devnet::default_dir),
            shape: gont_node::devnet_plan::DevnetShape {
                validators,
                services,
                followers,
                epoch_length,
                unbonding_period_blocks: unbonding_blocks,
                signed_blocks_window,
                block_time_ms: Some(block_time_ms),
            },
            fresh,
            log_format,
            ports: gont_node::devnet_plan::DevnetPorts {
                rpc: rpc_port,
                base: base_port,
            },
        }),
        #[cfg(feature = "abi")]
        Command::Vm { command } => cmd::vm::run(command),
        Command::Verify {
            command:
                VerifyCommand::Account {
                    address,
                    service,
                    slots,
                    space,
                    rpc,
                    trust,
                },
        } => cmd::verify::run(&gont_node::verify::Request {
            address,
            service,
            slots,
            space: cmd::verify::endpoint(&space)?,
            service_rpc: cmd::verify::endpoint(&rpc)?,
            trust: trust.as_deref().map(cmd::verify::trust).transpose()?,
        }),
        #[cfg(feature = "masternode")]
        Command::Rollback {
            home,
            chain,
            height,
            hard,
        } => cmd::home::rollback(&home, chain, height, hard),
        Command::Status { home, rpc } => {
            let rpc = match home {
                Some(home) => cmd::status::rpc_of_home(&home)?,
                None => rpc,
            };
            cmd::status::run(rpc)
        }
    }
}
