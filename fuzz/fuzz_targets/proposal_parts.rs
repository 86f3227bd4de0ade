//! `cargo xtask fuzz proposal_parts`: see `gont_consensus::driver::fuzz::proposal_parts`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_consensus::driver::fuzz::proposal_parts(data));
