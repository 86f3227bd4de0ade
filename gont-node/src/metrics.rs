//! Prometheus metrics at `/metrics`: the node's own, recorded through the
//! `metrics` facade, followed by Malachite's consensus metrics (its
//! prometheus-client registry, labelled by moniker).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `gont_chain_height` | gauge | `chain` |
//! | `gont_chain_round` | gauge | `chain`: the round the last block was decided in |
//! | `gont_chain_halted` | gauge | `chain`: 1 once the chain's consensus has stopped on this node (the others go on), else 0 |
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

/// How long one connection may stay open, whatever it does (a scraper
/// that reads its answer slowly included).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The most connections served at once; one more is closed on accept.
const MAX_CONNECTIONS: usize = 64;

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
/// by hyper: 10 s to send the request head, 30 s per connection, at most
/// 64 connections at once).
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
    tokio::spawn(accept(listener, handle, MAX_CONNECTIONS));
    Ok(bound)
}

async fn accept(listener: TcpListener, handle: PrometheusHandle, max_connections: usize) {
    let open = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections));
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(error) => {
                // Out of file descriptors, most likely: wait, do not spin.
                tracing::debug!(%error, "metrics accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            // Over the cap: closed at once, nothing read.
            continue;
        };
        let handle = handle.clone();
        let service = hyper::service::service_fn(move |request| {
            let handle = handle.clone();
            async move { Ok::<_, Infallible>(respond(&request, &handle)) }
        });
        tokio::spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(socket), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(%error, "metrics connection"),
                Err(_) => tracing::debug!("metrics connection closed after {CONNECTION_TIMEOUT:?}"),
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// The answer to `GET /metrics`; empty if the server closed the
    /// connection unanswered (an end of stream or a reset).
    async fn get(addr: SocketAddr) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = b"GET /metrics HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n";
        if stream.write_all(request).await.is_err() {
            return String::new();
        }
        let mut out = Vec::new();
        match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
            .await
            .unwrap()
        {
            Ok(_) => String::from_utf8_lossy(&out).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => String::new(),
            Err(e) => panic!("reading the answer: {e}"),
        }
    }

    #[tokio::test]
    async fn connections_past_the_cap_are_closed_and_served_again_once_one_frees() {
        let handle = PrometheusBuilder::new().build_recorder().handle();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(accept(listener, handle, 2));
        // Two idle connections hold both places.
        let idle = [
            TcpStream::connect(addr).await.unwrap(),
            TcpStream::connect(addr).await.unwrap(),
        ];
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(get(addr).await, "", "a third is closed unanswered");
        drop(idle);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = get(addr).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }
}
