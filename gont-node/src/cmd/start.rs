//! `gont start`: runs the node of a home directory until SIGINT/SIGTERM.

use std::path::Path;

use anyhow::Result;

use super::LogFormat;

/// Set by `gont devnet` on its children: they stop when the devnet does,
/// even if it is killed.
pub(crate) const DEVNET_CHILD_ENV: &str = "GONT_DEVNET_CHILD";

/// Logs to stderr in `format`; `RUST_LOG` overrides the levels.
pub(crate) fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "info,informalsystems_malachitebft_network=off,informalsystems_malachitebft_discovery=warn,\
             informalsystems_malachitebft_core_consensus=warn,informalsystems_malachitebft_engine=warn,\
             informalsystems_malachitebft_sync=warn,libp2p=warn,ractor=warn",
        )
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(gont_node::progress::LogWriter);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// What the command line changes in every chain's configuration.
pub(crate) struct Overrides {
    /// Origins allowed instead of each chain's `rpc_cors`.
    pub(crate) rpc_cors: Option<Vec<String>>,
    /// Admit transactions without EIP-155 replay protection on every
    /// chain's JSON-RPC.
    pub(crate) rpc_allow_unprotected_txs: bool,
}

/// Runs the node of `home` until a signal (or a consensus failure), with
/// `overrides` applied to its configuration.
pub(crate) fn run(
    home: &Path,
    passphrase: Option<&str>,
    logs: LogFormat,
    overrides: &Overrides,
) -> Result<()> {
    if std::env::var_os(DEVNET_CHILD_ENV).is_some() {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
    }
    init_logs(logs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gont")
        .build()?;
    runtime.block_on(async {
        // `gont start` is the node builder with nothing added.
        let mut builder = gont_node::node::NodeBuilder::new(home);
        if let Some(passphrase) = passphrase {
            builder = builder.passphrase(passphrase);
        }
        let (cors, unprotected) = (
            overrides.rpc_cors.clone(),
            overrides.rpc_allow_unprotected_txs,
        );
        let node = builder
            .configure(move |config| {
                for chain in &mut config.chains {
                    if let Some(origins) = &cors {
                        chain.rpc_cors.clone_from(origins);
                    }
                    chain.rpc_allow_unprotected_txs |= unprotected;
                }
            })
            .launch()
            .await?;
        node.run_until_signal().await?;
        anyhow::Ok(())
    })?;
    // Actors and swarms still winding down are dropped with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(())
}
