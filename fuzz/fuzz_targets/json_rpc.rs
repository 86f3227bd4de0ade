//! `cargo xtask fuzz json_rpc`: see `gont_node::fuzz::json_rpc`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_node::fuzz::json_rpc(data));
