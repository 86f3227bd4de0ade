//! CORS for the JSON-RPC's HTTP side, so that a dapp served from another
//! origin, or a browser wallet, may call the node. Off unless configured
//! (`rpc_cors` of a chain in `config.toml`, or `gont start --rpc-cors`):
//! `*` allows any origin, as geth's `--http.corsdomain '*'`; otherwise each
//! entry is one origin, `scheme://host[:port]`. Preflight requests are
//! answered for `POST` and `GET` with the `Content-Type` header; WebSocket
//! connections are not subject to CORS.

use std::time::Duration;

use http::HeaderValue;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// A `rpc_cors` entry that is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsError {
    /// Not `*` and not `scheme://host[:port]`.
    #[error("{0:?} is not an origin (scheme://host[:port]) or *")]
    Origin(String),
    /// `*` beside origins: either any origin or a list.
    #[error("\"*\" allows every origin and cannot be listed beside others")]
    WildcardAmongOrigins,
}

/// The layer for the origins `allowed`; `None` when the list is empty.
pub fn layer(allowed: &[String]) -> Result<Option<CorsLayer>, CorsError> {
    let origin = match allowed {
        [] => return Ok(None),
        [any] if any == "*" => AllowOrigin::any(),
        list => {
            let mut origins = Vec::with_capacity(list.len());
            for entry in list {
                if entry == "*" {
                    return Err(CorsError::WildcardAmongOrigins);
                }
                origins.push(origin(entry)?);
            }
            AllowOrigin::list(origins)
        }
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([http::Method::POST, http::Method::GET])
            .allow_headers([http::header::CONTENT_TYPE])
            .max_age(MAX_AGE),
    ))
}

fn origin(entry: &str) -> Result<HeaderValue, CorsError> {
    let bad = || CorsError::Origin(entry.to_owned());
    let (scheme, rest) = entry.split_once("://").ok_or_else(bad)?;
    let host_port_ok = !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' '])
        && rest.parse::<http::uri::Authority>().is_ok();
    if !matches!(scheme, "http" | "https") || !host_port_ok {
        return Err(bad());
    }
    HeaderValue::from_str(entry).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|&e| e.to_owned()).collect()
    }

    #[test]
    fn origins_are_checked() {
        assert!(layer(&[]).unwrap().is_none());
        assert!(layer(&list(&["*"])).unwrap().is_some());
        assert!(
            layer(&list(&["http://localhost:3000", "https://app.example.org"]))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            layer(&list(&["*", "http://localhost"])).unwrap_err(),
            CorsError::WildcardAmongOrigins
        );
        for bad in [
            "localhost:3000",
            "ftp://x",
            "http://",
            "http://a/b",
            "http://a b",
        ] {
            assert_eq!(
                layer(&list(&[bad])).unwrap_err(),
                CorsError::Origin(bad.to_owned()),
                "{bad}"
            );
        }
    }
}
