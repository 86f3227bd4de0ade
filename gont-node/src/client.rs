//! The JSON-RPC client of the node's own tools: `gont devnet`'s readiness
//! checks ([`RpcClient`], async), `gont status`, the load generator and the
//! tests ([`blocking::RpcClient`], for plain threads). Both are jsonrpsee's
//! HTTP client: kept-alive connections, batches, and typed errors.

use std::net::SocketAddr;
use std::time::Duration;

use gont_core::light::LightBlock;
use gont_core::{Address, U256};
use jsonrpsee::core::client::{BatchResponse, ClientT, Error as JsonRpcError};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::rpc::proofs::AccountProof;

/// How long a call may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response accepted (a batch of full blocks stays below it).
const MAX_RESPONSE: u32 = 64 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The client could not be set up (no runtime or no valid URL).
    #[error("{addr}: {reason}")]
    Setup {
        /// The endpoint.
        addr: SocketAddr,
        /// What failed.
        reason: String,
    },
    /// The exchange failed: no connection, a timeout, or an answer that is
    /// not a JSON-RPC response.
    #[error("{addr}: {source}")]
    Transport {
        /// The endpoint.
        addr: SocketAddr,
        /// jsonrpsee's error.
        source: JsonRpcError,
    },
    /// The answer is not of the shape the method documents.
    #[error("{addr}: {method} answered in an unexpected shape: {reason}")]
    Malformed {
        /// The endpoint.
        addr: SocketAddr,
        /// The method.
        method: &'static str,
        /// What did not parse.
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("{addr}: {message} (code {code})")]
    Rpc {
        /// The endpoint.
        addr: SocketAddr,
        /// JSON-RPC error code.
        code: i32,
        /// Its message.
        message: String,
    },
}

impl ClientError {
    fn from_jsonrpsee(addr: SocketAddr, error: JsonRpcError) -> Self {
        match error {
            JsonRpcError::Call(object) => Self::Rpc {
                addr,
                code: object.code(),
                message: object.message().to_owned(),
            },
            source => Self::Transport { addr, source },
        }
    }
}

/// An async JSON-RPC client of one node endpoint. Build it inside a tokio
/// runtime; [`blocking::RpcClient`] is the same for plain threads.
#[derive(Debug, Clone)]
pub struct RpcClient {
    addr: SocketAddr,
    http: HttpClient,
}

impl RpcClient {
    /// A client of the JSON-RPC server at `addr` (plain HTTP).
    pub fn new(addr: SocketAddr) -> Result<Self, ClientError> {
        let http = HttpClientBuilder::new()
            .request_timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .max_response_size(MAX_RESPONSE)
            .build(format!("http://{addr}"))
            .map_err(|e| ClientError::Setup {
                addr,
                reason: e.to_string(),
            })?;
        Ok(Self { addr, http })
    }

    /// The endpoint.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Calls `method` with `params` (a JSON array or object).
    pub async fn call(&self, method: &str, params: &Value) -> Result<Value, ClientError> {
        self.http
            .request::<Value, _>(method, Params(params))
            .await
            .map_err(|e| ClientError::from_jsonrpsee(self.addr, e))
    }

    /// Calls `method` and parses its answer as `T`.
    async fn typed<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        params: &Value,
    ) -> Result<T, ClientError> {
        let answer = self.call(method, params).await?;
        serde_json::from_value(answer).map_err(|e| ClientError::Malformed {
            addr: self.addr,
            method,
            reason: e.to_string(),
        })
    }

    /// `gont_getSignedHeader`: the decided block at `height` as a light
    /// block.
    pub async fn signed_header(&self, height: u64) -> Result<LightBlock, ClientError> {
        self.typed("gont_getSignedHeader", &json!([format!("{height:#x}")]))
            .await
    }

    /// `gont_getProof`: `address` and its `slots` after block `height`,
    /// with proofs.
    pub async fn proof(
        &self,
        address: Address,
        slots: &[U256],
        height: u64,
    ) -> Result<AccountProof, ClientError> {
        self.typed(
            "gont_getProof",
            &json!([address, slots, format!("{height:#x}")]),
        )
        .await
    }

    /// One batch request: each call's result or its JSON-RPC error, in the
    /// order of `calls`. A batch the server refuses as a whole, or a failed
    /// exchange, is the outer error.
    pub async fn batch(
        &self,
        calls: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
        let error = |e| ClientError::from_jsonrpsee(self.addr, e);
        let mut batch = BatchRequestBuilder::new();
        for (method, params) in calls {
            batch
                .insert(method, Params(params))
                .map_err(|e| error(JsonRpcError::ParseError(e)))?;
        }
        let answers: BatchResponse<'_, Value> =
            self.http.batch_request(batch).await.map_err(error)?;
        Ok(answers
            .into_iter()
            .map(|answer| {
                answer.map_err(|object| ClientError::Rpc {
                    addr: self.addr,
                    code: object.code(),
                    message: object.message().to_owned(),
                })
            })
            .collect())
    }
}

/// The client for plain threads (`gont status`, the load generator, tests).
pub mod blocking {
    use std::net::SocketAddr;

    use gont_core::light::LightBlock;
    use gont_core::{Address, U256};
    use serde_json::Value;

    use super::ClientError;
    use crate::rpc::proofs::AccountProof;

    /// [`super::RpcClient`] with its own single-thread runtime, each call
    /// blocking until its answer. Do not use it inside an async task (tokio
    /// refuses to block a worker thread); `spawn_blocking` is fine.
    #[derive(Debug)]
    pub struct RpcClient {
        runtime: tokio::runtime::Runtime,
        inner: super::RpcClient,
    }

    impl RpcClient {
        /// A client of the JSON-RPC server at `addr` (plain HTTP).
        pub fn new(addr: SocketAddr) -> Result<Self, ClientError> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| ClientError::Setup {
                    addr,
                    reason: format!("starting the client's runtime: {e}"),
                })?;
            // hyper's client registers its connections with the runtime it
            // is built in.
            let inner = {
                let _entered = runtime.enter();
                super::RpcClient::new(addr)?
            };
            Ok(Self { runtime, inner })
        }

        /// The endpoint.
        pub fn addr(&self) -> SocketAddr {
            self.inner.addr()
        }

        /// [`super::RpcClient::call`], blocking.
        pub fn call(&self, method: &str, params: &Value) -> Result<Value, ClientError> {
            self.runtime.block_on(self.inner.call(method, params))
        }

        /// [`super::RpcClient::signed_header`], blocking.
        pub fn signed_header(&self, height: u64) -> Result<LightBlock, ClientError> {
            self.runtime.block_on(self.inner.signed_header(height))
        }

        /// [`super::RpcClient::proof`], blocking.
        pub fn proof(
            &self,
            address: Address,
            slots: &[U256],
            height: u64,
        ) -> Result<AccountProof, ClientError> {
            self.runtime
                .block_on(self.inner.proof(address, slots, height))
        }

        /// [`super::RpcClient::batch`], blocking.
        pub fn batch(
            &self,
            calls: &[(&str, Value)],
        ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
            self.runtime.block_on(self.inner.batch(calls))
        }
    }

    /// Calls `method` with `params` on the JSON-RPC server at `addr`, on a
    /// client made for this one call.
    pub fn call(addr: SocketAddr, method: &str, params: &Value) -> Result<Value, ClientError> {
        RpcClient::new(addr)?.call(method, params)
    }
}

/// `params` as sent: the JSON value itself.
struct Params<'a>(&'a Value);

impl ToRpcParams for Params<'_> {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        serde_json::value::to_raw_value(self.0).map(Some)
    }
}

/// A quantity (`"0x1f"`) as a number.
pub fn quantity(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.strip_prefix("0x")?, 16).ok()
}
