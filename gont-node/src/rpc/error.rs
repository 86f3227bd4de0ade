//! JSON-RPC errors with geth's codes and messages.
//!
//! | code | when |
//! |---|---|
//! | -32700 | the body is not JSON (jsonrpsee) |
//! | -32600 | not a JSON-RPC request, or a batch over the limit |
//! | -32601 | no such method (jsonrpsee) |
//! | -32602 | wrong parameters |
//! | -32000 | the request is well-formed but cannot be served (geth's generic server error), or timed out |
//! | 3 | execution reverted, with the revert data |
//! | -32005 | a limit was hit (log range, response size) |

use gont_core::Bytes;
use jsonrpsee::types::ErrorObjectOwned;

/// geth's code for an invalid parameter.
pub const INVALID_PARAMS: i32 = -32602;
/// geth's generic server error.
pub const SERVER_ERROR: i32 = -32000;
/// geth's code for a reverted call, with the revert data.
pub const EXECUTION_REVERTED: i32 = 3;
/// A request over one of the node's limits.
pub const LIMIT_EXCEEDED: i32 = -32005;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Wrong parameters.
    #[error("{0}")]
    InvalidParams(String),
    /// The transaction or call was refused; the message is geth's.
    #[error("{0}")]
    Refused(String),
    /// The call reverted.
    #[error("execution reverted{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// The decoded `Error(string)` reason, if any.
        reason: Option<String>,
        /// The raw revert data.
        data: Bytes,
    },
    /// A limit was hit.
    #[error("{0}")]
    Limit(String),
    /// The node failed (storage, execution): not the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
    /// A method that executes or scans ran out of time (geth's wording).
    #[error("execution aborted (timeout = {})", go_duration(*.0))]
    Timeout(std::time::Duration),
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        let message = e.to_string();
        match e {
            RpcError::InvalidParams(_) => {
                ErrorObjectOwned::owned(INVALID_PARAMS, message, None::<()>)
            }
            RpcError::Refused(_) | RpcError::Internal(_) | RpcError::Timeout(_) => {
                ErrorObjectOwned::owned(SERVER_ERROR, message, None::<()>)
            }
            RpcError::Reverted { data, .. } => {
                ErrorObjectOwned::owned(EXECUTION_REVERTED, message, Some(data))
            }
            RpcError::Limit(_) => ErrorObjectOwned::owned(LIMIT_EXCEEDED, message, None::<()>),
        }
    }
}

/// A duration as Go prints one (`5s`, `250ms`), as geth's messages show it.
fn go_duration(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The reason of a revert whose data is `Error(string)`, as solc encodes it.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    use alloy_sol_types::SolError;
    alloy_sol_types::Revert::abi_decode(data)
        .ok()
        .map(|r| r.reason)
}
