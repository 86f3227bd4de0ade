//! `cargo xtask fuzz gossip`: see `gont_net::fuzz::gossip`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_net::fuzz::gossip(data));
