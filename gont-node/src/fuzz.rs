//! Fuzz targets for what this crate decodes from outside bytes: node
//! configuration files, and JSON-RPC requests through the chain's method
//! table (the parameters of every method, on a real chain: revm on a redb
//! store). `cargo xtask fuzz` runs them under libFuzzer (the `fuzz/`
//! crate); the tests below replay the committed corpora
//! (`fuzz/corpus/<target>/`), so that CI runs every input found so far.

use std::path::Path;
use std::sync::OnceLock;

use gont_core::{Genesis, Timestamp};

use crate::config::NodeConfig;
use crate::standalone::Standalone;

/// Parses `data` as a node's `config.toml`; one that parses must parse
/// again from its own TOML to the same configuration.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("config.toml");
    let Ok(config) = NodeConfig::from_toml(text, path) else {
        return;
    };
    match NodeConfig::from_toml(&config.to_toml(), path) {
        Ok(again) if again == config => {}
        Ok(again) => panic!("a config differs after its own TOML: {config:?} then {again:?}"),
        Err(e) => panic!("a config does not parse from its own TOML: {e}"),
    }
}

/// One chain the JSON-RPC target asks: a development chain (`gont vm
/// rpc`'s) in a temporary directory, with its runtime, made once per
/// process.
struct Chain {
    vm: Standalone,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

// The target cannot run without its chain: a failure to open it is fatal.
#[allow(clippy::expect_used)]
fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut genesis = Genesis::devnet(1, 0);
        genesis.genesis_time = Timestamp(1_700_000_000_000);
        let vm = Standalone::open(dir.path(), &genesis, None, genesis.genesis_time)
            .expect("the development chain opens");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Chain {
            vm,
            runtime,
            _dir: dir,
        }
    })
}

/// Sends `data` as a JSON-RPC request (or batch) to the chain; every
/// answer must be JSON.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn json_rpc(data: &[u8]) {
    let Ok(request) = std::str::from_utf8(data) else {
        return;
    };
    let chain = chain();
    let answer = chain.runtime.block_on(chain.vm.rpc(request));
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&answer) {
        panic!("the answer to {request:?} is not JSON ({e}): {answer}");
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use gont_core::fuzz::replay;

    #[test]
    fn the_config_corpus_replays_without_a_failure() {
        assert!(replay("config", super::config).unwrap() > 0);
    }

    #[test]
    fn the_json_rpc_corpus_replays_without_a_failure() {
        assert!(replay("json_rpc", super::json_rpc).unwrap() > 0);
    }
}
