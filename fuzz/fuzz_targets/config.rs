//! `cargo xtask fuzz config`: see `gont_node::fuzz::config`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_node::fuzz::config(data));
