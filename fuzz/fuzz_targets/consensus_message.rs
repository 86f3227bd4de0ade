//! `cargo xtask fuzz consensus_message`: see `gont_consensus::driver::fuzz::consensus_message`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_consensus::driver::fuzz::consensus_message(data));
