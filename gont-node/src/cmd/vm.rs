//! `gont vm`: the GONT VM alone. `gont vm rpc` runs one chain with no
//! consensus, sealing blocks per transaction or per interval, and serves
//! its Ethereum JSON-RPC: a local development chain, as anvil is for
//! Ethereum ([`gont_node::standalone`]). `gont vm abci` runs it as an ABCI
//! 2.0 application for CometBFT ([`gont_node::abci`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use gont_core::genesis::{DEV_ACCOUNT_BALANCE, DEV_ADDRESSES, DEV_MNEMONIC, DEV_PRIVATE_KEYS};
use gont_core::{ChainId, Genesis};
use gont_node::standalone::{Sealing, Standalone};

/// `gont vm …`.
#[derive(clap::Subcommand)]
pub(crate) enum VmCommand {
    /// One chain, no consensus: seal blocks per transaction (default) or
    /// per interval and serve the node's Ethereum JSON-RPC (HTTP and
    /// WebSocket), as anvil does.
    Rpc {
        /// The genesis; without it, a development genesis whose accounts
        /// are those of the development mnemonic (printed at start).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Run this chain of the genesis (a service's chain id); default
        /// its GONT Space.
        #[arg(long)]
        chain: Option<u64>,
        /// Keep the chain in this directory and continue it when run again
        /// (with the development genesis, that too: `genesis.json` there);
        /// without it, a temporary directory removed at exit.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seal a block every MS milliseconds, empty or not.
        #[arg(long, value_name = "MS", conflicts_with = "instant")]
        block_time: Option<u64>,
        /// Seal a block as soon as a transaction arrives (the default).
        #[arg(long)]
        instant: bool,
        /// The JSON-RPC address.
        #[arg(long, default_value = "127.0.0.1:8545")]
        listen: SocketAddr,
        /// Origins allowed to call from a browser, comma separated (`*`
        /// for any, the default on a development chain).
        #[arg(long, value_delimiter = ',', default_value = "*")]
        rpc_cors: Vec<String>,
        /// Admit legacy transactions without EIP-155 replay protection
        /// (refused by default, as geth refuses them).
        #[arg(long)]
        rpc_allow_unprotected_txs: bool,
    },
    /// The VM as an ABCI 2.0 application (CometBFT 0.38): CometBFT decides
    /// the blocks, the VM executes them; the chain's Ethereum JSON-RPC
    /// beside it with `--rpc`.
    Abci {
        /// The application's home: `genesis.json` and `data/`.
        #[arg(long)]
        home: PathBuf,
        /// The ABCI socket: `tcp://HOST:PORT` or `unix://PATH`.
        #[arg(long, default_value = "tcp://127.0.0.1:26658")]
        listen: gont_node::abci::Listen,
        /// Serve the chain's Ethereum JSON-RPC (HTTP and WebSocket) here.
        #[arg(long)]
        rpc: Option<SocketAddr>,
        /// The GONT genesis used when CometBFT's `app_state` is empty;
        /// without either, the development genesis at CometBFT's genesis
        /// time.
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
}

pub(crate) fn run(command: VmCommand) -> Result<()> {
    match command {
        VmCommand::Rpc {
            genesis,
            chain,
            data,
            block_time,
            instant: _,
            listen,
            rpc_cors,
            rpc_allow_unprotected_txs,
        } => {
            let sealing = match block_time {
                Some(0) => anyhow::bail!("--block-time must be at least 1 ms"),
                Some(ms) => Sealing::Interval(Duration::from_millis(ms)),
                None => Sealing::Instant,
            };
            rpc(&RpcOptions {
                genesis,
                chain: chain.map(ChainId),
                data,
                sealing,
                listen,
                cors: rpc_cors,
                allow_unprotected: rpc_allow_unprotected_txs,
            })
        }
        VmCommand::Abci {
            home,
            listen,
            rpc,
            genesis,
        } => abci(&home, listen, rpc, genesis.as_deref()),
    }
}

fn read_genesis(path: &std::path::Path) -> Result<Genesis> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Genesis::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn abci(
    home: &std::path::Path,
    listen: gont_node::abci::Listen,
    rpc: Option<SocketAddr>,
    genesis: Option<&std::path::Path>,
) -> Result<()> {
    init_logs();
    let genesis = genesis.map(read_genesis).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gont-abci")
        .build()?;
    let app = {
        // Opening a chain kept in the home starts its JSON-RPC on this
        // runtime.
        let _entered = runtime.enter();
        gont_node::abci::AbciApp::open(home, genesis, rpc)?
    };
    match &listen {
        gont_node::abci::Listen::Tcp(addr) => println!("ABCI at tcp://{addr}"),
        gont_node::abci::Listen::Unix(path) => println!("ABCI at unix://{}", path.display()),
    }
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            served = gont_node::abci::serve(app, listen) => {
                served.map_err(|e| anyhow::anyhow!("ABCI server: {e}"))
            }
            _ = tokio::signal::ctrl_c() => Ok(()),
            _ = term.recv() => Ok(()),
        }
    })?;
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// The development genesis a `--data` directory keeps.
const DEVELOPMENT_GENESIS: &str = "genesis.json";

struct RpcOptions {
    genesis: Option<PathBuf>,
    chain: Option<ChainId>,
    data: Option<PathBuf>,
    sealing: Sealing,
    listen: SocketAddr,
    cors: Vec<String>,
    allow_unprotected: bool,
}

fn rpc(options: &RpcOptions) -> Result<()> {
    init_logs();
    let now = gont_node::wall_clock();
    // A development chain kept in `--data` keeps its genesis there: made
    // at the first start (its time is that start's), read at the next.
    let kept = options
        .data
        .as_ref()
        .map(|dir| dir.join(DEVELOPMENT_GENESIS));
    let (genesis, development) = match (&options.genesis, &kept) {
        (Some(path), _) => (read_genesis(path)?, false),
        (None, Some(kept)) if kept.exists() => (read_genesis(kept)?, true),
        (None, _) => {
            let mut genesis = Genesis::devnet(1, 0);
            genesis.genesis_time = now;
            (genesis, true)
        }
    };
    // A temporary chain lives as long as this guard.
    let (dir, _temporary) = match &options.data {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            (dir.clone(), None)
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("gont-vm-")
                .tempdir()
                .context("creating a temporary data directory")?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let vm = Arc::new(
        options
            .chain
            .into_iter()
            .fold(Standalone::builder(&dir, genesis.clone()), |b, chain| {
                b.chain(chain)
            })
            .open(now)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?,
    );
    if development && let Some(kept) = kept.filter(|k| !k.exists()) {
        std::fs::write(&kept, genesis.to_json())
            .with_context(|| format!("writing {}", kept.display()))?;
    }
    vm.backend()
        .set_allow_unprotected_txs(options.allow_unprotected);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gont-vm")
        .build()?;
    runtime.block_on(async {
        let server = vm.serve(options.listen, &options.cors).await?;
        print_banner(&vm, options, &dir, development, server.addr)?;
        let sealer = tokio::spawn(vm.clone().run_sealer(options.sealing));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        sealer.abort();
        server.stop().await;
        anyhow::Ok(())
    })?;
    println!("stopped at height {}", vm.height()?);
    Ok(())
}

fn print_banner(
    vm: &Standalone,
    options: &RpcOptions,
    dir: &std::path::Path,
    development: bool,
    addr: SocketAddr,
) -> Result<()> {
    let sealing = match options.sealing {
        Sealing::Instant => "a block per transaction".to_owned(),
        Sealing::Interval(every) => format!("a block every {} ms", every.as_millis()),
    };
    println!(
        "GONT VM: chain {}, no consensus, {sealing}; height {}",
        vm.chain_id(),
        vm.height()?
    );
    match options.data {
        Some(_) => println!("Data: {}", dir.display()),
        None => println!(
            "Data: {} (removed at exit; --data DIR keeps it)",
            dir.display()
        ),
    }
    if development {
        println!(
            "\nDevelopment accounts, {} ether each (mnemonic \"{DEV_MNEMONIC}\"):",
            DEV_ACCOUNT_BALANCE / gont_core::U256::from(10u64).pow(gont_core::U256::from(18u64))
        );
        for (i, (address, key)) in DEV_ADDRESSES.iter().zip(DEV_PRIVATE_KEYS).enumerate() {
            println!("  ({i}) {address}  {key}");
        }
    }
    println!("\nJSON-RPC at http://{addr} and ws://{addr}");
    Ok(())
}

/// Logs to stderr; `RUST_LOG` overrides the level.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
