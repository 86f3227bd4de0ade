//! `cargo xtask fuzz genesis`: see `gont_core::fuzz::genesis`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gont_core::fuzz::genesis(data));
