//! `cargo xtask fuzz raw_transaction`: see `gont_core::fuzz::raw_transaction`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_core::fuzz::raw_transaction(data));
