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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// How long a client may take to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Installs the process's recorder and serves `/metrics` on `addr` (HTTP/1.1
/// by hyper).
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
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        let service = hyper::service::service_fn(move |request| {
            let handle = handle.clone();
            async move { Ok::<_, Infallible>(respond(&request, &handle)) }
        });
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(socket), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "metrics connection");
            }
        });
    }
}

/// `GET /metrics`: the recorder's metrics, then Malachite's; anything else
/// is 404 or 405.
fn respond(request: &Request<Incoming>, handle: &PrometheusHandle) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    if request.uri().path() != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "metrics are at /metrics\n".to_owned(),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n".to_owned());
    }
    let mut body = handle.render();
    gont_consensus::driver::export_metrics(&mut body);
    let mut response = reply(StatusCode::OK, body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
