//! A minimal blocking JSON-RPC client over HTTP/1.1, for `gont status`,
//! the devnet's readiness checks and the load generator: enough for a
//! node's own endpoints on a trusted network, without an HTTP stack.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection or the exchange failed.
    #[error("{addr}: {source}")]
    Io {
        /// The endpoint.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
    /// The answer was not a JSON-RPC response.
    #[error("{addr}: malformed response: {reason}")]
    Malformed {
        /// The endpoint.
        addr: SocketAddr,
        /// What was wrong.
        reason: String,
    },
    /// The node answered with an error.
    #[error("{addr}: {message} (code {code})")]
    Rpc {
        /// The endpoint.
        addr: SocketAddr,
        /// JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
}

/// Calls `method` with `params` on the JSON-RPC server at `addr`.
pub fn call(addr: SocketAddr, method: &str, params: &Value) -> Result<Value, ClientError> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let io = |source| ClientError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io)?;
    let malformed = |reason: &str| ClientError::Malformed {
        addr,
        reason: reason.to_owned(),
    };
    let text = String::from_utf8(response).map_err(|_| malformed("not UTF-8"))?;
    let (_, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| malformed("no HTTP body"))?;
    let value: Value = serde_json::from_str(body).map_err(|e| malformed(&e.to_string()))?;
    if let Some(error) = value.get("error") {
        return Err(ClientError::Rpc {
            addr,
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        });
    }
    value
        .get("result")
        .cloned()
        .ok_or_else(|| malformed("neither result nor error"))
}

/// A quantity (`"0x1f"`) as a number.
pub fn quantity(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.strip_prefix("0x")?, 16).ok()
}
