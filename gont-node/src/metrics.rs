//! Prometheus metrics at `/metrics`: the node's own, recorded through the
//! `metrics` facade, followed by Malachite's consensus metrics (its
//! prometheus-client registry, labelled by moniker).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `gont_chain_height` | gauge | `chain` |
//! | `gont_chain_round` | gauge | `chain`: the round the last block was decided in |
//! | `gont_block_interval_seconds` | histogram | `chain` |
//! | `gont_block_transactions` | histogram | `chain` |
//! | `gont_mempool_transactions` | gauge | `chain` |
//! | `gont_block_commit_seconds` | histogram | `chain`: execution and storage of a decided block |
//! | `gont_p2p_peers` | gauge | |
//! | `gont_consensus_peers` | gauge | `chain`: connected peers of the chain's consensus network |
//! | `gont_consensus_last_signed_height` | gauge | `chain`: the last height whose commit carries this validator's precommit |
//! | `gont_rpc_request_seconds` | histogram | `chain`, `method` |

use std::net::SocketAddr;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Why metrics could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The recorder could not be installed (one per process).
    #[error("installing the metrics recorder: {0}")]
    Recorder(String),
    /// The address could not be bound.
    #[error("metrics listener on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
}

/// Installs the process's recorder and serves `/metrics` on `addr`.
pub async fn serve(addr: SocketAddr) -> Result<SocketAddr, MetricsError> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| MetricsError::Recorder(e.to_string()))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| MetricsError::Bind { addr, source })?;
    tokio::spawn(accept(listener, handle));
    Ok(bound)
}

async fn accept(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let mut read = 0;
            // Read the request head (bounded); only its first line matters.
            while read < request.len() {
                match socket
                    .read(request.get_mut(read..).unwrap_or_default())
                    .await
                {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        read += n;
                        if request
                            .get(..read)
                            .is_some_and(|r| r.windows(4).any(|w| w == b"\r\n\r\n"))
                        {
                            break;
                        }
                    }
                }
            }
            let head = String::from_utf8_lossy(request.get(..read).unwrap_or_default());
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let response = if path == "/metrics" || path.starts_with("/metrics?") {
                let mut body = handle.render();
                gont_consensus::driver::export_metrics(&mut body);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                let body = "metrics are at /metrics\n";
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}
